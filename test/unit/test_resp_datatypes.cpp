// Unit tests for the Redis front end's data-type commands (src/resp/sets.cpp): sets on
// a datatype=set namespace, counters on a datatype=counter one, against a harness
// cluster of replica Nodes; and the refusals that keep strings and data types apart.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "node_harness.h"
#include "resp_test_util.h"
#include "replica/namespaces.h"
#include "resp/session.h"

using namespace shoal;
using namespace shoal::resp;

namespace {

// Database 0 strings, 1 a set namespace, 2 a counter one, 3 a map one; coordinated by `via`.
struct DtCore final : Core {
    test::Cluster& c;
    std::uint32_t via = 1;
    explicit DtCore(test::Cluster& cluster) : c(cluster) {
        replica::NamespaceProps set, counter, map;
        set.datatype = "set";
        counter.datatype = "counter";
        map.datatype = "map";
        for (std::uint32_t i = 1; i <= c.members.size(); ++i)
            c.node(i).set_namespaces({{"carts", set}, {"hits", counter}, {"profiles", map}});
    }
    void call(replica::ClientRequest q, std::function<void(replica::ClientReply)> done) override {
        done(c.call(via, std::move(q)));
    }
    Time now() override { return c.now.wall; }
    void after(Duration, std::function<void()> fn) override { fn(); }
    bool last_writer_wins(const std::string&) override { return false; }
    std::string datatype(const std::string& ns) override {
        const auto& all = c.node(1).namespaces();
        auto it = all.find(ns);
        return it == all.end() ? std::string{} : it->second.datatype;
    }
};

SessionConfig three_databases() {
    SessionConfig cfg;
    cfg.databases = {"default", "carts", "hits", "profiles"};
    return cfg;
}

using test::run;

}  // namespace

TEST_CASE("resp datatypes: a cart as a set", "[resp][datatypes]") {
    test::Cluster c(3);
    DtCore core(c);
    Session s(core, three_databases());
    REQUIRE(run(s, {"SELECT", "1"}) == "+OK\r\n");
    CHECK(run(s, {"SADD", "cart:alice", "apple", "pear", "apple"}) == ":2\r\n");
    CHECK(run(s, {"SADD", "cart:alice", "pear", "fig"}) == ":1\r\n");
    CHECK(run(s, {"SMEMBERS", "cart:alice"}) == "*3\r\n$5\r\napple\r\n$3\r\nfig\r\n$4\r\npear\r\n");
    CHECK(run(s, {"SCARD", "cart:alice"}) == ":3\r\n");
    CHECK(run(s, {"SISMEMBER", "cart:alice", "fig"}) == ":1\r\n");
    CHECK(run(s, {"SMISMEMBER", "cart:alice", "fig", "kiwi"}) == "*2\r\n:1\r\n:0\r\n");
    CHECK(run(s, {"SREM", "cart:alice", "pear", "kiwi"}) == ":1\r\n");
    CHECK(run(s, {"SMEMBERS", "cart:alice"}) == "*2\r\n$5\r\napple\r\n$3\r\nfig\r\n");
    CHECK(run(s, {"TYPE", "cart:alice"}) == "+set\r\n");
    CHECK(run(s, {"TYPE", "cart:bob"}) == "+none\r\n");
    CHECK(run(s, {"SMEMBERS", "cart:bob"}) == "*0\r\n");
    CHECK(run(s, {"EXISTS", "cart:alice", "cart:bob"}) == ":1\r\n");
    CHECK(run(s, {"DEL", "cart:alice"}) == ":1\r\n");
    CHECK(run(s, {"SCARD", "cart:alice"}) == ":0\r\n");
}

