// What session.cpp and strings.cpp share: a session's state, the command table's
// shape, and reading and writing a key through the core. Not part of the API.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/errc.h"
#include "replica/datatypes.h"
#include "replica/messages.h"
#include "resp/protocol.h"
#include "resp/session.h"

namespace shoal::resp {

struct Session::State {
    State(Core& c, SessionConfig cfg) : core(c), config(std::move(cfg)) {}
    Core& core;
    SessionConfig config;
    std::size_t db = 0;
    bool resp3 = false;
    tls::Role role = config.role;  // AUTH may raise it
    std::string auth_token;        // the token AUTH took, looked up again after a reload
    std::uint64_t auth_generation = 0;
    // The selected database's namespace.
    const std::string& ns() const { return config.databases[db]; }
    // The namespace `key` is in: its longest prefix's (SessionConfig::prefixes), else ns().
    const std::string& ns_of(std::string_view key) const {
        const PrefixNamespace* best = nullptr;
        for (const auto& p : config.prefixes)
            if (key.starts_with(p.prefix) && (best == nullptr || p.prefix.size() > best->prefix.size())) best = &p;
        return best != nullptr ? best->ns : ns();
    }
    // The context of this connection's last read of each set key (by namespace and
    // key): what an SREM removes from. At most k_max_read_contexts; past it the oldest
    // half is forgotten (an SREM of one of those asks for a read again).
    std::map<std::string, replica::VersionVector, std::less<>> read_contexts;
    // SHOAL.OPTIONS: quorums and a timeout for every request of the connection (0: the
    // namespace's or the node's default).
    replica::RequestOptions options;
    std::uint32_t last_write_acks = 0;  // WAIT: the replicas that acknowledged the last write
    std::string client_name;            // CLIENT SETNAME
};
inline constexpr std::size_t k_max_read_contexts = 1024;
using State = Session::State;
using StatePtr = std::shared_ptr<State>;
using Reply = std::function<void(std::string)>;

struct Command {
    const char* name;
    int arity;  // > 0: exactly this many words (the name included); < 0: at least -arity
    void (*run)(StatePtr s, std::vector<std::string> args, Reply done);
};
inline bool arity_ok(const Command& c, std::size_t n) {
    return c.arity > 0 ? n == static_cast<std::size_t>(c.arity) : n >= static_cast<std::size_t>(-c.arity);
}
const Command* find_string_command(const std::string& upper_name);  // strings.cpp
// The command for a namespace of data type `datatype` (sets.cpp: SADD ... on a set,
// INCR ... on a counter); nullptr when it has none of that name.
const Command* find_datatype_command(const std::string& datatype, const std::string& upper_name);
// Whether `upper_name` is a data-type command of any type (to refuse it on strings).
bool is_datatype_command(const std::string& upper_name);
const Command* find_hash_command(const std::string& upper_name);  // hashes.cpp
const Command* find_scan_command(const std::string& upper_name);  // scan.cpp: SCAN

// Reading and updating data-type keys (sets.cpp), for the data-type command files.
inline constexpr std::string_view k_wrongtype = "WRONGTYPE Operation against a key holding the wrong kind of value";
struct StateRead {
    errc code = errc::ok;
    replica::ClientReply reply;
    replica::dt::State state;
};
// Reads the key and merges its siblings into one state of `type`; `record`: remember
// the read's context for SREM.
void read_state(const StatePtr& s, replica::dt::Type type, const std::string& key, bool record,
                std::function<void(StateRead)> done);
// Sends one update; `done` gets the state after it (the leader's, merged).
void send_update(const StatePtr& s, replica::dt::Type type, const std::string& key, const replica::dt::Update& update,
                 std::function<void(StateRead)> done);
// The reply for a failed read or update: WRONGTYPE, or the error with its counts.
std::string failed(const StateRead& r);

void hello(State& s, const std::vector<std::string>& args, std::string& out);
// AUTH [name] token (also HELLO's AUTH): "" when it took, else the error reply's text.
std::string authenticate(State& s, const std::string* name, const std::string& token);
// Whether a string command only reads (GET, MGET, EXISTS, TTL, PTTL, STRLEN, TYPE).
bool reads_only(const std::string& upper_name);

// Command names and options are ASCII, matched without case.
inline std::string lower(std::string s) {
    for (char& c : s) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    return s;
}
inline std::string upper(std::string_view text) {
    std::string s(text);
    for (char& c : s) c = (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
    return s;
}

// Replies the command files share.
inline std::string error(std::string_view text) {
    std::string out;
    put_error(out, text);
    return out;
}
inline std::string simple(std::string_view text) {
    std::string out;
    put_simple(out, text);
    return out;
}
inline std::string integer(std::int64_t v) {
    std::string out;
    put_integer(out, v);
    return out;
}
// "ERR ..." for a failed request, with the replicas counted where that helps.
inline std::string error_text(errc code, const replica::ClientReply& r) {
    if (code == errc::unavailable && r.required)
        return "ERR " + replica::unavailable_text(r.replies, r.required, r.primaries, r.primaries_down);
    std::string text = "ERR " + make_error_code(code).message();
    if (r.required && (code == errc::quorum_not_met || code == errc::timeout))
        text += " (" + std::to_string(r.replies) + " of " + std::to_string(r.required) + " replicas answered)";
    return text;
}

// Every request a command makes goes through here: the connection's SHOAL.OPTIONS
// fill what the request leaves at 0, and a write's acknowledgements are kept for WAIT.
inline void submit(const StatePtr& s, replica::ClientRequest q, std::function<void(replica::ClientReply)> done) {
    auto& o = q.options;
    const auto& c = s->options;
    for (auto [mine, given] : {std::pair{&o.n, c.n}, {&o.r, c.r}, {&o.w, c.w}, {&o.pr, c.pr}, {&o.pw, c.pw}})
        if (*mine == 0) *mine = given;
    if (o.timeout_ms == 0) o.timeout_ms = c.timeout_ms;
    const bool write = q.op != replica::ClientOp::get && q.op != replica::ClientOp::list;
    s->core.call(std::move(q), [s, write, done = std::move(done)](replica::ClientReply reply) {
        if (write && reply.code == errc::ok) s->last_write_acks = reply.replies;
        done(std::move(reply));
    });
}

// Shoal's own commands (shoal_commands.cpp): SHOAL.GET and SHOAL.PUT.
const Command* find_shoal_command(const std::string& upper_name);
// The connection commands that change or show its settings (shoal_commands.cpp):
// SHOAL.OPTIONS, WAIT, CONFIG, COMMAND, CLIENT, RESET. False when `name` is none.
bool connection_command(State& s, const std::string& upper_name, const std::vector<std::string>& args,
                        std::string& out);

// A key as one read found it.
struct Read {
    errc code = errc::ok;        // ok (found or not), or why the read failed
    replica::ClientReply reply;  // for the error's counts
    bool found = false;
    std::size_t siblings = 0;
    std::string value;
    replica::VersionVector context;
    Time expires;  // {0}: none
};

// What a read-modify-write command writes next.
struct Write {
    bool del = false;
    std::string value;
    Time expires_at;  // {0}: no expiry of its own
};

}  // namespace shoal::resp
