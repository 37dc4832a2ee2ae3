// The Redis front end's pure half: the protocol parser at its bounds, and the string
// commands run against a cluster of replica Nodes.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "node_harness.h"
#include "resp_test_util.h"
#include "replica/namespaces.h"
#include "resp/protocol.h"
#include "resp/session.h"

using namespace shoal;
using namespace shoal::resp;

TEST_CASE("resp: commands parse from arrays of bulk strings and inline lines, within bounds", "[resp]") {
    ParseLimits limits;
    limits.max_args = 3;
    limits.max_bulk_bytes = 5;
    limits.max_inline_bytes = 16;
    std::vector<std::string> args;
    std::size_t used = 0;
    std::string err;
    using namespace std::string_literals;
    const std::string set = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nv\0\r\nx\r\n"s;  // a NUL and a CRLF inside
    REQUIRE(parse_command(set, limits, args, used, err) == Parsed::command);
    CHECK(used == set.size());
    CHECK(args == std::vector<std::string>{"SET", "k", std::string("v\0\r\nx", 5)});
    // Every proper prefix is incomplete, not an error.
    for (std::size_t n = 0; n < set.size(); ++n) {
        INFO(n);
        CHECK(parse_command(set.substr(0, n), limits, args, used, err) == Parsed::incomplete);
    }
    // Pipelined: the first command only.
    REQUIRE(parse_command(set + "*1\r\n$4\r\nPING\r\n", limits, args, used, err) == Parsed::command);
    CHECK(used == set.size());
    REQUIRE(parse_command("GET  key\r\nPING\r\n", limits, args, used, err) == Parsed::command);
    CHECK(args == std::vector<std::string>{"GET", "key"});
    CHECK(used == 10);
    // Bounds, at the edge and past it.
    CHECK(parse_command("*4\r\n", limits, args, used, err) == Parsed::bad);
    CHECK(err == "too many arguments");
    CHECK(parse_command("*1\r\n$6\r\n", limits, args, used, err) == Parsed::bad);
    CHECK(parse_command("*1\r\n$5\r\nabcde\r\n", limits, args, used, err) == Parsed::command);
    CHECK(parse_command(std::string(17, 'a'), limits, args, used, err) == Parsed::bad);
    CHECK(parse_command("*1\r\n$-1\r\n", limits, args, used, err) == Parsed::bad);
    CHECK(parse_command("*1\r\n:1\r\n", limits, args, used, err) == Parsed::bad);
    CHECK(parse_command("*1\r\n$1\r\nab\r\n", limits, args, used, err) == Parsed::bad);  // no CRLF after the bytes
    CHECK(parse_command("*x\r\n", limits, args, used, err) == Parsed::bad);
    // A whole command's bytes are bounded too, as soon as its headers say so.
    limits.max_command_bytes = 24;
    CHECK(parse_command("*2\r\n$5\r\nabcde\r\n$5\r\n", limits, args, used, err) == Parsed::bad);
    CHECK(err == "command over the limit of 24 bytes");
    // A whole command's bytes are bounded too, as soon as its headers say so.
    limits.max_command_bytes = 24;
    CHECK(parse_command("*2\r\n$5\r\nabcde\r\n$5\r\n", limits, args, used, err) == Parsed::bad);
    CHECK(err == "command over the limit of 24 bytes");
}

namespace {

// A session's core: a harness cluster, coordinated by node 1.
struct HarnessCore final : Core {
    test::Cluster& c;
    explicit HarnessCore(test::Cluster& cluster) : c(cluster) {}
    void call(replica::ClientRequest q, std::function<void(replica::ClientReply)> done) override {
        done(c.call(1, std::move(q)));
    }
    Time now() override { return c.now.wall; }
    void after(Duration, std::function<void()> fn) override { fn(); }
    bool last_writer_wins(const std::string& ns) override {
        return replica::namespace_conflict(c.node(1).namespaces(), ns, replica::ConflictMode::dvv) ==
               replica::ConflictMode::lww;
    }
};

using test::run;

}  // namespace

