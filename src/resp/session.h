// One Redis-protocol connection's commands, run against the core through `Core`: the
// strings a session store or a cache uses (GET, SET with EX/PX/NX/XX/KEEPTTL/GET,
// SETEX, GETEX, GETDEL, DEL, EXISTS, EXPIRE, TTL, MGET, MSET, APPEND, INCR, ...), the
// connection commands (PING, ECHO, HELLO 2|3, SELECT, QUIT, CLIENT, COMMAND, INFO).
// Pure: no sockets; tested against a cluster of replica Nodes (test/unit/test_resp.cpp).
//
// Each Redis database is a Shoal namespace (SessionConfig::databases). On an `lww`
// namespace a SET is one blind write (the last writer's value stays). On a `dvv`
// namespace every write reads first and writes conditionally on what it read
// (If-Match; If-None-Match when nothing was there), trying again when another write
// came between, so SETs replace values instead of making siblings; a key that holds
// siblings anyway (HTTP writers) reads as an error naming them. Read-modify-write
// commands (APPEND, INCR, SET XX/GET/KEEPTTL, EXPIRE, ...) work that way in every
// namespace: they never lose a concurrent update.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/types.h"
#include "replica/messages.h"
#include "resp/scan.h"
#include "tls/identity.h"

namespace shoal::resp {

// What a session needs from the node: the core's requests, and the wall clock (TTLs).
class Core {
public:
    virtual ~Core() = default;
    virtual void call(replica::ClientRequest request, std::function<void(replica::ClientReply)> done) = 0;
    virtual Time now() = 0;
    // Whether namespace `ns` keeps the last writer's value (conflict = lww).
    virtual bool last_writer_wins(const std::string& ns) = 0;
    // The data type of namespace `ns` ("set", "counter"; "" for strings).
    virtual std::string datatype(const std::string& ns) {
        (void)ns;
        return {};
    }
    // Runs `fn` on the core's thread after `delay` (a retry's back-off).
    virtual void after(Duration delay, std::function<void()> fn) = 0;
    // AUTH: the client a token names (kind none: no such token).
    virtual tls::Identity authenticate(std::string_view token) {
        (void)token;
        return {};
    }
    // Changes whenever the tokens are reloaded: a connection that authenticated asks
    // again, so a revoked token stops working on it.
    virtual std::uint64_t credentials_generation() { return 0; }
    // SCAN's positions, one table for all of the node's connections.
    ScanCursors& scan_cursors() { return scan_cursors_; }

private:
    ScanCursors scan_cursors_;
};

// A key that starts with `prefix` is in namespace `ns`, whichever database is selected.
struct PrefixNamespace {
    std::string prefix;
    std::string ns;
};

struct SessionConfig {
    std::vector<std::string> databases{"default"};  // database i -> namespace
    // Keys by prefix (resp_prefixes): the longest prefix a key starts with names its
    // namespace; a key no prefix matches is in the selected database's.
    std::vector<PrefixNamespace> prefixes;
    std::size_t max_value_bytes = 1 << 20;
    // What the connection may do before AUTH: reads need readonly, writes readwrite (its
    // certificate's role, the anonymous role, or admin when TLS is off).
    tls::Role role = tls::Role::admin;
    tls::Identity identity;  // from its certificate (for refusals)
};

class Session {
public:
    Session(Core& core, SessionConfig config);
    ~Session();
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    // Runs one command (args[0] is its name). `done` is called once with the encoded
    // reply; `close` is set after QUIT. The caller may run a command before an earlier
    // one is done only when both have a concurrent_key and the keys differ.
    void run(std::vector<std::string> args, std::function<void(std::string reply, bool close)> done);

    // The key of a command that may run beside the connection's other commands on other
    // keys (a pipelined GET, SET, SADD, HSET, ... of one key); nullopt for one that must
    // run alone: connection commands (SELECT, AUTH, SHOAL.OPTIONS, WAIT, ...), commands
    // of several keys, unknown names. Running alone keeps a pipeline's effects in order:
    // commands of one key run in the order sent, and a connection's settings change
    // between commands, never under one.
    std::optional<std::string> concurrent_key(const std::vector<std::string>& args) const;

    bool resp3() const;
    const std::string& ns() const;

    struct State;

private:
    std::shared_ptr<State> state_;
};

}  // namespace shoal::resp
