// Unit tests for versions: version vectors, dotted version vector sets (apply_write,
// merge), last-writer-wins and expiry. Merge's algebraic properties are checked over
// many random histories of three replicas.
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "core/rng.h"
#include "core/types.h"
#include "replica/version.h"

using shoal::NodeId;
using shoal::Rng;
using shoal::Time;
using shoal::replica::actor_node;
using shoal::replica::ActorId;
using shoal::replica::apply_write;
using shoal::replica::ConflictMode;
using shoal::replica::Dot;
using shoal::replica::drop_expired;
using shoal::replica::live_count;
using shoal::replica::make_actor;
using shoal::replica::merge;
using shoal::replica::reads_as_absent;
using shoal::replica::repeats;
using shoal::replica::Sibling;
using shoal::replica::SiblingSet;
using shoal::replica::VersionVector;
using shoal::replica::WriteOp;

namespace {

const ActorId k_a1 = make_actor(NodeId{1}, 1);
const ActorId k_a2 = make_actor(NodeId{2}, 1);
const ActorId k_a3 = make_actor(NodeId{3}, 1);

WriteOp put(std::string value, VersionVector context = {}, Time written = Time{0}, Time expires = Time{0}) {
    WriteOp op;
    op.value = std::move(value);
    op.context = std::move(context);
    op.written = written;
    op.expires = expires;
    return op;
}

WriteOp del(VersionVector context, Time written = Time{0}) {
    WriteOp op;
    op.tombstone = true;
    op.context = std::move(context);
    op.written = written;
    return op;
}

std::vector<Dot> dots_of(const SiblingSet& s) {
    std::vector<Dot> out;
    for (const auto& sib : s.siblings) out.push_back(sib.dot);
    return out;
}

bool holds(const SiblingSet& s, const Dot& d) {
    return std::any_of(s.siblings.begin(), s.siblings.end(), [&](const Sibling& x) { return x.dot == d; });
}

// Sorted by dot, distinct, every dot covered by the context.
bool well_formed(const SiblingSet& s) {
    for (std::size_t i = 0; i < s.siblings.size(); ++i) {
        if (!s.context.covers(s.siblings[i].dot)) return false;
        if (i > 0 && !(s.siblings[i - 1].dot < s.siblings[i].dot)) return false;
    }
    const auto& e = s.context.entries();
    for (std::size_t i = 0; i < e.size(); ++i) {
        if (e[i].second == 0) return false;
        if (i > 0 && !(e[i - 1].first < e[i].first)) return false;
    }
    return true;
}

}  // namespace

TEST_CASE("actor ids pack node and incarnation", "[version]") {
    const ActorId a = make_actor(NodeId{7}, 3);
    CHECK(a == ((std::uint64_t{7} << 32) | 3));
    CHECK(actor_node(a) == NodeId{7});
    CHECK(make_actor(NodeId{7}, 3) != make_actor(NodeId{7}, 4));
}

TEST_CASE("version vector raise, get, covers", "[version]") {
    VersionVector vv;
    CHECK(vv.empty());
    CHECK(vv.get(k_a1) == 0);
    CHECK_FALSE(vv.covers(Dot{k_a1, 1}));
    CHECK_FALSE(vv.covers(Dot{k_a1, 0}));

    vv.raise(k_a2, 5);
    vv.raise(k_a1, 3);
    vv.raise(k_a3, 1);
    CHECK(vv.get(k_a1) == 3);
    CHECK(vv.get(k_a2) == 5);
    CHECK(vv.get(k_a3) == 1);
    CHECK(vv.get(make_actor(NodeId{4}, 1)) == 0);

    // Raise never lowers.
    vv.raise(k_a2, 2);
    CHECK(vv.get(k_a2) == 5);
    vv.raise(Dot{k_a2, 9});
    CHECK(vv.get(k_a2) == 9);
    // Raising to 0 adds no entry.
    vv.raise(make_actor(NodeId{9}, 1), 0);
    CHECK(vv.entries().size() == 3);

    // Entries sorted by actor.
    const std::vector<VersionVector::Entry> expected{{k_a1, 3}, {k_a2, 9}, {k_a3, 1}};
    CHECK(vv.entries() == expected);

    CHECK(vv.covers(Dot{k_a1, 1}));
    CHECK(vv.covers(Dot{k_a1, 3}));
    CHECK_FALSE(vv.covers(Dot{k_a1, 4}));
    // Counter 0 is never a dot.
    CHECK_FALSE(vv.covers(Dot{k_a1, 0}));
    CHECK_FALSE(vv.covers(Dot{make_actor(NodeId{4}, 1), 1}));
}