TEST_CASE("resp: string commands on a dvv namespace replace values instead of making siblings", "[resp]") {
    test::Cluster c(3);
    HarnessCore core(c);
    Session s(core, SessionConfig{});
    CHECK(run(s, {"PING"}) == "+PONG\r\n");
    CHECK(run(s, {"GET", "k"}) == "$-1\r\n");
    CHECK(run(s, {"SET", "k", "one"}) == "+OK\r\n");
    CHECK(run(s, {"set", "k", "two"}) == "+OK\r\n");
    CHECK(run(s, {"GET", "k"}) == "$3\r\ntwo\r\n");  // one value, not two siblings
    CHECK(run(s, {"SET", "k", "x", "NX"}) == "$-1\r\n");
    CHECK(run(s, {"SET", "k", "three", "XX", "GET"}) == "$3\r\ntwo\r\n");
    CHECK(run(s, {"SET", "n", "x", "XX"}) == "$-1\r\n");
    CHECK(run(s, {"SETNX", "k", "x"}) == ":0\r\n");
    CHECK(run(s, {"APPEND", "k", "!"}) == ":6\r\n");
    CHECK(run(s, {"STRLEN", "k"}) == ":6\r\n");
    CHECK(run(s, {"INCR", "c"}) == ":1\r\n");
    CHECK(run(s, {"INCRBY", "c", "41"}) == ":42\r\n");
    CHECK(run(s, {"DECRBY", "c", "2"}) == ":40\r\n");
    CHECK(run(s, {"INCR", "k"}) == "-ERR value is not an integer or out of range\r\n");
    CHECK(run(s, {"SET", "big", "9223372036854775807"}) == "+OK\r\n");
    CHECK(run(s, {"INCR", "big"}) == "-ERR increment or decrement would overflow\r\n");
    CHECK(run(s, {"MSET", "a", "1", "b", "2"}) == "+OK\r\n");
    CHECK(run(s, {"MGET", "a", "nope", "b"}) == "*3\r\n$1\r\n1\r\n$-1\r\n$1\r\n2\r\n");
    CHECK(run(s, {"EXISTS", "a", "b", "nope"}) == ":2\r\n");
    CHECK(run(s, {"DEL", "a", "nope"}) == ":1\r\n");
    CHECK(run(s, {"GETDEL", "b"}) == "$1\r\n2\r\n");
    CHECK(run(s, {"GET", "b"}) == "$-1\r\n");
    CHECK(run(s, {"TYPE", "k"}) == "+string\r\n");
    CHECK(run(s, {"TYPE", "b"}) == "+none\r\n");
    // Errors a client can act on.
    CHECK(run(s, {"GET"}) == "-ERR wrong number of arguments for 'get' command\r\n");
    CHECK(run(s, {"SET", "k", "v", "EX", "0"}) == "-ERR invalid expire time in 'set' command\r\n");
    CHECK(run(s, {"SET", "k", "v", "NX", "XX"}) == "-ERR syntax error\r\n");
    CHECK(run(s, {"SELECT", "1"}).rfind("-ERR DB index is out of range", 0) == 0);
    CHECK(run(s, {"FLUSHALL"}).rfind("-ERR unknown command 'flushall'", 0) == 0);
}

