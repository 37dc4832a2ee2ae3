// Unit tests for the data types (replica/datatypes.h): the add-wins observed-remove set
// and the PN-counter. Merge's algebra and the set's meaning are checked over random
// histories of replicas that apply updates and exchange states in random order; the
// encodings round-trip and refuse every truncation.
#include <algorithm>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "core/errc.h"
#include "core/rng.h"
#include "replica/datatypes.h"
#include "datatypes_test_util.h"

using shoal::errc;
using shoal::NodeId;
using shoal::Rng;
using shoal::Time;
using shoal::replica::Dot;
using shoal::replica::make_actor;
using shoal::replica::Sibling;
using shoal::replica::VersionVector;
namespace dt = shoal::replica::dt;

namespace {

dt::Set& set_of(dt::State& s) { return std::get<dt::Set>(s); }

dt::Update add(std::vector<std::string> items) { return dt::SetUpdate{std::move(items), {}, {}}; }
dt::Update remove(std::vector<std::string> items, VersionVector context) {
    return dt::SetUpdate{{}, std::move(items), std::move(context)};
}

// A replica of one key: its state and the actor that issues its dots.
struct Replica {
    dt::State state;
    shoal::replica::ActorId actor;
    std::uint64_t counter = 0;
    Dot next() { return Dot{actor, ++counter}; }
};

struct AddEvent {
    std::string item;
    Dot dot;
};
struct RemoveEvent {
    std::string item;
    VersionVector context;
};

// A random history over `replicas` replicas of a set: adds, removes decided on some
// replica's read (applied at another, which may not have seen it yet) and merges.
struct SetHistory {
    std::vector<Replica> replicas;
    std::vector<AddEvent> adds;
    std::vector<RemoveEvent> removes;
    std::vector<dt::State> seen;  // states along the way, for the algebra checks

    SetHistory(Rng& rng, std::size_t n, int steps) {
        for (std::size_t i = 0; i < n; ++i) {
            replicas.push_back(Replica{dt::empty_state(dt::Type::set), make_actor(NodeId{static_cast<std::uint32_t>(i + 1)}, 1)});
        }
        for (int step = 0; step < steps; ++step) {
            Replica& at = replicas[rng.below(n)];
            const Replica& reader = replicas[rng.below(n)];
            const std::string item = "item" + std::to_string(rng.below(6));
            const auto kind = rng.below(10);
            if (kind < 4) {
                const Dot dot = at.next();
                REQUIRE_FALSE(dt::apply(at.state, add({item}), dot));
                adds.push_back({item, dot});
            } else if (kind < 7) {
                // The remover read `reader`; it removes an item it saw there.
                const auto& r = std::get<dt::Set>(reader.state);
                const auto items = dt::members(r);
                if (items.empty()) continue;
                const std::string victim = items[rng.below(items.size())];
                const VersionVector ctx = r.context;
                const Dot dot = at.next();
                const auto ec = dt::apply(at.state, remove({victim}, ctx), dot);
                if (ec == errc::overloaded) {
                    --at.counter;  // refused: no write happened, no dot issued
                    continue;
                }
                REQUIRE_FALSE(ec);
                removes.push_back({victim, ctx});
            } else {
                REQUIRE_FALSE(dt::merge(at.state, reader.state));
            }
            seen.push_back(at.state);
        }
    }

    // The meaning of the set: an item is present iff some add of it was observed by no
    // remove of it.
    std::set<std::string> expected() const {
        std::set<std::string> out;
        for (const auto& a : adds) {
            const bool removed = std::any_of(removes.begin(), removes.end(), [&](const RemoveEvent& r) {
                return r.item == a.item && r.context.covers(a.dot);
            });
            if (!removed) out.insert(a.item);
        }
        return out;
    }

    dt::State converged() {
        dt::State all = dt::empty_state(dt::Type::set);
        for (const auto& r : replicas) REQUIRE_FALSE(dt::merge(all, r.state));
        return all;
    }
};

}  // namespace

