// The hint queue's bookkeeping (replica/hints.h), alone: its bounds, the keys hints
// name, the one batch in flight per target, and the numbers of hints and batches.
#include <catch2/catch.hpp>

#include "replica/hints.h"
#include "store/keys.h"

namespace shoal::replica {

namespace {
HintQueue::Hint hint_of(const std::string& stored, std::uint64_t bytes, const std::string& key) {
    return HintQueue::Hint{stored, bytes, key};
}
}  // namespace

TEST_CASE("hint queue: counts hints and bytes against both bounds", "[hints]") {
    HintQueue q(/*max_hints=*/3, /*max_bytes=*/100, /*first=*/0);
    CHECK(q.room(100));
    CHECK_FALSE(q.room(101));
    q.added(NodeId{2}, "a", 60);
    CHECK(q.pending() == 1);
    CHECK(q.bytes() == 60);
    CHECK(q.room(40));
    CHECK_FALSE(q.room(41));  // the byte bound
    q.added(NodeId{2}, "b", 10);
    q.added(NodeId{3}, "c", 10);
    CHECK_FALSE(q.room(1));  // the count bound: three hints
    CHECK(q.targets().at(NodeId{2}).pending == 2);
    CHECK(q.targets().at(NodeId{3}).pending == 1);
    q.forget(NodeId{2}, 60, "a");
    CHECK(q.pending() == 2);
    CHECK(q.bytes() == 20);
    CHECK(q.room(80));
    q.clear();
    CHECK(q.pending() == 0);
    CHECK(q.bytes() == 0);
    CHECK(q.targets().empty());
}

TEST_CASE("hint queue: a key stays named until its last hint is forgotten", "[hints]") {
    HintQueue q(100, 1000, 0);
    q.added(NodeId{2}, "cart", 5);
    q.added(NodeId{3}, "cart", 5);  // the same write hinted for two primaries
    CHECK(q.names("cart"));
    CHECK_FALSE(q.names("other"));
    CHECK_FALSE(q.forget(NodeId{2}, 5, "cart"));  // another hint still names it
    CHECK(q.names("cart"));
    CHECK(q.forget(NodeId{3}, 5, "cart"));
    CHECK_FALSE(q.names("cart"));
}

TEST_CASE("hint queue: hint numbers go on above those found in the store", "[hints]") {
    const std::uint64_t base = std::uint64_t{7} << 32;  // this life's numbers
    HintQueue q(100, 1000, base);
    NodeId target;
    std::uint64_t seq = 0;
    REQUIRE(store::parse_hint_key(q.next_key(NodeId{2}), target, seq));
    CHECK(target == NodeId{2});
    CHECK(seq == base);
    REQUIRE(store::parse_hint_key(q.next_key(NodeId{2}), target, seq));
    CHECK(seq == base + 1);
    q.found(NodeId{4}, base + 40, "k", 3);  // a hint written before a restart
    CHECK(q.pending() == 1);
    CHECK(q.names("k"));
    REQUIRE(store::parse_hint_key(q.next_key(NodeId{4}), target, seq));
    CHECK(target == NodeId{4});
    CHECK(seq == base + 41);
}

TEST_CASE("hint queue: one batch in flight per target, answered once", "[hints]") {
    HintQueue q(100, 1000, 10);
    q.added(NodeId{2}, "a", 1);
    q.added(NodeId{2}, "b", 1);
    HintQueue::Target& t = q.targets().at(NodeId{2});
    const Instant deadline{Duration::millis(500).us};
    const std::uint64_t seq = q.send(t, {hint_of("h1", 1, "a"), hint_of("h2", 1, "b")}, deadline);
    CHECK(seq == 11);  // batch numbers start above `first` too
    CHECK(t.inflight == seq);
    CHECK(t.deadline == deadline);
    CHECK(q.answered(NodeId{3}, seq) == nullptr);      // not its target
    CHECK(q.answered(NodeId{2}, seq + 1) == nullptr);  // not the batch in flight
    CHECK(q.answered(NodeId{2}, 0) == nullptr);
    HintQueue::Target* answered = q.answered(NodeId{2}, seq);
    REQUIRE(answered == &t);
    CHECK(t.inflight == 0);
    CHECK(t.batch.size() == 2);  // kept for the caller to delete and forget
    CHECK(q.answered(NodeId{2}, seq) == nullptr);  // a repeated answer finds nothing
    // A batch that goes unanswered is dropped; its hints still wait.
    const std::uint64_t again = q.send(t, {hint_of("h1", 1, "a")}, deadline);
    CHECK(again == seq + 1);
    HintQueue::expire(t);
    CHECK(t.inflight == 0);
    CHECK(t.batch.empty());
    CHECK(t.pending == 2);
    CHECK(q.answered(NodeId{2}, again) == nullptr);
}

TEST_CASE("hint queue: rounds come once per interval, or at once when hurried", "[hints]") {
    HintQueue q(100, 1000, 0);
    const Instant t0{1000};
    CHECK(q.round_due(t0, Duration::millis(200)));
    CHECK_FALSE(q.round_due(t0 + Duration::millis(199), Duration::millis(200)));
    CHECK(q.round_due(t0 + Duration::millis(200), Duration::millis(200)));
    const Instant t1 = t0 + Duration::millis(250);
    CHECK_FALSE(q.round_due(t1, Duration::millis(200)));
    q.hurry(t1);
    CHECK(q.round_due(t1, Duration::millis(200)));
}

}  // namespace shoal::replica