TEST_CASE("resp: expiry in seconds and milliseconds, kept by KEEPTTL and read-modify-writes", "[resp]") {
    test::Cluster c(3);
    HarnessCore core(c);
    Session s(core, SessionConfig{});
    CHECK(run(s, {"SET", "s", "v", "EX", "100"}) == "+OK\r\n");
    CHECK(run(s, {"TTL", "s"}) == ":100\r\n");
    CHECK(run(s, {"PTTL", "s"}) == ":100000\r\n");
    CHECK(run(s, {"APPEND", "s", "w"}) == ":2\r\n");  // keeps the expiry
    CHECK(run(s, {"TTL", "s"}) == ":100\r\n");
    CHECK(run(s, {"SET", "s", "x", "KEEPTTL"}) == "+OK\r\n");
    CHECK(run(s, {"TTL", "s"}) == ":100\r\n");
    CHECK(run(s, {"PERSIST", "s"}) == ":1\r\n");
    CHECK(run(s, {"TTL", "s"}) == ":-1\r\n");
    CHECK(run(s, {"TTL", "nope"}) == ":-2\r\n");
    CHECK(run(s, {"PSETEX", "p", "1500", "v"}) == "+OK\r\n");
    CHECK(run(s, {"PTTL", "p"}) == ":1500\r\n");
    CHECK(run(s, {"EXPIRE", "s", "2"}) == ":1\r\n");
    CHECK(run(s, {"EXPIRE", "nope", "2"}) == ":0\r\n");
    c.advance(Duration::millis(2100));
    CHECK(run(s, {"GET", "s"}) == "$-1\r\n");
    CHECK(run(s, {"GET", "p"}) == "$-1\r\n");
    CHECK(run(s, {"SET", "d", "v"}) == "+OK\r\n");
    CHECK(run(s, {"EXPIRE", "d", "-1"}) == ":1\r\n");  // a time in the past deletes
    CHECK(run(s, {"EXISTS", "d"}) == ":0\r\n");
    CHECK(run(s, {"SETEX", "e", "10", "v"}) == "+OK\r\n");
    CHECK(run(s, {"GETEX", "e", "PERSIST"}) == "$1\r\nv\r\n");
    CHECK(run(s, {"TTL", "e"}) == ":-1\r\n");
}

TEST_CASE("resp: databases are namespaces; HELLO 3 switches to RESP3", "[resp]") {
    test::Cluster c(3);
    replica::NamespaceProps lww;
    lww.conflict = replica::ConflictMode::lww;
    for (std::uint32_t i = 1; i <= 3; ++i) c.node(i).set_namespaces({{"sessions", lww}});
    HarnessCore core(c);
    SessionConfig config;
    config.databases = {"default", "sessions"};
    Session s(core, config);
    CHECK(run(s, {"SET", "k", "in default"}) == "+OK\r\n");
    CHECK(run(s, {"SELECT", "1"}) == "+OK\r\n");
    CHECK(s.ns() == "sessions");
    CHECK(run(s, {"GET", "k"}) == "$-1\r\n");
    CHECK(run(s, {"SET", "k", "session"}) == "+OK\r\n");
    CHECK(run(s, {"GET", "k"}) == "$7\r\nsession\r\n");
    CHECK(run(s, {"HELLO", "4"}).rfind("-NOPROTO", 0) == 0);
    const std::string hello = run(s, {"HELLO", "3"});
    CHECK(hello.rfind("%6\r\n", 0) == 0);
    CHECK(s.resp3());
    CHECK(run(s, {"GET", "nope"}) == "_\r\n");
    CHECK(run(s, {"QUIT"}) == "+OK\r\n");
}

TEST_CASE("resp: what review found: expired values do not pile up, options are strict", "[resp]") {
    test::Cluster c(3);
    HarnessCore core(c);
    Session s(core, SessionConfig{});
    // A session key set again each time it expired: the dead copies are superseded, not
    // kept beside the new value (70 cycles would otherwise pass max_siblings = 64).
    for (int i = 0; i < 70; ++i) {
        REQUIRE(run(s, {"SET", "sess", "v" + std::to_string(i), "PX", "100"}) == "+OK\r\n");
        c.advance(Duration::millis(150));
    }
    replica::SiblingSet stored;
    REQUIRE_FALSE(c.node(1).read_local("sess", stored));
    CHECK(stored.siblings.size() == 1);
    CHECK(run(s, {"GETEX", "k", "FOO", "5"}) == "-ERR syntax error\r\n");
    CHECK(run(s, {"GETEX", "k", "PERSIST", "5"}) == "-ERR syntax error\r\n");
    CHECK(run(s, {"SET", "d", "v"}) == "+OK\r\n");
    CHECK(run(s, {"EXPIREAT", "d", "0"}) == ":1\r\n");  // in the past: deleted, as in Redis
    CHECK(run(s, {"EXISTS", "d"}) == ":0\r\n");
    CHECK(run(s, {"EXPIREAT", "d", "99999999999999999"}) == "-ERR invalid expire time in 'expireat' command\r\n");
    CHECK(run(s, {"ECHO"}) == "-ERR wrong number of arguments for 'echo' command\r\n");
    CHECK(run(s, {"SELECT", "0", "1"}) == "-ERR wrong number of arguments for 'select' command\r\n");
    // A read that fails fails MGET, rather than reading as "no such key".
    c.dead.insert(2);
    c.dead.insert(3);
    c.detector(1).missed(NodeId{2}, c.now.mono);
    c.detector(1).missed(NodeId{3}, c.now.mono);
    CHECK(run(s, {"MGET", "a", "b"}).rfind("-ERR unavailable", 0) == 0);
}