TEST_CASE("datatypes: a set adds, and removes only what its remover saw") {
    dt::State s = dt::empty_state(dt::Type::set);
    const auto a = make_actor(NodeId{1}, 1);
    REQUIRE_FALSE(dt::apply(s, add({"apple", "pear"}), Dot{a, 1}));
    CHECK(dt::members(set_of(s)) == std::vector<std::string>{"apple", "pear"});
    const VersionVector read = set_of(s).context;
    // A remove without the context of a read is refused, and changes nothing.
    CHECK(dt::apply(s, remove({"pear"}, {}), Dot{a, 2}) == errc::precondition_failed);
    CHECK(dt::members(set_of(s)) == std::vector<std::string>{"apple", "pear"});
    // An add the remover had not seen survives its remove (add wins).
    REQUIRE_FALSE(dt::apply(s, add({"pear"}), Dot{a, 2}));
    REQUIRE_FALSE(dt::apply(s, remove({"pear", "apple"}, read), Dot{a, 3}));
    CHECK(dt::members(set_of(s)) == std::vector<std::string>{"pear"});
    CHECK(dt::contains(set_of(s), "pear"));
    CHECK_FALSE(dt::contains(set_of(s), "apple"));
    // Removing with a context that saw everything removes it.
    REQUIRE_FALSE(dt::apply(s, remove({"pear"}, set_of(s).context), Dot{a, 4}));
    CHECK(dt::members(set_of(s)).empty());
    // An update of another type is refused.
    CHECK(dt::apply(s, dt::CounterUpdate{1}, Dot{a, 5}) == errc::wrong_type);
}

TEST_CASE("datatypes: a remove that arrives before the add it saw waits for it") {
    const auto a = make_actor(NodeId{1}, 1), b = make_actor(NodeId{2}, 1);
    dt::State at_a = dt::empty_state(dt::Type::set), at_b = dt::empty_state(dt::Type::set);
    REQUIRE_FALSE(dt::apply(at_a, add({"apple"}), Dot{a, 1}));
    // A client read apple at replica a and removes it through replica b, which has
    // not seen the add yet: the remove is kept aside.
    REQUIRE_FALSE(dt::apply(at_b, remove({"apple"}, set_of(at_a).context), Dot{b, 1}));
    CHECK(set_of(at_b).deferred.size() == 1);
    // When the add arrives, the remove takes it, and is then done.
    REQUIRE_FALSE(dt::merge(at_b, at_a));
    CHECK(dt::members(set_of(at_b)).empty());
    CHECK(set_of(at_b).deferred.empty());
    REQUIRE_FALSE(dt::merge(at_a, at_b));
    CHECK(at_a == at_b);
}

TEST_CASE("datatypes: deferred removes are bounded") {
    dt::State s = dt::empty_state(dt::Type::set);
    const auto b = make_actor(NodeId{2}, 1);
    std::uint64_t c = 0;
    for (std::size_t i = 0; i < dt::k_max_deferred_removes; ++i) {
        VersionVector unseen;
        unseen.raise(make_actor(NodeId{1}, 1), i + 1);
        REQUIRE_FALSE(dt::apply(s, remove({"x"}, unseen), Dot{b, ++c}));
    }
    CHECK(set_of(s).deferred.size() == dt::k_max_deferred_removes);
    VersionVector one_more;
    one_more.raise(make_actor(NodeId{1}, 1), 1000);
    const dt::State before = s;
    CHECK(dt::apply(s, remove({"x"}, one_more), Dot{b, ++c}) == errc::overloaded);
    CHECK(s == before);
    // The same context again joins the one waiting for it.
    VersionVector again;
    again.raise(make_actor(NodeId{1}, 1), 1);
    REQUIRE_FALSE(dt::apply(s, remove({"y"}, again), Dot{b, ++c}));
    CHECK(set_of(s).deferred.size() == dt::k_max_deferred_removes);
}

TEST_CASE("datatypes: random set histories converge to what their adds and removes mean") {
    for (std::uint64_t seed = 1; seed <= 300; ++seed) {
        Rng rng(seed);
        SetHistory h(rng, 2 + rng.below(3), 60);
        const dt::State all = h.converged();
        const auto got = dt::members(std::get<dt::Set>(all));
        const auto want = h.expected();
        INFO("seed " << seed);
        CHECK(std::set<std::string>(got.begin(), got.end()) == want);
        // Every replica, once it has merged all the others, holds the same state.
        for (auto& r : h.replicas) {
            for (const auto& other : h.replicas) REQUIRE_FALSE(dt::merge(r.state, other.state));
            CHECK(r.state == all);
        }
        // Nothing is deferred once every state is merged: each remove's context was seen.
        CHECK(std::get<dt::Set>(all).deferred.empty());
    }
}

