// How many replicas a read asks (NodeConfig::read_fanout): a quorum read asks R of the
// key's targets, its own copy first, and asks the rest only when one of them fails or
// stays silent past read_retry.
#include <catch2/catch.hpp>

#include "core/hash.h"
#include "node_harness.h"
#include "store/keys.h"

namespace shoal::test {

namespace {

// Submits a read at node `via` and ends that node's turn; the reply comes later.
ClientToken start_read(Cluster& c, std::uint32_t via, const std::string& key, std::uint32_t r) {
    static ClientToken next = 1'000'000;
    ClientRequest req;
    req.op = ClientOp::get;
    req.key = key;
    req.options.r = r;
    const ClientToken token = next++;
    c.node(via).submit(c.now, token, std::move(req));
    c.collect(via);
    return token;
}

// The nodes the wire holds read requests for, in order.
std::vector<std::uint32_t> asked(const Cluster& c) {
    std::vector<std::uint32_t> out;
    for (const auto& [from, env] : c.wire) {
        if (std::holds_alternative<GetReq>(env.msg)) out.push_back(env.to.value);
    }
    return out;
}

}  // namespace

TEST_CASE("read fanout: a quorum read asks its own copy and R-1 others; `all` asks every replica",
          "[node][read]") {
    SECTION("quorum") {
        Cluster c(3);
        REQUIRE(c.put(1, "cart/alice", "apple").code == errc::ok);
        start_read(c, 1, "cart/alice", 1);
        CHECK(asked(c).empty());  // R=1: this node's copy answers alone
        c.pump();
        const ClientToken token = start_read(c, 1, "cart/alice", 2);
        const auto peers = asked(c);
        REQUIRE(peers.size() == 1);
        CHECK(peers[0] != 1);
        c.pump();
        REQUIRE(c.replies.count(token) == 1);
        CHECK(values(c.replies[token]) == std::set<std::string>{"apple"});
        start_read(c, 1, "cart/alice", 3);
        CHECK(asked(c).size() == 2);
        c.pump();
        CHECK(c.node(1).stats().read_retries == 0);
    }
    SECTION("all") {
        NodeConfig base;
        base.read_fanout = ReadFanout::all;
        Cluster c(3, base);
        REQUIRE(c.put(1, "cart/alice", "apple").code == errc::ok);
        start_read(c, 1, "cart/alice", 1);
        CHECK(asked(c).size() == 2);
        c.pump();
    }
}

TEST_CASE("read fanout: a replica silent past read_retry is replaced by the next target", "[node][read]") {
    NodeConfig base;
    base.read_retry = Duration::millis(20);
    Cluster c(3, base);
    REQUIRE(c.put(1, "cart/alice", "apple").code == errc::ok);
    const ClientToken token = start_read(c, 1, "cart/alice", 2);
    const auto peers = asked(c);
    REQUIRE(peers.size() == 1);
    c.dead.insert(peers[0]);  // paused: what it is sent is lost
    c.pump();
    c.advance(Duration::millis(10));
    CHECK(c.replies.count(token) == 0);  // one copy so far; the retry is not due
    CHECK(c.node(1).stats().read_retries == 0);
    c.advance(Duration::millis(11));
    REQUIRE(c.replies.count(token) == 1);
    CHECK(c.replies[token].code == errc::ok);
    CHECK(values(c.replies[token]) == std::set<std::string>{"apple"});
    CHECK(c.node(1).stats().read_retries == 1);
}

TEST_CASE("read fanout: a replica that answers with an error is replaced at once, and repaired", "[node][read]") {
    Cluster c(3);
    REQUIRE(c.put(1, "cart/alice", "apple").code == errc::ok);
    // Find the peer a read through node 1 asks, then damage that peer's copy.
    start_read(c, 1, "cart/alice", 2);
    const auto peers = asked(c);
    REQUIRE(peers.size() == 1);
    c.pump();
    const std::uint32_t damaged = peers[0];
    Cluster::Member& m = *c.members[damaged - 1];
    m.disk.corrupt_reads_of(store::data_key(c.ring->partition_of(hash_key("cart/alice")), "cart/alice"));
    m.buffered->forget_cached();

    const ClientToken token = start_read(c, 1, "cart/alice", 2);
    c.pump();  // no time passes: the third replica is asked on the error, not on a timer
    REQUIRE(c.replies.count(token) == 1);
    CHECK(c.replies[token].code == errc::ok);
    CHECK(values(c.replies[token]) == std::set<std::string>{"apple"});
    CHECK(c.node(1).stats().read_retries == 0);
    SiblingSet local;
    REQUIRE_FALSE(c.node(damaged).read_local("cart/alice", local));  // read repair rewrote it
    REQUIRE(local.siblings.size() == 1);
    CHECK(local.siblings.front().value == "apple");
}

}  // namespace shoal::test