TEST_CASE("version vector join and descends", "[version]") {
    VersionVector a, b;
    a.raise(k_a1, 3);
    a.raise(k_a2, 1);
    b.raise(k_a2, 4);
    b.raise(k_a3, 2);

    CHECK_FALSE(a.descends(b));
    CHECK_FALSE(b.descends(a));
    CHECK(a.descends(a));
    CHECK(a.descends(VersionVector{}));
    CHECK_FALSE(VersionVector{}.descends(a));
    CHECK(VersionVector{}.descends(VersionVector{}));

    VersionVector j = a;
    j.join(b);
    const std::vector<VersionVector::Entry> expected{{k_a1, 3}, {k_a2, 4}, {k_a3, 2}};
    CHECK(j.entries() == expected);
    CHECK(j.descends(a));
    CHECK(j.descends(b));

    VersionVector k = b;
    k.join(a);
    CHECK(k == j);

    VersionVector e;
    e.join(a);
    CHECK(e == a);
    VersionVector a2 = a;
    a2.join(VersionVector{});
    CHECK(a2 == a);

    // Descends is pointwise: equal on one entry, less on another.
    VersionVector c;
    c.raise(k_a1, 3);
    c.raise(k_a2, 2);
    CHECK(c.descends(a));
    CHECK_FALSE(a.descends(c));
}

TEST_CASE("apply_write: blind writes keep concurrency, context supersedes", "[version]") {
    SiblingSet s;
    const Dot d1 = apply_write(s, put("x"), k_a1, ConflictMode::dvv);
    CHECK(d1 == Dot{k_a1, 1});
    REQUIRE(s.siblings.size() == 1);
    CHECK(s.siblings[0].dot == Dot{k_a1, 1});
    CHECK(s.siblings[0].value == "x");
    CHECK_FALSE(s.siblings[0].tombstone);
    CHECK(s.context.get(k_a1) == 1);
    CHECK(live_count(s, Time{0}) == 1);
    CHECK_FALSE(reads_as_absent(s, Time{0}));

    // A second blind write: concurrent with the first, both kept.
    const Dot d2 = apply_write(s, put("y"), k_a1, ConflictMode::dvv);
    CHECK(d2 == Dot{k_a1, 2});
    CHECK(dots_of(s) == std::vector<Dot>{{k_a1, 1}, {k_a1, 2}});
    CHECK(s.siblings[0].value == "x");
    CHECK(s.siblings[1].value == "y");
    CHECK(live_count(s, Time{0}) == 2);
    CHECK(s.context.get(k_a1) == 2);

    // A write with the context read supersedes both.
    const Dot d3 = apply_write(s, put("z", s.context), k_a2, ConflictMode::dvv);
    CHECK(d3 == Dot{k_a2, 1});
    REQUIRE(s.siblings.size() == 1);
    CHECK(s.siblings[0].dot == Dot{k_a2, 1});
    CHECK(s.siblings[0].value == "z");
    const std::vector<VersionVector::Entry> ctx{{k_a1, 2}, {k_a2, 1}};
    CHECK(s.context.entries() == ctx);

    // A delete with the full context leaves one tombstone.
    const Dot d4 = apply_write(s, del(s.context), k_a1, ConflictMode::dvv);
    CHECK(d4 == Dot{k_a1, 3});
    REQUIRE(s.siblings.size() == 1);
    CHECK(s.siblings[0].tombstone);
    CHECK(s.siblings[0].value.empty());
    CHECK(s.siblings[0].dot == Dot{k_a1, 3});
    CHECK(live_count(s, Time{0}) == 0);
    CHECK(reads_as_absent(s, Time{0}));
}