TEST_CASE("datatypes: set merge is commutative, associative and idempotent") {
    for (std::uint64_t seed = 1; seed <= 200; ++seed) {
        Rng rng(seed * 7919);
        SetHistory h(rng, 3, 40);
        if (h.seen.size() < 3) continue;
        INFO("seed " << seed);
        shoal::test::check_merge_algebra(rng, h.seen);
    }
}

TEST_CASE("datatypes: counters add up every replica's increments and decrements") {
    for (std::uint64_t seed = 1; seed <= 200; ++seed) {
        Rng rng(seed);
        std::vector<Replica> rs;
        for (std::uint32_t i = 1; i <= 3; ++i) rs.push_back({dt::empty_state(dt::Type::counter), make_actor(NodeId{i}, 1)});
        std::int64_t sum = 0;
        for (int step = 0; step < 50; ++step) {
            Replica& at = rs[rng.below(rs.size())];
            if (rng.chance(0.6)) {
                const std::int64_t delta = rng.between(-5, 9);
                REQUIRE_FALSE(dt::apply(at.state, dt::CounterUpdate{delta}, at.next()));
                sum += delta;
            } else {
                REQUIRE_FALSE(dt::merge(at.state, rs[rng.below(rs.size())].state));
            }
        }
        dt::State all = dt::empty_state(dt::Type::counter), reversed = all;
        for (const auto& r : rs) REQUIRE_FALSE(dt::merge(all, r.state));
        for (auto it = rs.rbegin(); it != rs.rend(); ++it) REQUIRE_FALSE(dt::merge(reversed, it->state));
        INFO("seed " << seed);
        CHECK(dt::value(std::get<dt::Counter>(all)) == sum);
        CHECK(all == reversed);
        dt::State twice = all;
        REQUIRE_FALSE(dt::merge(twice, all));
        CHECK(twice == all);
    }
}

TEST_CASE("datatypes: a counter refuses to pass the 64-bit range") {
    dt::State c = dt::empty_state(dt::Type::counter);
    const auto a = make_actor(NodeId{1}, 1);
    REQUIRE_FALSE(dt::apply(c, dt::CounterUpdate{INT64_MAX}, Dot{a, 1}));
    CHECK(dt::value(std::get<dt::Counter>(c)) == INT64_MAX);
    CHECK(dt::apply(c, dt::CounterUpdate{1}, Dot{a, 2}) == errc::bad_request);
    REQUIRE_FALSE(dt::apply(c, dt::CounterUpdate{INT64_MIN + 1}, Dot{a, 2}));
    CHECK(dt::value(std::get<dt::Counter>(c)) == 0);
    // |INT64_MIN| is past the decrements' bound.
    CHECK(dt::apply(c, dt::CounterUpdate{INT64_MIN}, Dot{a, 3}) == errc::bad_request);
    CHECK(dt::value(std::get<dt::Counter>(c)) == 0);
}

TEST_CASE("datatypes: encodings round-trip and refuse truncation and other types") {
    Rng rng(42);
    SetHistory h(rng, 3, 80);
    std::vector<dt::State> states = h.seen;
    dt::State c = dt::empty_state(dt::Type::counter);
    REQUIRE_FALSE(dt::apply(c, dt::CounterUpdate{-3}, Dot{make_actor(NodeId{1}, 1), 1}));
    states.push_back(c);
    states.push_back(dt::empty_state(dt::Type::set));
    for (const auto& s : states) {
        const std::string bytes = dt::encode(s);
        dt::State back;
        REQUIRE_FALSE(dt::decode(bytes, back));
        CHECK(back == s);
        for (std::size_t cut = 0; cut < bytes.size(); ++cut) CHECK(dt::decode(bytes.substr(0, cut), back));
        CHECK(dt::decode(bytes + "x", back) == errc::corrupt);
    }
    dt::State out;
    CHECK(dt::decode("plain value", out) == errc::wrong_type);

    VersionVector ctx;
    ctx.raise(make_actor(NodeId{2}, 3), 9);
    for (const dt::Update& u : {add({"a", "b"}), remove({"c"}, ctx), dt::Update{dt::CounterUpdate{-7}}}) {
        const std::string bytes = dt::encode(u);
        dt::Update back;
        REQUIRE_FALSE(dt::decode(bytes, back));
        CHECK(back == u);
        for (std::size_t cut = 0; cut < bytes.size(); ++cut) CHECK(dt::decode(bytes.substr(0, cut), back) == errc::bad_request);
    }
}

