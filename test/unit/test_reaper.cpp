// Tombstone GC's bookkeeping (replica/reaper.h), alone: which states are candidates,
// when one is ripe (grace, the caller's caught-up check), the round's pace and batch,
// and how long a reaped context is remembered.
#include <catch2/catch.hpp>

#include <set>

#include "replica/reaper.h"

namespace shoal::replica {

namespace {
SiblingSet tombstone_at(std::int64_t written_us) {
    SiblingSet s;
    Sibling t;
    t.dot = Dot{1, 1};
    t.tombstone = true;
    t.written = Time{written_us};
    s.siblings.push_back(t);
    s.context.raise(t.dot);
    return s;
}
SiblingSet live() {
    SiblingSet s;
    Sibling v;
    v.dot = Dot{1, 2};
    v.value = "apple";
    s.siblings.push_back(v);
    return s;
}
ReaperBounds quick() {
    ReaperBounds b;
    b.interval = Duration::millis(10);
    b.grace = Duration::seconds(1);
    b.batch = 2;
    b.max_candidates = 100;
    b.memory = Duration::seconds(5);
    b.max_remembered = 2;
    return b;
}
Now at(std::int64_t ms) { return Now{Instant{ms * 1000}, Time{ms * 1000}}; }
const auto always = [](const Reaper::Candidate&) { return true; };
}  // namespace

TEST_CASE("reaper: dead states are candidates, each stable from a step of its own; a live one is not", "[reaper]") {
    Reaper r(quick());
    std::uint64_t step = 10;
    r.note("a", PartitionId{1}, tombstone_at(0), step);
    CHECK(step == 11);
    CHECK(r.candidates() == 1);
    SiblingSet expiring = live();
    expiring.siblings[0].expires = Time{5000};
    r.note("b", PartitionId{1}, expiring, step);  // a value with a TTL dies too
    CHECK(step == 12);
    CHECK(r.candidates() == 2);
    r.note("a", PartitionId{1}, live(), step);  // written again: no longer dead
    CHECK(step == 12);
    CHECK(r.candidates() == 1);
    r.note("c", PartitionId{1}, SiblingSet{}, step);  // nothing stored: nothing to reap
    CHECK(r.candidates() == 1);
    r.clear_candidates();
    CHECK(r.candidates() == 0);
}

TEST_CASE("reaper: ripe once the grace has passed and the caller says the others caught up", "[reaper]") {
    Reaper r(quick());
    std::uint64_t step = 0;
    r.note("k", PartitionId{3}, tombstone_at(0), step);
    CHECK(r.ripe(at(999), always).empty());  // grace: 1 s after the tombstone
    CHECK(r.ripe(at(1005), always).empty());  // not the next round yet (10 ms)
    std::uint64_t asked_step = 0;
    PartitionId asked_partition;
    const auto behind = [&](const Reaper::Candidate& c) {
        asked_step = c.stable_step;
        asked_partition = c.partition;
        return false;
    };
    CHECK(r.ripe(at(1010), behind).empty());
    CHECK(asked_step == 1);
    CHECK(asked_partition == PartitionId{3});
    CHECK(r.ripe(at(1020), always) == std::vector<std::string>{"k"});
}

TEST_CASE("reaper: a round looks at `batch` candidates and the next goes on from there", "[reaper]") {
    Reaper r(quick());  // batch 2
    std::uint64_t step = 0;
    for (const char* k : {"a", "b", "c"}) r.note(k, PartitionId{0}, tombstone_at(0), step);
    std::set<std::string> seen;
    for (int round = 0; round < 3; ++round) {
        const auto got = r.ripe(at(2000 + 10 * round), always);
        CHECK(got.size() == 2);
        seen.insert(got.begin(), got.end());
    }
    CHECK(seen == std::set<std::string>{"a", "b", "c"});  // every candidate comes round
}

TEST_CASE("reaper: a reaped context is remembered for `memory`, and at most `max_remembered`", "[reaper]") {
    Reaper r(quick());  // memory 5 s, at most 2
    VersionVector ctx;
    ctx.raise(Dot{7, 3});
    r.reaped("x", Instant{0}, ctx);
    REQUIRE(r.recently_reaped("x") != nullptr);
    CHECK(r.recently_reaped("x")->covers(Dot{7, 3}));
    CHECK(r.recently_reaped("y") == nullptr);
    (void)r.ripe(at(5000), always);  // 5 s: still remembered
    CHECK(r.recently_reaped("x") != nullptr);
    (void)r.ripe(at(5011), always);  // past it
    CHECK(r.recently_reaped("x") == nullptr);
    r.reaped("a", Instant{6'000'000}, ctx);
    r.reaped("b", Instant{6'000'000}, ctx);
    r.reaped("c", Instant{6'000'000}, ctx);
    (void)r.ripe(at(6020), always);  // three remembered, two allowed: the oldest goes
    CHECK(r.recently_reaped("a") == nullptr);
    CHECK(r.recently_reaped("b") != nullptr);
    CHECK(r.recently_reaped("c") != nullptr);
}

}  // namespace shoal::replica
