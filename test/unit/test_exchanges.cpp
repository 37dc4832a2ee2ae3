// Anti-entropy's bookkeeping (replica/exchanges.h), alone: one exchange per peer, the
// pace and bound on starting them, pairs put aside for a busy peer, deadlines, and the
// record of complete exchanges that tombstone GC reads.
#include <catch2/catch.hpp>

#include <optional>

#include "replica/exchanges.h"

namespace shoal::replica {

namespace {
const auto everyone_up = [](NodeId) { return true; };
// Cursor positions 0..3 name (partition c, peer 2 + c % 2): peers 2 and 3 in turn.
const auto two_peers = [](std::uint64_t c) -> std::optional<Exchanges::Pair> {
    return Exchanges::Pair{PartitionId{static_cast<std::uint32_t>(c)}, NodeId{static_cast<std::uint32_t>(2 + c % 2)}};
};
}  // namespace

TEST_CASE("exchanges: one per peer; a pair whose peer is busy waits for it and goes first", "[exchanges]") {
    Exchanges x(/*first_xid=*/100, /*cursor=*/0);
    const Instant now{1000};
    auto a = x.next_pair(4, everyone_up, two_peers);
    REQUIRE(a);
    CHECK(a->partition == PartitionId{0});
    CHECK(a->peer == NodeId{2});
    Exchanges::Exchange& ex = x.begin(*a, 7, now + Duration::seconds(1));
    CHECK(ex.xid == 101);
    CHECK(ex.start_step == 7);
    auto b = x.next_pair(4, everyone_up, two_peers);
    REQUIRE(b);
    CHECK(b->peer == NodeId{3});
    x.begin(*b, 8, now + Duration::seconds(1));
    // Both peers busy: the walk puts positions 2 and 3 aside and finds nothing.
    CHECK_FALSE(x.next_pair(4, everyone_up, two_peers));
    CHECK(x.running().size() == 2);
    // Peer 2 done: what waited for it comes before the cursor.
    Exchanges::Exchange* done = x.answered(NodeId{2}, 101, now);
    REQUIRE(done != nullptr);
    x.finish(*done, true);
    auto c = x.next_pair(4, everyone_up, two_peers);
    REQUIRE(c);
    CHECK(c->peer == NodeId{2});
    CHECK(c->partition == PartitionId{2});  // the deferred one, not position 0 again
}

TEST_CASE("exchanges: what waited for a peer believed down is dropped", "[exchanges]") {
    Exchanges x(0, 0);
    x.begin(Exchanges::Pair{PartitionId{9}, NodeId{2}}, 1, Instant{100});
    x.begin(Exchanges::Pair{PartitionId{8}, NodeId{3}}, 2, Instant{100});
    CHECK_FALSE(x.next_pair(4, everyone_up, two_peers));  // 0..3 put aside
    x.finish(*x.answered(NodeId{2}, 1, Instant{0}), false);
    const auto two_down = [](NodeId p) { return p != NodeId{2}; };
    // Peer 2's deferred pairs go; the cursor (at 4 now) comes round to position 0 again.
    auto next = x.next_pair(4, two_down, [&](std::uint64_t c) -> std::optional<Exchanges::Pair> {
        auto p = two_peers(c);
        return two_down(p->peer) ? p : std::nullopt;
    });
    CHECK_FALSE(next);  // only peer 3's positions are left, and it is busy
    CHECK(x.aborted_by_peer().at(NodeId{2}) == 1);
}

TEST_CASE("exchanges: deadlines, answers that renew them, and a bounded pace", "[exchanges]") {
    Exchanges x(0, 0);
    CHECK(x.may_start(Instant{0}, Duration::millis(250), 2));
    CHECK_FALSE(x.may_start(Instant{1}, Duration::millis(250), 2));  // not due yet
    const Exchanges::Exchange& ex = x.begin(Exchanges::Pair{PartitionId{1}, NodeId{2}}, 1, Instant{500});
    const std::uint64_t xid = ex.xid;
    x.begin(Exchanges::Pair{PartitionId{1}, NodeId{3}}, 2, Instant{500});
    CHECK_FALSE(x.may_start(Instant{300'000}, Duration::millis(250), 2));  // due, but two run
    CHECK(x.answered(NodeId{2}, xid + 99, Instant{900}) == nullptr);  // another exchange's id
    REQUIRE(x.answered(NodeId{2}, xid, Instant{900}) != nullptr);    // deadline now 900
    const auto expired = x.expire(Instant{600});
    CHECK(expired == std::vector<NodeId>{NodeId{3}});
    CHECK(x.running().size() == 1);
    CHECK(x.aborted_by_peer().at(NodeId{3}) == 1);
    CHECK(x.may_start(Instant{300'000}, Duration::millis(250), 2));
}

TEST_CASE("exchanges: only a complete exchange with nothing left out counts for GC", "[exchanges]") {
    Exchanges x(0, 0);
    const Exchanges::Pair pair{PartitionId{4}, NodeId{2}};
    CHECK_FALSE(x.synced_after(pair.partition, pair.peer, 0));
    Exchanges::Exchange& truncated = x.begin(pair, 10, Instant{100});
    truncated.truncated = true;
    x.finish(truncated, true);
    CHECK_FALSE(x.synced_after(pair.partition, pair.peer, 0));
    x.finish(x.begin(pair, 20, Instant{100}), true);
    CHECK(x.synced_after(pair.partition, pair.peer, 19));
    CHECK_FALSE(x.synced_after(pair.partition, pair.peer, 20));  // started at step 20: not after it
    CHECK_FALSE(x.synced_after(pair.partition, NodeId{3}, 0));
    x.begin(pair, 30, Instant{100});
    x.clear_running();
    CHECK(x.running().empty());
    CHECK(x.synced_after(pair.partition, pair.peer, 19));  // the record stays
}

}  // namespace shoal::replica