TEST_CASE("datatypes: updates are checked against the limits at their edges") {
    const std::size_t max = 16;
    CHECK_FALSE(dt::check_update(add({std::string(max, 'x')}), max));
    CHECK(dt::check_update(add({std::string(max + 1, 'x')}), max) == errc::value_too_large);
    CHECK(dt::check_update(add({}), max) == errc::bad_request);
    std::vector<std::string> many(dt::k_max_update_elements, "e");
    CHECK_FALSE(dt::check_update(add(many), max));
    many.push_back("e");
    CHECK(dt::check_update(add(many), max) == errc::bad_request);
}

TEST_CASE("datatypes: siblings merge into one state; plain values are another type") {
    const auto a = make_actor(NodeId{1}, 1), b = make_actor(NodeId{2}, 1);
    dt::State x = dt::empty_state(dt::Type::set), y = x;
    REQUIRE_FALSE(dt::apply(x, add({"apple"}), Dot{a, 1}));
    REQUIRE_FALSE(dt::apply(y, add({"pear"}), Dot{b, 1}));
    std::vector<Sibling> siblings(3);
    siblings[0].dot = Dot{a, 1};
    siblings[0].value = dt::encode(x);
    siblings[1].dot = Dot{b, 1};
    siblings[1].value = dt::encode(y);
    siblings[2].dot = Dot{b, 2};
    siblings[2].tombstone = true;
    dt::State merged;
    REQUIRE_FALSE(dt::merge_siblings(dt::Type::set, siblings, Time{0}, merged));
    CHECK(dt::members(set_of(merged)) == std::vector<std::string>{"apple", "pear"});
    CHECK(dt::merge_siblings(dt::Type::counter, siblings, Time{0}, merged) == errc::wrong_type);
    siblings[2].tombstone = false;
    siblings[2].value = "a plain value";
    CHECK(dt::merge_siblings(dt::Type::set, siblings, Time{0}, merged) == errc::wrong_type);
}

namespace {

dt::Update map_set(std::string field, std::string value) {
    dt::MapUpdate u;
    u.set.emplace_back(std::move(field), std::move(value));
    return u;
}
dt::Update map_incr(std::string field, std::int64_t by) {
    dt::MapUpdate u;
    u.increment.emplace_back(std::move(field), by);
    return u;
}
dt::Update map_remove(std::string field) {
    dt::MapUpdate u;
    u.remove.push_back(std::move(field));
    return u;
}
dt::Update map_flag(std::string field, bool enable) {
    dt::MapUpdate u;
    u.flag.emplace_back(std::move(field), enable);
    return u;
}
bool flag_on(const dt::State& s, const std::string& field) {
    const dt::MapField* f = dt::find_field(std::get<dt::Map>(s), field);
    return f != nullptr && std::get<dt::Flag>(f->value).on();
}
dt::Map& map_of(dt::State& s) { return std::get<dt::Map>(s); }
std::string reg(const dt::State& s, const std::string& field) {
    const dt::MapField* f = dt::find_field(std::get<dt::Map>(s), field);
    return f == nullptr ? "(none)" : std::get<dt::Register>(f->value).value;
}

}  // namespace