TEST_CASE("resp datatypes: SREM removes only what this connection read", "[resp][datatypes]") {
    test::Cluster c(3);
    DtCore core(c);
    Session s(core, three_databases()), other(core, three_databases());
    run(s, {"SELECT", "1"});
    run(other, {"SELECT", "1"});
    CHECK(run(s, {"SADD", "k", "apple"}) == ":1\r\n");
    // Without a read of the key on this connection the remove is refused.
    CHECK(run(s, {"SREM", "k", "apple"}).starts_with("-ERR SREM removes what this connection has read"));
    CHECK(run(s, {"SMEMBERS", "k"}) == "*1\r\n$5\r\napple\r\n");
    // Another client adds apple again after that read, through another coordinator:
    // the SREM decided on the read leaves that add in place.
    core.via = 2;
    CHECK(run(other, {"SADD", "k", "apple", "pear"}) == ":1\r\n");
    core.via = 3;
    CHECK(run(s, {"SREM", "k", "apple"}) == ":0\r\n");
    CHECK(run(s, {"SMEMBERS", "k"}) == "*2\r\n$5\r\napple\r\n$4\r\npear\r\n");
    // Read again: now the remove sees the add and takes it.
    CHECK(run(s, {"SREM", "k", "apple"}) == ":1\r\n");
    CHECK(run(s, {"SMEMBERS", "k"}) == "*1\r\n$4\r\npear\r\n");
}

TEST_CASE("resp datatypes: counters from several coordinators", "[resp][datatypes]") {
    test::Cluster c(3);
    DtCore core(c);
    Session s(core, three_databases());
    run(s, {"SELECT", "2"});
    CHECK(run(s, {"GET", "hits"}) == "$-1\r\n");
    CHECK(run(s, {"INCR", "hits"}) == ":1\r\n");
    core.via = 2;
    CHECK(run(s, {"INCRBY", "hits", "41"}) == ":42\r\n");
    core.via = 3;
    CHECK(run(s, {"DECR", "hits"}) == ":41\r\n");
    CHECK(run(s, {"DECRBY", "hits", "-9"}) == ":50\r\n");
    CHECK(run(s, {"GET", "hits"}) == "$2\r\n50\r\n");
    CHECK(run(s, {"TYPE", "hits"}) == "+string\r\n");
    CHECK(run(s, {"INCRBY", "hits", "x"}) == "-ERR value is not an integer or out of range\r\n");
    CHECK(run(s, {"INCRBY", "hits", "9223372036854775807"}) == "-ERR increment or decrement would overflow\r\n");
    CHECK(run(s, {"GET", "hits"}) == "$2\r\n50\r\n");
}

TEST_CASE("resp datatypes: strings and data types stay apart", "[resp][datatypes]") {
    test::Cluster c(3);
    DtCore core(c);
    Session s(core, three_databases());
    CHECK(run(s, {"SADD", "k", "x"}).starts_with("-WRONGTYPE"));
    CHECK(run(s, {"SMEMBERS", "k"}).starts_with("-WRONGTYPE"));
    run(s, {"SELECT", "1"});
    CHECK(run(s, {"SET", "k", "v"}).starts_with("-WRONGTYPE"));
    CHECK(run(s, {"GET", "k"}).starts_with("-WRONGTYPE"));
    CHECK(run(s, {"INCR", "k"}).starts_with("-WRONGTYPE"));
    CHECK(run(s, {"SADD", "k"}) == "-ERR wrong number of arguments for 'sadd' command\r\n");
    run(s, {"SELECT", "2"});
    CHECK(run(s, {"SADD", "k", "x"}).starts_with("-WRONGTYPE"));
    CHECK(run(s, {"APPEND", "k", "x"}).starts_with("-WRONGTYPE"));
    CHECK(run(s, {"PING"}) == "+PONG\r\n");
}