TEST_CASE("resp: a connection's role gates reads and writes; AUTH with a token raises it", "[resp][tls]") {
    test::Cluster c(3);
    struct TokenCore final : Core {
        Core& inner;
        explicit TokenCore(Core& i) : inner(i) {}
        void call(replica::ClientRequest q, std::function<void(replica::ClientReply)> done) override {
            inner.call(std::move(q), std::move(done));
        }
        Time now() override { return inner.now(); }
        void after(Duration d, std::function<void()> fn) override { inner.after(d, std::move(fn)); }
        bool last_writer_wins(const std::string& ns) override { return inner.last_writer_wins(ns); }
        tls::Identity authenticate(std::string_view token) override {
            tls::Identity id;
            if (token != "0123456789abcdef-writer") return id;
            id.kind = tls::Identity::Kind::client;
            id.name = "writer";
            id.role = tls::Role::readwrite;
            return id;
        }
    };
    HarnessCore harness(c);
    TokenCore core(harness);
    SessionConfig anonymous;
    anonymous.role = tls::Role::none;
    Session s(core, anonymous);
    CHECK(run(s, {"PING"}) == "+PONG\r\n");  // connection commands need no role
    CHECK(run(s, {"GET", "k"}).rfind("-NOAUTH authentication required", 0) == 0);
    CHECK(run(s, {"SET", "k", "v"}).rfind("-NOAUTH", 0) == 0);
    CHECK(run(s, {"AUTH", "nope-nope-nope-nope"}).rfind("-WRONGPASS", 0) == 0);
    CHECK(run(s, {"AUTH", "someone", "0123456789abcdef-writer"}).rfind("-WRONGPASS", 0) == 0);  // not its name
    CHECK(run(s, {"AUTH", "writer", "0123456789abcdef-writer"}) == "+OK\r\n");
    CHECK(run(s, {"SET", "k", "v"}) == "+OK\r\n");
    CHECK(run(s, {"GET", "k"}) == "$1\r\nv\r\n");

    SessionConfig reader;
    reader.role = tls::Role::readonly;
    reader.identity = tls::identity_from_subject("dash", "shoal-client:readonly");
    Session r(core, reader);
    CHECK(run(r, {"GET", "k"}) == "$1\r\nv\r\n");
    CHECK(run(r, {"MGET", "k", "x"}) == "*2\r\n$1\r\nv\r\n$-1\r\n");
    CHECK(run(r, {"TTL", "k"}) == ":-1\r\n");
    CHECK(run(r, {"DEL", "k"}) == "-NOPERM this needs the readwrite role; client dash (readonly) holds readonly\r\n");
    CHECK(run(r, {"INCR", "n"}).rfind("-NOPERM", 0) == 0);
    CHECK(run(r, {"EXPIRE", "k", "10"}).rfind("-NOPERM", 0) == 0);
    // HELLO with AUTH authenticates on the way.
    Session h(core, anonymous);
    CHECK(run(h, {"HELLO", "3", "AUTH", "writer", "wrong-wrong-wrong-wrong"}).rfind("-WRONGPASS", 0) == 0);
    CHECK(run(h, {"HELLO", "3", "AUTH", "default", "0123456789abcdef-writer"}).rfind("%", 0) == 0);
    CHECK(run(h, {"SET", "k2", "v"}) == "+OK\r\n");
}