TEST_CASE("datatypes: a map's registers keep the last writer, its counters add up", "[datatypes]") {
    const auto a = make_actor(NodeId{1}, 1), b = make_actor(NodeId{2}, 1);
    dt::State x = dt::empty_state(dt::Type::map), y = x;
    REQUIRE_FALSE(dt::apply(x, map_set("name", "alice"), Dot{a, 1}, Time{100}));
    REQUIRE_FALSE(dt::apply(y, map_set("theme", "dark"), Dot{b, 1}, Time{150}));
    REQUIRE_FALSE(dt::apply(y, map_set("name", "bob"), Dot{b, 2}, Time{200}));
    REQUIRE_FALSE(dt::apply(x, map_incr("visits", 2), Dot{a, 2}, Time{300}));
    REQUIRE_FALSE(dt::apply(y, map_incr("visits", 3), Dot{b, 3}, Time{300}));
    dt::State xy = x;
    REQUIRE_FALSE(dt::merge(xy, y));
    CHECK(reg(xy, "name") == "bob");    // the later stamp
    CHECK(reg(xy, "theme") == "dark");  // another field: kept
    CHECK(dt::value(std::get<dt::Counter>(dt::find_field(map_of(xy), "visits")->value)) == 5);
    // A leader stamps after what it holds: a write with an older clock still wins there.
    REQUIRE_FALSE(dt::apply(xy, map_set("name", "carol"), Dot{a, 3}, Time{50}));
    CHECK(reg(xy, "name") == "carol");
    // A removed register keeps its stamp: an older write merged later stays removed.
    REQUIRE_FALSE(dt::apply(xy, map_remove("theme"), Dot{a, 4}, Time{400}));
    CHECK(dt::find_field(map_of(xy), "theme") == nullptr);
    REQUIRE_FALSE(dt::merge(xy, y));
    CHECK(dt::find_field(map_of(xy), "theme") == nullptr);
    // Kinds do not mix within a field, and counters are not removed.
    const dt::State before = xy;
    CHECK(dt::apply(xy, map_incr("name", 1), Dot{a, 5}, Time{500}) == errc::wrong_type);
    CHECK(dt::apply(xy, map_set("visits", "x"), Dot{a, 5}, Time{500}) == errc::wrong_type);
    CHECK(dt::apply(xy, map_remove("visits"), Dot{a, 5}, Time{500}) == errc::wrong_type);
    CHECK(xy == before);
}

TEST_CASE("datatypes: a map's flags: an enable wins over a disable that did not see it", "[datatypes]") {
    const auto a = make_actor(NodeId{1}, 1), b = make_actor(NodeId{2}, 1);
    dt::State x = dt::empty_state(dt::Type::map);
    REQUIRE_FALSE(dt::apply(x, map_flag("gift", true), Dot{a, 1}, Time{1}));
    CHECK(flag_on(x, "gift"));
    dt::State y = x;  // node 2 has seen the enable
    REQUIRE_FALSE(dt::apply(y, map_flag("gift", false), Dot{b, 1}, Time{2}));
    CHECK_FALSE(flag_on(y, "gift"));
    // Concurrently node 1 enables again: its new enable was not seen by the disable.
    REQUIRE_FALSE(dt::apply(x, map_flag("gift", true), Dot{a, 2}, Time{3}));
    dt::State xy = x, yx = y;
    REQUIRE_FALSE(dt::merge(xy, y));
    REQUIRE_FALSE(dt::merge(yx, x));
    CHECK(xy == yx);
    CHECK(flag_on(xy, "gift"));
    // A disable that has seen every enable turns it off everywhere, for good.
    REQUIRE_FALSE(dt::apply(xy, map_flag("gift", false), Dot{b, 2}, Time{4}));
    CHECK_FALSE(flag_on(xy, "gift"));
    REQUIRE_FALSE(dt::merge(xy, x));  // an older state brings no enable back
    REQUIRE_FALSE(dt::merge(xy, y));
    CHECK_FALSE(flag_on(xy, "gift"));
    // A flag is a kind of its own within a field.
    CHECK(dt::apply(xy, map_set("gift", "x"), Dot{a, 3}, Time{5}) == errc::wrong_type);
    CHECK(dt::apply(xy, map_incr("gift", 1), Dot{a, 3}, Time{5}) == errc::wrong_type);
    REQUIRE_FALSE(dt::apply(xy, map_set("name", "x"), Dot{a, 3}, Time{5}));
    CHECK(dt::apply(xy, map_flag("name", true), Dot{a, 4}, Time{5}) == errc::wrong_type);
}

