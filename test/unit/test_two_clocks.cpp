// The core's two clocks: deadlines and liveness run on the monotonic one, stamps and
// TTLs on the wall one. A step of the wall clock (NTP, a host set wrong) expires no
// request, stalls none and suspects no peer.
#include <catch2/catch.hpp>

#include "node_harness.h"

namespace shoal::test {

namespace {
ClientRequest put_of(std::string key, std::string value) {
    ClientRequest r;
    r.op = ClientOp::put;
    r.key = std::move(key);
    r.value = std::move(value);
    return r;
}
}  // namespace

TEST_CASE("a step of the wall clock neither expires nor stalls a request", "[clock]") {
    Cluster c(3);
    c.dead = {2, 3};  // W=2 cannot be met: the put waits for its deadline
    c.node(1).submit(c.now, 1, put_of("k", "v"));
    c.collect(1);
    c.pump();
    REQUIRE(c.replies.count(1) == 0);

    // A minute forward on the wall clock, 10 ms on the monotonic one.
    c.now.wall = c.now.wall + Duration::seconds(60);
    c.now.mono = c.now.mono + Duration::millis(10);
    c.node(1).tick(c.now);
    c.collect(1);
    CHECK(c.replies.count(1) == 0);           // not expired by the step
    CHECK(c.node(1).believes_up(NodeId{2}));  // and nobody suspected for it
    CHECK(c.node(1).believes_up(NodeId{3}));

    // Two minutes back on the wall clock while the deadline passes on the monotonic
    // one: the request fails on time all the same.
    c.now.wall = c.now.wall - Duration::seconds(120);
    c.now.mono = c.now.mono + NodeConfig{}.request_timeout;
    c.node(1).tick(c.now);
    c.collect(1);
    REQUIRE(c.replies.count(1) == 1);
    CHECK(c.replies.at(1).code == errc::quorum_not_met);
    CHECK_FALSE(c.node(1).believes_up(NodeId{2}));  // now it missed its deadline
}

TEST_CASE("a write is stamped, and its TTL judged, by the wall clock", "[clock]") {
    Cluster c(3);
    c.now.wall = Time{1'700'000'000'000'000};  // a calendar time, far from the monotonic reading
    ClientRequest r = put_of("session", "s1");
    RequestOptions ttl;
    ttl.ttl_s = 10;
    r.options = ttl;
    const ClientToken token = 9;
    c.node(1).submit(c.now, token, std::move(r));
    c.collect(1);
    c.pump();
    REQUIRE(c.replies.count(token) == 1);
    REQUIRE(c.replies.at(token).code == errc::ok);

    const ClientReply read = c.get(2, "session");
    REQUIRE(read.code == errc::ok);
    REQUIRE(read.siblings.size() == 1);
    CHECK(read.siblings[0].written == c.now.wall);
    CHECK(read.siblings[0].expires == c.now.wall + Duration::seconds(10));

    // Eleven seconds later on the wall clock only: expired, on every replica.
    c.now.wall = c.now.wall + Duration::seconds(11);
    c.now.mono = c.now.mono + Duration::millis(1);
    CHECK(c.get(3, "session").code == errc::not_found);
}

}  // namespace shoal::test