TEST_CASE("apply_write: blind writes of the same value make one sibling", "[version]") {
    SiblingSet s;
    for (int i = 0; i < 5; ++i) apply_write(s, put("same"), k_a1, ConflictMode::dvv);
    REQUIRE(s.siblings.size() == 1);
    CHECK(s.siblings[0].dot == Dot{k_a1, 5});
    CHECK(s.context.get(k_a1) == 5);  // every dot stays seen
    // A different value beside it is a sibling; repeating either keeps two.
    apply_write(s, put("other"), k_a2, ConflictMode::dvv);
    apply_write(s, put("same"), k_a2, ConflictMode::dvv);
    CHECK(s.siblings.size() == 2);
    CHECK(live_count(s, Time{0}) == 2);
    // A replica that still holds an early copy drops it on merge: the context covers it.
    SiblingSet early;
    apply_write(early, put("same"), k_a1, ConflictMode::dvv);
    const SiblingSet merged = merge(early, s, ConflictMode::dvv);
    CHECK(merged.siblings.size() == 2);
    // The same bytes with another expiry are another write: a value without a TTL must
    // not vanish with a concurrent one that has one.
    SiblingSet ttl;
    apply_write(ttl, put("v"), k_a1, ConflictMode::dvv);
    apply_write(ttl, put("v", {}, Time{0}, Time{1'000'000}), k_a2, ConflictMode::dvv);
    CHECK(ttl.siblings.size() == 2);
    CHECK(live_count(ttl, Time{2'000'000}) == 1);
    // Tombstones repeat as one tombstone too.
    SiblingSet t;
    apply_write(t, del({}), k_a1, ConflictMode::dvv);
    apply_write(t, del({}), k_a1, ConflictMode::dvv);
    CHECK(t.siblings.size() == 1);
}

TEST_CASE("apply_write: partial context supersedes only what was seen", "[version]") {
    SiblingSet s;
    apply_write(s, put("a"), k_a1, ConflictMode::dvv);  // (a1,1)
    VersionVector seen = s.context;                     // reader saw only (a1,1)
    apply_write(s, put("b"), k_a2, ConflictMode::dvv);  // (a2,1), concurrent
    apply_write(s, put("c", seen), k_a3, ConflictMode::dvv);
    CHECK(dots_of(s) == std::vector<Dot>{{k_a2, 1}, {k_a3, 1}});
    CHECK(s.siblings[0].value == "b");
    CHECK(s.siblings[1].value == "c");
}

TEST_CASE("apply_write: delete with a stale context keeps the concurrent value", "[version]") {
    SiblingSet s;
    apply_write(s, put("a"), k_a1, ConflictMode::dvv);
    VersionVector seen = s.context;
    apply_write(s, put("b"), k_a1, ConflictMode::dvv);
    apply_write(s, del(seen), k_a1, ConflictMode::dvv);
    CHECK(dots_of(s) == std::vector<Dot>{{k_a1, 2}, {k_a1, 3}});
    CHECK(live_count(s, Time{0}) == 1);
    CHECK_FALSE(reads_as_absent(s, Time{0}));
}

TEST_CASE("apply_write: issued counter exceeds local and the op context", "[version]") {
    SECTION("op context ahead of local") {
        SiblingSet s;
        apply_write(s, put("a"), k_a1, ConflictMode::dvv);  // local a1 = 1
        VersionVector ctx;
        ctx.raise(k_a1, 7);
        const Dot d = apply_write(s, put("b", ctx), k_a1, ConflictMode::dvv);
        CHECK(d == Dot{k_a1, 8});
        CHECK(s.context.get(k_a1) == 8);
        CHECK(dots_of(s) == std::vector<Dot>{{k_a1, 8}});
    }
    SECTION("local ahead of op context") {
        SiblingSet s;
        for (int i = 0; i < 5; ++i) apply_write(s, put("v" + std::to_string(i)), k_a1, ConflictMode::dvv);
        VersionVector ctx;
        ctx.raise(k_a1, 2);
        const Dot d = apply_write(s, put("b", ctx), k_a1, ConflictMode::dvv);
        CHECK(d == Dot{k_a1, 6});
        CHECK(dots_of(s) == std::vector<Dot>{{k_a1, 3}, {k_a1, 4}, {k_a1, 5}, {k_a1, 6}});
    }
    SECTION("other actors' entries do not matter") {
        SiblingSet s;
        VersionVector ctx;
        ctx.raise(k_a2, 40);
        const Dot d = apply_write(s, put("b", ctx), k_a1, ConflictMode::dvv);
        CHECK(d == Dot{k_a1, 1});
        CHECK(s.context.get(k_a2) == 40);  // the writer's context is joined in
    }
}

