// What Redis cannot say and what client libraries and pools send on connect:
//   SHOAL.GET key              -> [context, [value, ...]]: every sibling and the context
//   SHOAL.PUT key context val  -> +OK: a write that supersedes what that context saw
//   SHOAL.OPTIONS [R q] [W q] [N n] [PR q] [PW q] [TIMEOUT ms] | RESET
//                              -> quorums for every request of this connection (q: a
//                                 number, one, quorum or all); with no argument, the
//                                 current ones
//   WAIT numreplicas timeout   -> how many replicas acknowledged this connection's last
//                                 write (every write waits for w before it answers)
//   CONFIG GET pattern, COMMAND [COUNT|DOCS|INFO], CLIENT SETNAME|GETNAME|ID|INFO|..., RESET
#include "replica/codec.h"
#include "resp/protocol.h"
#include "resp/session_internal.h"

namespace shoal::resp {

namespace {

using replica::ClientOp;
using replica::ClientReply;
using replica::ClientRequest;

void cmd_shoal_get(StatePtr s, std::vector<std::string> a, Reply done) {
    ClientRequest q;
    q.op = ClientOp::get;
    q.key = a[1];
    q.options.ns = s->ns_of(q.key);
    submit(s, std::move(q), [done = std::move(done)](ClientReply r) {
        if (r.code != errc::ok && r.code != errc::not_found) return done(error(error_text(r.code, r)));
        std::string out;
        put_array(out, 2);
        put_bulk(out, replica::context_to_token(r.context));
        put_array(out, r.siblings.size());
        for (const auto& sib : r.siblings) put_bulk(out, sib.value);
        done(std::move(out));
    });
}

void cmd_shoal_put(StatePtr s, std::vector<std::string> a, Reply done) {
    ClientRequest q;
    q.op = ClientOp::put;
    q.key = a[1];
    if (replica::context_from_token(a[2], q.context))
        return done(error("ERR the context does not decode: pass the first element of a SHOAL.GET reply (or \"\")"));
    q.value = a[3];
    q.options.ns = s->ns_of(q.key);
    submit(s, std::move(q), [done = std::move(done)](ClientReply w) {
        if (w.code == errc::wrong_type) return done(error(k_wrongtype));
        done(w.code == errc::ok ? simple("OK") : error(error_text(w.code, w)));
    });
}

constexpr Command k_shoal_commands[] = {
    {"SHOAL.GET", 2, cmd_shoal_get},
    {"SHOAL.PUT", 4, cmd_shoal_put},
};

// A quorum as SHOAL.OPTIONS takes it: 1..k_max_replicas, or one, quorum, all.
bool quorum_of(const std::string& text, bool zero_ok, std::uint32_t& out) {
    const std::string l = lower(text);
    if (replica::quorum_by_name(l == "majority" ? "quorum" : l, out)) return true;
    std::int64_t v = 0;
    if (!to_int64(text, v) || v < (zero_ok ? 0 : 1) || v > static_cast<std::int64_t>(k_max_replicas)) return false;
    out = static_cast<std::uint32_t>(v);
    return true;
}

std::string quorum_text(std::uint32_t q) {
    if (q == replica::k_quorum_one) return "one";
    if (q == replica::k_quorum_majority) return "quorum";
    if (q == replica::k_quorum_all) return "all";
    return q == 0 ? "default" : std::to_string(q);
}

void shoal_options(State& s, const std::vector<std::string>& args, std::string& out) {
    if (args.size() == 2 && upper(args[1]) == "RESET") {
        s.options = {};
        return put_simple(out, "OK");
    }
    if (args.size() == 1) {
        put_map(out, 6, s.resp3);
        for (auto [name, q] : {std::pair{"n", s.options.n}, {"r", s.options.r}, {"w", s.options.w},
                               {"pr", s.options.pr}, {"pw", s.options.pw}}) {
            put_bulk(out, name);
            put_bulk(out, quorum_text(q));
        }
        put_bulk(out, "timeout_ms");
        put_bulk(out, s.options.timeout_ms == 0 ? "default" : std::to_string(s.options.timeout_ms));
        return;
    }
    if (args.size() % 2 != 1) return put_error(out, "ERR SHOAL.OPTIONS takes NAME VALUE pairs (R W N PR PW TIMEOUT) or RESET");
    replica::RequestOptions next = s.options;
    for (std::size_t i = 1; i + 1 < args.size(); i += 2) {
        const std::string name = upper(args[i]);
        const std::string& value = args[i + 1];
        std::uint32_t q = 0;
        std::int64_t ms = 0;
        if (name == "TIMEOUT") {
            if (!to_int64(value, ms) || ms < 1 || ms > 3'600'000) return put_error(out, "ERR TIMEOUT takes 1 to 3600000 ms");
            next.timeout_ms = ms;
        } else if (name == "N") {
            std::int64_t n = 0;
            if (!to_int64(value, n) || n < 1 || n > static_cast<std::int64_t>(k_max_replicas))
                return put_error(out, "ERR N takes 1 to " + std::to_string(k_max_replicas));
            next.n = static_cast<std::uint32_t>(n);
        } else if (name == "R" || name == "W" || name == "PR" || name == "PW") {
            const bool primaries = name.size() == 2;
            if (!quorum_of(value, primaries, q))
                return put_error(out, "ERR " + name + " takes " + (primaries ? "0" : "1") + " to " +
                                          std::to_string(k_max_replicas) + ", one, quorum or all");
            (name == "R" ? next.r : name == "W" ? next.w : name == "PR" ? next.pr : next.pw) = q;
        } else {
            return put_error(out, "ERR unknown SHOAL.OPTIONS name '" + lower(name).substr(0, 32) +
                                      "' (R W N PR PW TIMEOUT, or RESET)");
        }
    }
    // Bounds against n are the core's: a request past them answers its error then.
    s.options = next;
    put_simple(out, "OK");
}

void config(State& s, const std::vector<std::string>& args, std::string& out) {
    if (args.size() != 3 || upper(args[1]) != "GET")
        return put_error(out, "ERR only CONFIG GET is served: a node is configured by its config file");
    const std::string pattern = lower(args[2]);
    const std::pair<const char*, std::string> known[] = {
        {"databases", std::to_string(s.config.databases.size())}, {"save", ""}, {"appendonly", "no"}};
    std::vector<std::pair<const char*, std::string>> hits;
    for (const auto& k : known)
        if (pattern == "*" || pattern == k.first) hits.push_back(k);
    put_map(out, hits.size(), s.resp3);
    for (const auto& [name, value] : hits) {
        put_bulk(out, name);
        put_bulk(out, value);
    }
}

void client(State& s, const std::vector<std::string>& args, std::string& out) {
    const std::string sub = args.size() > 1 ? upper(args[1]) : "";
    if (sub == "SETNAME" && args.size() == 3) {
        if (args[2].find_first_of(" \n\r") != std::string::npos || args[2].size() > 256)
            return put_error(out, "ERR Client names cannot contain spaces, newlines or special characters.");
        s.client_name = args[2];
        return put_simple(out, "OK");
    }
    if (sub == "GETNAME") {
        if (s.client_name.empty()) return put_null(out, s.resp3);
        return put_bulk(out, s.client_name);
    }
    if (sub == "ID") return put_integer(out, 1);
    if (sub == "INFO") return put_bulk(out, "id=1 name=" + s.client_name + " db=" + std::to_string(s.db) + "\n");
    put_simple(out, "OK");  // SETINFO, NO-EVICT, ...: accepted, nothing to keep
}

void command(const std::vector<std::string>& args, std::string& out, bool resp3) {
    const std::string sub = args.size() > 1 ? upper(args[1]) : "";
    if (sub == "COUNT") return put_integer(out, 0);  // no command table is served
    if (sub == "DOCS") return put_map(out, 0, resp3);
    if (sub == "INFO") {
        put_array(out, args.size() - 2);
        for (std::size_t i = 2; i < args.size(); ++i) put_null(out, resp3);
        return;
    }
    put_array(out, 0);  // no command table: clients fall back to their own
}

}  // namespace

const Command* find_shoal_command(const std::string& upper_name) {
    for (const Command& c : k_shoal_commands)
        if (upper_name == c.name) return &c;
    return nullptr;
}

bool connection_command(State& s, const std::string& name, const std::vector<std::string>& args, std::string& out) {
    if (name == "SHOAL.OPTIONS") {
        shoal_options(s, args, out);
    } else if (name == "WAIT") {
        std::int64_t n = 0, ms = 0;
        if (args.size() != 3 || !to_int64(args[1], n) || !to_int64(args[2], ms) || n < 0 || ms < 0)
            put_error(out, "ERR WAIT takes numreplicas and a timeout in ms");
        else
            put_integer(out, s.last_write_acks);
    } else if (name == "CONFIG") {
        config(s, args, out);
    } else if (name == "CLIENT") {
        client(s, args, out);
    } else if (name == "COMMAND") {
        command(args, out, s.resp3);
    } else if (name == "RESET") {
        s.db = 0;
        s.resp3 = false;
        s.role = s.config.role;
        s.auth_token.clear();
        s.options = {};
        s.read_contexts.clear();
        s.client_name.clear();
        s.last_write_acks = 0;
        put_simple(out, "RESET");
    } else {
        return false;
    }
    return true;
}

}  // namespace shoal::resp