TEST_CASE("datatypes: map merge is commutative, associative and idempotent; same-name kinds resolve one way",
          "[datatypes]") {
    for (std::uint64_t seed = 1; seed <= 200; ++seed) {
        Rng rng(seed * 104729);
        std::vector<Replica> rs;
        for (std::uint32_t i = 1; i <= 3; ++i) rs.push_back({dt::empty_state(dt::Type::map), make_actor(NodeId{i}, 1)});
        std::vector<dt::State> seen;
        for (int step = 0; step < 40; ++step) {
            Replica& at = rs[rng.below(rs.size())];
            const std::string field = "f" + std::to_string(rng.below(4));
            const Time t{static_cast<std::int64_t>(rng.below(50))};  // stamps collide: dots break ties
            const auto kind = rng.below(10);
            std::error_code ec;
            if (kind < 4) ec = dt::apply(at.state, map_set(field, "v" + std::to_string(step)), at.next(), t);
            else if (kind < 6) ec = dt::apply(at.state, map_remove(field), at.next(), t);
            else if (kind < 8) ec = dt::apply(at.state, map_incr("c" + field, rng.between(-3, 5)), at.next(), t);
            else if (kind < 9) ec = dt::apply(at.state, map_flag("g" + field, rng.chance(0.5)), at.next(), t);
            else ec = dt::merge(at.state, rs[rng.below(rs.size())].state);
            REQUIRE((!ec || ec == errc::wrong_type));
            seen.push_back(at.state);
        }
        // A name written as both kinds on different replicas, merged either way round.
        dt::State reg_side = dt::empty_state(dt::Type::map), counter_side = reg_side;
        REQUIRE_FALSE(dt::apply(reg_side, map_set("both", "x"), Dot{rs[0].actor, 100}, Time{1}));
        REQUIRE_FALSE(dt::apply(counter_side, map_incr("both", 1), Dot{rs[1].actor, 100}, Time{1}));
        dt::State flag_side = dt::empty_state(dt::Type::map);
        REQUIRE_FALSE(dt::apply(flag_side, map_flag("both", true), Dot{rs[2].actor, 100}, Time{1}));
        seen.push_back(reg_side);
        seen.push_back(counter_side);
        seen.push_back(flag_side);
        INFO("seed " << seed);
        shoal::test::check_merge_algebra(rng, seen);
        // Every replica that merged all the others holds one state.
        dt::State all = dt::empty_state(dt::Type::map);
        for (const auto& r : rs) REQUIRE_FALSE(dt::merge(all, r.state));
        for (auto& r : rs) {
            for (const auto& other : rs) REQUIRE_FALSE(dt::merge(r.state, other.state));
            CHECK(r.state == all);
        }
    }
}

TEST_CASE("datatypes: map encodings round-trip and refuse truncation", "[datatypes]") {
    const auto a = make_actor(NodeId{1}, 1);
    dt::State m = dt::empty_state(dt::Type::map);
    REQUIRE_FALSE(dt::apply(m, map_set("name", "alice"), Dot{a, 1}, Time{-5}));
    REQUIRE_FALSE(dt::apply(m, map_incr("visits", -7), Dot{a, 2}, Time{9}));
    REQUIRE_FALSE(dt::apply(m, map_remove("gone"), Dot{a, 3}, Time{9}));
    REQUIRE_FALSE(dt::apply(m, map_flag("gift", true), Dot{a, 4}, Time{9}));
    REQUIRE_FALSE(dt::apply(m, map_flag("paid", false), Dot{a, 5}, Time{9}));
    const std::string bytes = dt::encode(m);
    dt::State back;
    REQUIRE_FALSE(dt::decode(bytes, back));
    CHECK(back == m);
    for (std::size_t cut = 0; cut < bytes.size(); ++cut) CHECK(dt::decode(bytes.substr(0, cut), back));
    dt::MapUpdate u;
    u.set = {{"a", "1"}, {"b", ""}};
    u.remove = {"c"};
    u.increment = {{"d", INT64_MIN}};
    u.flag = {{"e", true}, {"f", false}};
    const std::string ub = dt::encode(dt::Update{u});
    dt::Update uback;
    REQUIRE_FALSE(dt::decode(ub, uback));
    CHECK(std::get<dt::MapUpdate>(uback) == u);
    for (std::size_t cut = 0; cut < ub.size(); ++cut) CHECK(dt::decode(ub.substr(0, cut), uback) == errc::bad_request);
    // Field names are bounded like items; an update names at least one field.
    CHECK(dt::check_update(map_set(std::string(16, 'f'), "v"), 16) == std::error_code{});
    CHECK(dt::check_update(map_set(std::string(17, 'f'), "v"), 16) == errc::value_too_large);
    CHECK(dt::check_update(dt::Update{dt::MapUpdate{}}, 16) == errc::bad_request);
    CHECK(dt::check_update(map_set("", "v"), 16) == errc::bad_request);
}