TEST_CASE("resp datatypes: hashes on a map namespace", "[resp][datatypes]") {
    test::Cluster c(3);
    DtCore core(c);
    Session s(core, three_databases());
    run(s, {"SELECT", "3"});
    CHECK(run(s, {"HSET", "user:1", "name", "alice", "theme", "dark"}) == ":2\r\n");
    core.via = 2;
    CHECK(run(s, {"HSET", "user:1", "name", "alicia", "lang", "en"}) == ":1\r\n");
    CHECK(run(s, {"HGET", "user:1", "name"}) == "$6\r\nalicia\r\n");
    CHECK(run(s, {"HGET", "user:1", "nope"}) == "$-1\r\n");
    CHECK(run(s, {"HMGET", "user:1", "theme", "nope"}) == "*2\r\n$4\r\ndark\r\n$-1\r\n");
    core.via = 3;
    CHECK(run(s, {"HINCRBY", "user:1", "visits", "5"}) == ":5\r\n");
    CHECK(run(s, {"HINCRBY", "user:1", "visits", "-2"}) == ":3\r\n");
    CHECK(run(s, {"HINCRBY", "user:1", "name", "1"}) == "-ERR hash value is not an integer\r\n");
    CHECK(run(s, {"HLEN", "user:1"}) == ":4\r\n");
    CHECK(run(s, {"HKEYS", "user:1"}) == "*4\r\n$4\r\nlang\r\n$4\r\nname\r\n$5\r\ntheme\r\n$6\r\nvisits\r\n");
    CHECK(run(s, {"HEXISTS", "user:1", "theme"}) == ":1\r\n");
    CHECK(run(s, {"HDEL", "user:1", "theme", "nope"}) == ":1\r\n");
    CHECK(run(s, {"HEXISTS", "user:1", "theme"}) == ":0\r\n");
    CHECK(run(s, {"HDEL", "user:1", "visits"}).starts_with("-ERR a counter field"));
    CHECK(run(s, {"HGETALL", "user:1"}) ==
          "*6\r\n$4\r\nlang\r\n$2\r\nen\r\n$4\r\nname\r\n$6\r\nalicia\r\n$6\r\nvisits\r\n$1\r\n3\r\n");
    CHECK(run(s, {"HVALS", "user:1"}) == "*3\r\n$2\r\nen\r\n$6\r\nalicia\r\n$1\r\n3\r\n");
    CHECK(run(s, {"TYPE", "user:1"}) == "+hash\r\n");
    CHECK(run(s, {"HSET", "user:1", "odd"}) == "-ERR wrong number of arguments for 'hset' command\r\n");
    CHECK(run(s, {"SADD", "user:1", "x"}).starts_with("-WRONGTYPE"));
    CHECK(run(s, {"GET", "user:1"}).starts_with("-WRONGTYPE"));
    run(s, {"SELECT", "0"});
    CHECK(run(s, {"HSET", "k", "f", "v"}).starts_with("-WRONGTYPE"));
}