TEST_CASE("merge: superseded sibling does not come back", "[version]") {
    SiblingSet a;
    const Dot d1 = apply_write(a, put("old"), k_a1, ConflictMode::dvv);
    SiblingSet b = a;
    const Dot d2 = apply_write(b, put("new", a.context), k_a2, ConflictMode::dvv);
    REQUIRE_FALSE(holds(b, d1));
    REQUIRE(b.context.covers(d1));

    for (auto m : {merge(a, b, ConflictMode::dvv), merge(b, a, ConflictMode::dvv)}) {
        CHECK(dots_of(m) == std::vector<Dot>{d2});
        CHECK(m.siblings[0].value == "new");
        CHECK(m == b);
    }
}

TEST_CASE("merge: concurrent writes on two replicas become siblings", "[version]") {
    SiblingSet a, b;
    const Dot da = apply_write(a, put("A"), k_a1, ConflictMode::dvv);
    const Dot db = apply_write(b, put("B"), k_a2, ConflictMode::dvv);
    const SiblingSet m = merge(a, b, ConflictMode::dvv);
    CHECK(dots_of(m) == std::vector<Dot>{da, db});
    const std::vector<VersionVector::Entry> ctx{{k_a1, 1}, {k_a2, 1}};
    CHECK(m.context.entries() == ctx);
    CHECK(merge(m, a, ConflictMode::dvv) == m);
}

TEST_CASE("lww: later written wins, ties broken by dot", "[version]") {
    SECTION("later time wins regardless of order") {
        SiblingSet a, b;
        apply_write(a, put("late", {}, Time{200}), k_a1, ConflictMode::lww);
        apply_write(b, put("early", {}, Time{100}), k_a2, ConflictMode::lww);
        for (auto m : {merge(a, b, ConflictMode::lww), merge(b, a, ConflictMode::lww)}) {
            REQUIRE(m.siblings.size() == 1);
            CHECK(m.siblings[0].value == "late");
            CHECK(m.siblings[0].dot == Dot{k_a1, 1});
            const std::vector<VersionVector::Entry> ctx{{k_a1, 1}, {k_a2, 1}};
            CHECK(m.context.entries() == ctx);
        }
        // Under dvv the same two would both survive.
        CHECK(merge(a, b, ConflictMode::dvv).siblings.size() == 2);
    }
    SECTION("equal times: greater dot wins") {
        SiblingSet a, b;
        apply_write(a, put("one", {}, Time{500}), k_a1, ConflictMode::lww);
        apply_write(b, put("two", {}, Time{500}), k_a2, ConflictMode::lww);
        for (auto m : {merge(a, b, ConflictMode::lww), merge(b, a, ConflictMode::lww)}) {
            REQUIRE(m.siblings.size() == 1);
            CHECK(m.siblings[0].dot == Dot{k_a2, 1});
            CHECK(m.siblings[0].value == "two");
        }
    }
    SECTION("apply_write stamps the new write after what its leader holds, so it wins there") {
        SiblingSet s;
        apply_write(s, put("first", {}, Time{300}), k_a1, ConflictMode::lww);
        const Dot d = apply_write(s, put("skewed", {}, Time{100}), k_a1, ConflictMode::lww);
        CHECK(d == Dot{k_a1, 2});
        REQUIRE(s.siblings.size() == 1);
        CHECK(s.siblings[0].value == "skewed");
        CHECK(s.siblings[0].written == Time{301});
        CHECK(s.context.get(k_a1) == 2);
    }
    SECTION("a merge still orders writes of two leaders by their stamps") {
        SiblingSet a, b;
        apply_write(a, put("first", {}, Time{300}), k_a1, ConflictMode::lww);
        apply_write(b, put("behind", {}, Time{100}), k_a2, ConflictMode::lww);  // never saw "first"
        const SiblingSet m = merge(a, b, ConflictMode::lww);
        REQUIRE(m.siblings.size() == 1);
        CHECK(m.siblings[0].value == "first");
    }
}

