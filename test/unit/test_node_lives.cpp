// A node's lives: what one life sent or was sent must not be taken for the next
// one's (request ids, answers queued on a peer's link while the node restarted).
#include <catch2/catch.hpp>

#include <deque>
#include <set>
#include <string>
#include <utility>
#include <variant>

#include "node_harness.h"

using namespace shoal;
using namespace shoal::replica;
using namespace shoal::test;

TEST_CASE("an answer to a request of a node's earlier life is not taken for one of this life") {
    // Node 1 asks for "a"; its replica's answer is held back (on its link) while node 1
    // restarts. Node 1's first read in its new life, of "b", must not merge it in: the
    // two requests are the first of their lives, and would share an id if ids began
    // again at 1 each life.
    Cluster c(3);
    // Written by different leaders, so no clock of one covers the other's dot.
    REQUIRE(c.put(3, "a", "A").code == errc::ok);
    REQUIRE(c.put(2, "b", "B").code == errc::ok);

    ClientRequest ga;
    ga.op = ClientOp::get;
    ga.key = "a";
    ga.options.r = 3;  // both other replicas answer, so the one "b" asks has an old answer
    c.node(1).submit(c.now, 9001, ga);
    c.collect(1);
    std::deque<std::pair<NodeId, Envelope>> held;
    while (!c.wire.empty()) {
        auto [from, env] = std::move(c.wire.front());
        c.wire.pop_front();
        if (env.to == NodeId{1}) {
            held.emplace_back(from, std::move(env));  // the answer, kept from node 1
            continue;
        }
        c.node(env.to.value).step(c.now, from, std::move(env.msg));
        c.collect(env.to.value);
    }
    REQUIRE(held.size() == 2);
    REQUIRE(std::holds_alternative<GetResp>(held.front().second.msg));

    c.restart(1);
    ClientRequest gb;
    gb.op = ClientOp::get;
    gb.key = "b";
    c.node(1).submit(c.now, 9002, gb);
    c.collect(1);
    for (auto& [from, env] : held) {  // the old life's answer arrives first
        c.node(1).step(c.now, from, std::move(env.msg));
        c.collect(1);
    }
    c.pump();
    for (int i = 0; i < 50 && !c.replies.count(9002); ++i) c.advance(Duration::millis(100));
    REQUIRE(c.replies.count(9002) == 1);
    CHECK(c.replies[9002].code == errc::ok);
    CHECK(values(c.replies[9002]) == std::set<std::string>{"B"});
    RequestOptions all;
    all.r = 3;  // every replica: read repair wrote nothing of "a" into "b" anywhere
    const ClientReply b = c.get(3, "b", all);
    CHECK(b.code == errc::ok);
    CHECK(values(b) == std::set<std::string>{"B"});
}