TEST_CASE("resp: SHOAL.GET and SHOAL.PUT show and resolve siblings; SHOAL.OPTIONS and WAIT", "[resp]") {
    test::Cluster c(3);
    DtCore core(c);
    Session s(core, three_databases());
    // Two blind writes of one key on a dvv namespace: siblings, as HTTP writers make them.
    CHECK(run(s, {"SHOAL.PUT", "k", "", "a"}) == "+OK\r\n");
    core.via = 2;
    CHECK(run(s, {"SHOAL.PUT", "k", "", "b"}) == "+OK\r\n");
    const std::string both = run(s, {"SHOAL.GET", "k"});
    CHECK(both.find("*2\r\n$1\r\na\r\n$1\r\nb\r\n") != std::string::npos);
    CHECK(run(s, {"GET", "k"}).starts_with("-ERR the key holds 2 concurrent values"));
    // The context is the reply's first element; a write with it resolves both.
    const std::size_t len_at = both.find('$') + 1, crlf = both.find("\r\n", len_at);
    const std::string context = both.substr(crlf + 2, std::stoul(both.substr(len_at, crlf - len_at)));
    CHECK(run(s, {"SHOAL.PUT", "k", context, "ab"}) == "+OK\r\n");
    CHECK(run(s, {"GET", "k"}) == "$2\r\nab\r\n");
    CHECK(run(s, {"SHOAL.PUT", "k", "!!", "x"}).starts_with("-ERR the context does not decode"));
    CHECK(run(s, {"SHOAL.GET", "nothing"}) == "*2\r\n$0\r\n\r\n*0\r\n");
    // WAIT answers how many replicas acknowledged the last write: w of them.
    CHECK(run(s, {"WAIT", "3", "100"}) == ":2\r\n");
    CHECK(run(s, {"SHOAL.OPTIONS", "W", "all", "timeout", "2000"}) == "+OK\r\n");
    CHECK(run(s, {"SET", "k2", "v"}) == "+OK\r\n");
    CHECK(run(s, {"WAIT", "3", "100"}) == ":3\r\n");
    CHECK(run(s, {"SHOAL.OPTIONS"}).find("$1\r\nw\r\n$3\r\nall\r\n") != std::string::npos);
    CHECK(run(s, {"SHOAL.OPTIONS", "R", "17"}).starts_with("-ERR R takes 1 to 16"));
    CHECK(run(s, {"SHOAL.OPTIONS", "Q", "1"}).starts_with("-ERR unknown SHOAL.OPTIONS name"));
    CHECK(run(s, {"SHOAL.OPTIONS", "R"}).starts_with("-ERR SHOAL.OPTIONS takes NAME VALUE pairs"));
    // A quorum the namespace cannot meet is the core's refusal, per request.
    CHECK(run(s, {"SHOAL.OPTIONS", "N", "2", "W", "3"}) == "+OK\r\n");
    CHECK(run(s, {"SET", "k3", "v"}).starts_with("-ERR"));
    CHECK(run(s, {"SHOAL.OPTIONS", "RESET"}) == "+OK\r\n");
    CHECK(run(s, {"SET", "k3", "v"}) == "+OK\r\n");
}

TEST_CASE("resp: what clients send on connect: CONFIG GET, COMMAND, CLIENT, RESET", "[resp]") {
    test::Cluster c(3);
    DtCore core(c);
    Session s(core, three_databases());
    CHECK(run(s, {"CONFIG", "GET", "databases"}) == "*2\r\n$9\r\ndatabases\r\n$1\r\n4\r\n");
    CHECK(run(s, {"CONFIG", "GET", "maxmemory"}) == "*0\r\n");
    CHECK(run(s, {"CONFIG", "SET", "save", ""}).starts_with("-ERR only CONFIG GET"));
    CHECK(run(s, {"COMMAND", "COUNT"}) == ":0\r\n");
    CHECK(run(s, {"COMMAND", "INFO", "get", "set"}) == "*2\r\n$-1\r\n$-1\r\n");
    CHECK(run(s, {"CLIENT", "SETNAME", "cart-service"}) == "+OK\r\n");
    CHECK(run(s, {"CLIENT", "GETNAME"}) == "$12\r\ncart-service\r\n");
    CHECK(run(s, {"CLIENT", "SETNAME", "a b"}).starts_with("-ERR Client names"));
    CHECK(run(s, {"SELECT", "2"}) == "+OK\r\n");
    CHECK(run(s, {"RESET"}) == "+RESET\r\n");
    CHECK(run(s, {"CLIENT", "GETNAME"}) == "$-1\r\n");
    CHECK(run(s, {"SET", "back", "in-db-0"}) == "+OK\r\n");  // database 0 again: strings
}