TEST_CASE("expiry: expired siblings read as absent, drop_expired keeps the context", "[version]") {
    SiblingSet s;
    apply_write(s, put("session", {}, Time{10}, Time{100}), k_a1, ConflictMode::dvv);
    apply_write(s, put("forever", {}, Time{10}, Time{0}), k_a2, ConflictMode::dvv);
    REQUIRE(s.siblings.size() == 2);
    const Sibling& exp = s.siblings[0];
    CHECK(exp.value == "session");
    CHECK_FALSE(exp.expired(Time{99}));
    CHECK(exp.expired(Time{100}));
    CHECK(exp.expired(Time{101}));
    CHECK_FALSE(s.siblings[1].expired(Time{1'000'000'000}));

    CHECK(live_count(s, Time{99}) == 2);
    CHECK(live_count(s, Time{100}) == 1);

    const VersionVector before = s.context;
    SiblingSet copy = s;
    drop_expired(copy, Time{99});
    CHECK(copy == s);
    drop_expired(copy, Time{100});
    CHECK(dots_of(copy) == std::vector<Dot>{{k_a2, 1}});
    CHECK(copy.context == before);

    SiblingSet only;
    apply_write(only, put("s", {}, Time{0}, Time{50}), k_a1, ConflictMode::dvv);
    CHECK_FALSE(reads_as_absent(only, Time{49}));
    CHECK(reads_as_absent(only, Time{50}));
    drop_expired(only, Time{50});
    CHECK(only.siblings.empty());
    CHECK(only.context.get(k_a1) == 1);
    CHECK_FALSE(only.empty());

    // A write with the context after expiry supersedes the expired value too.
    SiblingSet t;
    apply_write(t, put("s", {}, Time{0}, Time{50}), k_a1, ConflictMode::dvv);
    SiblingSet seen = t;
    drop_expired(seen, Time{60});
    apply_write(t, put("n", seen.context), k_a1, ConflictMode::dvv);
    CHECK(dots_of(t) == std::vector<Dot>{{k_a1, 2}});
}

TEST_CASE("reads_as_absent on empty and tombstone-only sets", "[version]") {
    CHECK(reads_as_absent(SiblingSet{}, Time{0}));
    CHECK(live_count(SiblingSet{}, Time{0}) == 0);
    SiblingSet s;
    apply_write(s, del({}), k_a1, ConflictMode::dvv);
    CHECK(s.siblings.size() == 1);
    CHECK(reads_as_absent(s, Time{0}));
    apply_write(s, put("v"), k_a2, ConflictMode::dvv);
    CHECK(live_count(s, Time{0}) == 1);
    CHECK_FALSE(reads_as_absent(s, Time{0}));
}

namespace {

// Random histories: three replicas each coordinating writes as their own actor, with
// contexts drawn from states seen so far (possibly lowered, possibly empty), and
// random pairwise anti-entropy merges. Every state ever reached goes into `pool`.
std::vector<SiblingSet> random_history(std::uint64_t seed) {
    Rng rng(seed);
    std::vector<SiblingSet> replicas(3);
    const ActorId actors[3] = {k_a1, k_a2, k_a3};
    std::vector<SiblingSet> pool{SiblingSet{}};
    const int steps = 4 + static_cast<int>(rng.below(20));
    for (int step = 0; step < steps; ++step) {
        const auto r = rng.below(3);
        if (rng.chance(0.6)) {
            WriteOp op;
            op.tombstone = rng.chance(0.2);
            if (!op.tombstone) op.value = "v" + std::to_string(rng.below(1000));
            op.written = Time{static_cast<std::int64_t>(rng.below(1000))};
            if (!rng.chance(0.25)) {
                // A context some reader saw: a snapshot of some state, maybe lowered.
                const VersionVector& seen = pool[rng.below(pool.size())].context;
                if (rng.chance(0.5)) {
                    op.context = seen;
                } else {
                    for (const auto& [actor, counter] : seen.entries()) op.context.raise(actor, rng.below(counter + 1));
                }
            }
            apply_write(replicas[r], op, actors[r], ConflictMode::dvv);
        } else {
            const auto o = rng.below(3);
            replicas[r] = merge(replicas[r], replicas[o], ConflictMode::dvv);
        }
        pool.push_back(replicas[r]);
    }
    return pool;
}

}  // namespace

TEST_CASE("merge properties over random histories", "[version][property]") {
    constexpr ConflictMode dvv = ConflictMode::dvv;
    std::size_t checked = 0;
    std::size_t with_siblings = 0;
    for (std::uint64_t seed = 1; seed <= 500; ++seed) {
        const auto pool = random_history(seed);
        Rng pick(seed * 7919 + 13);
        for (int trial = 0; trial < 10; ++trial) {
            const SiblingSet& a = pool[pick.below(pool.size())];
            const SiblingSet& b = pool[pick.below(pool.size())];
            const SiblingSet& c = pool[pick.below(pool.size())];
            INFO("seed " << seed << " trial " << trial);
            REQUIRE(well_formed(a));

            const SiblingSet ab = merge(a, b, dvv);
            REQUIRE(ab == merge(b, a, dvv));                                // commutative
            REQUIRE(merge(ab, c, dvv) == merge(a, merge(b, c, dvv), dvv));  // associative
            REQUIRE(merge(a, a, dvv) == a);                                 // idempotent
            REQUIRE(merge(a, SiblingSet{}, dvv) == a);                      // identity
            REQUIRE(merge(SiblingSet{}, a, dvv) == a);
            REQUIRE(well_formed(ab));  // sorted, distinct, covered

            VersionVector joined = a.context;
            joined.join(b.context);
            REQUIRE(ab.context == joined);

            // No lost concurrent write: what b has not seen survives; what both hold
            // survives; what b has seen and dropped stays dropped.
            for (const auto& s : a.siblings) {
                if (!b.context.covers(s.dot) || holds(b, s.dot)) {
                    REQUIRE(holds(ab, s.dot));
                } else {
                    REQUIRE_FALSE(holds(ab, s.dot));
                }
            }
            // Nothing appears from nowhere.
            for (const auto& s : ab.siblings) REQUIRE((holds(a, s.dot) || holds(b, s.dot)));
            ++checked;
            if (ab.siblings.size() > 1) ++with_siblings;
        }
    }
    CHECK(checked == 5000);
    // The generator does produce concurrency, so the properties are not vacuous.
    CHECK(with_siblings > 500);
}

TEST_CASE("apply_write invariants over random histories", "[version][property]") {
    int repeated = 0;
    for (std::uint64_t seed = 1000; seed < 1500; ++seed) {
        Rng rng(seed);
        auto pool = random_history(seed);
        SiblingSet s = pool[rng.below(pool.size())];
        const VersionVector ctx = pool[rng.below(pool.size())].context;
        const SiblingSet before = s;
        const ActorId actor = make_actor(NodeId{static_cast<std::uint32_t>(1 + rng.below(3))}, 1);
        // Now and then the write repeats a value already stored.
        const std::string value =
            !before.siblings.empty() && rng.below(4) == 0 ? before.siblings[rng.below(before.siblings.size())].value : "w";
        const auto survives = [&](const Sibling& x) { return !ctx.covers(x.dot) && !repeats(x, put(value, ctx)); };
        const Dot d = apply_write(s, put(value, ctx), actor, ConflictMode::dvv);
        INFO("seed " << seed);
        REQUIRE(d.actor == actor);
        REQUIRE(d.counter == std::max(before.context.get(actor), ctx.get(actor)) + 1);
        REQUIRE(well_formed(s));
        REQUIRE(holds(s, d));
        for (const auto& old : before.siblings) {
            REQUIRE(holds(s, old.dot) == survives(old));
            REQUIRE(s.context.covers(old.dot));
        }
        REQUIRE(s.siblings.size() ==
                1 + static_cast<std::size_t>(std::count_if(before.siblings.begin(), before.siblings.end(), survives)));
        if (value != "w") ++repeated;
        REQUIRE(s.context.descends(before.context));
        REQUIRE(s.context.descends(ctx));
    }
    CHECK(repeated > 50);  // the repeated-value case is exercised
}