namespace shoal::resp {

TEST_CASE("resp pipeline: which commands may run beside others (one key each) and which run alone",
          "[resp][pipeline]") {
    test::Cluster c(3);
    DtCore core(c);
    Session s(core, three_databases());
    using Key = std::optional<std::string>;
    CHECK(s.concurrent_key({"GET", "k"}) == Key{"k"});
    CHECK(s.concurrent_key({"set", "k", "v", "EX", "10"}) == Key{"k"});
    CHECK(s.concurrent_key({"DEL", "k"}) == Key{"k"});
    CHECK(s.concurrent_key({"MGET", "k"}) == Key{"k"});
    CHECK(s.concurrent_key({"SHOAL.GET", "k"}) == Key{"k"});
    // Several keys, no key, or the connection's own settings: alone.
    for (std::vector<std::string> alone : std::vector<std::vector<std::string>>{
             {"DEL", "a", "b"}, {"EXISTS", "a", "b"}, {"MGET", "a", "b"}, {"MSET", "a", "1"}, {"SELECT", "1"},
             {"AUTH", "t"}, {"HELLO", "3"}, {"PING"}, {"PING", "x"}, {"ECHO", "x"}, {"QUIT"}, {"WAIT", "1", "0"},
             {"SHOAL.OPTIONS", "r", "3"}, {"CLIENT", "SETNAME", "x"}, {"NOSUCH", "k"}, {"GET"}})
        CHECK(s.concurrent_key(alone) == std::nullopt);
    REQUIRE(run(s, {"SELECT", "1"}) == "+OK\r\n");  // a set namespace
    CHECK(s.concurrent_key({"SADD", "cart", "apple"}) == Key{"cart"});
    CHECK(s.concurrent_key({"SREM", "cart", "apple"}) == Key{"cart"});
    CHECK(s.concurrent_key({"HSET", "cart", "f", "v"}) == Key{"cart"});  // WRONGTYPE, at once
}

}  // namespace shoal::resp

TEST_CASE("resp datatypes: a key prefix names its namespace, in any database", "[resp][datatypes][limits]") {
    test::Cluster c(3);
    DtCore core(c);
    SessionConfig cfg = three_databases();
    cfg.prefixes = {{"cart:", "carts"}, {"cart:vip:", "profiles"}, {"hit:", "hits"}};
    Session s(core, cfg);
    // Database 0 holds strings, yet cart: keys are sets (the carts namespace's type).
    CHECK(run(s, {"SADD", "cart:alice", "apple"}) == ":1\r\n");
    CHECK(run(s, {"INCRBY", "hit:home", "3"}) == ":3\r\n");
    CHECK(run(s, {"SET", "plain", "v"}) == "+OK\r\n");
    CHECK(run(s, {"SET", "cart:bob", "v"}).starts_with(
        "-WRONGTYPE Operation against a key holding the wrong kind of value (the key's prefix names namespace carts"));
    // The longest prefix wins: cart:vip: keys are in profiles (a map namespace).
    CHECK(run(s, {"SADD", "cart:vip:eve", "x"}).starts_with("-WRONGTYPE"));
    CHECK(run(s, {"HSET", "cart:vip:eve", "name", "Eve"}) == ":1\r\n");
    // The same key in the carts database: one namespace, one key.
    Session in_carts(core, three_databases());
    REQUIRE(run(in_carts, {"SELECT", "1"}) == "+OK\r\n");
    CHECK(run(in_carts, {"SMEMBERS", "cart:alice"}) == "*1\r\n$5\r\napple\r\n");
    CHECK(run(in_carts, {"SMEMBERS", "plain"}) == "*0\r\n");  // plain stayed in default
    // An MGET over namespaces of two kinds is refused whole; DEL takes any kind.
    CHECK(run(s, {"MGET", "plain", "cart:alice"}).starts_with("-ERR the keys of one command must be in namespaces"));
    CHECK(run(s, {"MGET", "plain", "other"}) == "*2\r\n$1\r\nv\r\n$-1\r\n");
    CHECK(run(s, {"DEL", "plain", "cart:alice"}) == ":2\r\n");
    CHECK(run(in_carts, {"SMEMBERS", "cart:alice"}) == "*0\r\n");
}
