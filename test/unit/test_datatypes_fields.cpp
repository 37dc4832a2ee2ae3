// Unit tests for a map's set fields and nested maps (replica/datatypes.h): the map's one
// causal context, what a remove of a set or a map field means, the depth bound, and
// merge's algebra over random histories whose meaning is checked item by item.
#include <algorithm>
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
using shoal::replica::ActorId;
using shoal::replica::Dot;
using shoal::replica::make_actor;
using shoal::replica::VersionVector;
namespace dt = shoal::replica::dt;

namespace {

const ActorId a = make_actor(NodeId{1}, 1);
const ActorId b = make_actor(NodeId{2}, 1);

dt::Map& map_of(dt::State& s) { return std::get<dt::Map>(s); }

// The update `inner` applied at `path` (nested map names, outermost first).
dt::MapUpdate at_path(const std::vector<std::string>& path, dt::MapUpdate inner) {
    for (auto it = path.rbegin(); it != path.rend(); ++it) {
        dt::MapUpdate outer;
        outer.update.push_back(dt::NestedMapUpdate{*it, std::move(inner)});
        inner = std::move(outer);
    }
    return inner;
}

dt::MapUpdate add_items(const std::string& field, std::vector<std::string> items) {
    dt::MapUpdate u;
    u.add.emplace_back(field, std::move(items));
    return u;
}
dt::MapUpdate discard_items(const std::string& field, std::vector<std::string> items, VersionVector context) {
    dt::MapUpdate u;
    u.discard.emplace_back(field, std::move(items));
    u.context = std::move(context);
    return u;
}
dt::MapUpdate remove_field(const std::string& field, VersionVector context) {
    dt::MapUpdate u;
    u.remove.push_back(field);
    u.context = std::move(context);
    return u;
}

// The map reached by `path`, or nullptr.
const dt::Map* map_at(const dt::State& s, const std::vector<std::string>& path) {
    const dt::Map* m = &std::get<dt::Map>(s);
    for (const auto& name : path) {
        const dt::MapField* f = dt::find_field(*m, name);
        if (f == nullptr) return nullptr;
        m = &std::get<dt::Map>(f->value);
    }
    return m;
}

// The items of the set field `field` of the map at `path` (none when it reads absent).
std::vector<std::string> items_at(const dt::State& s, const std::vector<std::string>& path, const std::string& field) {
    const dt::Map* m = map_at(s, path);
    const dt::MapField* f = m == nullptr ? nullptr : dt::find_field(*m, field);
    return f == nullptr ? std::vector<std::string>{} : dt::members(std::get<dt::Set>(f->value));
}

const VersionVector& seen_of(const dt::State& s) { return std::get<dt::Map>(s).seen; }

}  // namespace

TEST_CASE("datatypes fields: a set field adds, and discards only what its remover saw", "[datatypes]") {
    dt::State at_a = dt::empty_state(dt::Type::map), at_b = at_a;
    REQUIRE_FALSE(dt::apply(at_a, add_items("cart", {"apple", "pear"}), Dot{a, 1}));
    at_b = at_a;
    const VersionVector read = seen_of(at_a);
    // Concurrently: b adds pear again, a discards the pear it read.
    REQUIRE_FALSE(dt::apply(at_b, add_items("cart", {"pear"}), Dot{b, 1}));
    REQUIRE_FALSE(dt::apply(at_a, discard_items("cart", {"pear"}, read), Dot{a, 2}));
    CHECK(items_at(at_a, {}, "cart") == std::vector<std::string>{"apple"});
    REQUIRE_FALSE(dt::merge(at_a, at_b));
    CHECK(items_at(at_a, {}, "cart") == std::vector<std::string>{"apple", "pear"});  // add-wins
    // A discard without a context is refused, and changes nothing.
    const dt::State before = at_a;
    CHECK(dt::apply(at_a, discard_items("cart", {"apple"}, {}), Dot{a, 3}) == errc::precondition_failed);
    CHECK(at_a == before);
    // A set field is not a register, a counter or a flag.
    dt::MapUpdate as_register;
    as_register.set.emplace_back("cart", "x");
    CHECK(dt::apply(at_a, as_register, Dot{a, 3}) == errc::wrong_type);
}

TEST_CASE("datatypes fields: a removed set field stays removed on a replica that never had it", "[datatypes]") {
    dt::State one = dt::empty_state(dt::Type::map), two = one, three = one;
    REQUIRE_FALSE(dt::apply(one, add_items("cart", {"apple"}), Dot{a, 1}));
    two = one;
    REQUIRE_FALSE(dt::apply(two, remove_field("cart", seen_of(two)), Dot{b, 1}));
    CHECK(dt::find_field(map_of(two), "cart") == nullptr);  // an empty set reads as absent
    // `three` never saw the cart; it hears of the remove first, then of the add.
    REQUIRE_FALSE(dt::merge(three, two));
    REQUIRE_FALSE(dt::merge(three, one));
    CHECK(items_at(three, {}, "cart").empty());
    // And the other way round.
    dt::State four = dt::empty_state(dt::Type::map);
    REQUIRE_FALSE(dt::merge(four, one));
    REQUIRE_FALSE(dt::merge(four, two));
    CHECK(items_at(four, {}, "cart").empty());
    // An add the remover had not seen survives the field's remove.
    REQUIRE_FALSE(dt::apply(one, add_items("cart", {"pear"}), Dot{a, 2}));
    REQUIRE_FALSE(dt::merge(four, one));
    CHECK(items_at(four, {}, "cart") == std::vector<std::string>{"pear"});
}

TEST_CASE("datatypes fields: a discard that arrives before the add it saw waits for it", "[datatypes]") {
    dt::State writer = dt::empty_state(dt::Type::map), leader = writer;
    REQUIRE_FALSE(dt::apply(writer, add_items("cart", {"apple"}), Dot{a, 1}));
    // The client read `writer`; its discard reaches `leader`, which has not had the add.
    REQUIRE_FALSE(dt::apply(leader, discard_items("cart", {"apple"}, seen_of(writer)), Dot{b, 1}));
    REQUIRE(map_of(leader).fields.size() == 1);  // the cart: empty, with the discard waiting
    CHECK(std::get<dt::Set>(map_of(leader).fields.front().value).deferred.size() == 1);
    REQUIRE_FALSE(dt::merge(leader, writer));
    CHECK(items_at(leader, {}, "cart").empty());
    CHECK(std::get<dt::Set>(map_of(leader).fields.front().value).deferred.empty());  // settled
    // So does a whole field's remove, for every item.
    dt::State w2 = dt::empty_state(dt::Type::map), l2 = w2;
    REQUIRE_FALSE(dt::apply(w2, add_items("cart", {"apple", "pear"}), Dot{a, 1}));
    REQUIRE_FALSE(dt::apply(l2, add_items("cart", {"fig"}), Dot{b, 1}));
    VersionVector ctx = seen_of(w2);
    ctx.join(seen_of(l2));
    REQUIRE_FALSE(dt::apply(l2, remove_field("cart", ctx), Dot{b, 2}));
    REQUIRE_FALSE(dt::merge(l2, w2));
    CHECK(items_at(l2, {}, "cart").empty());
}

TEST_CASE("datatypes fields: nested maps update, merge and remove field by field", "[datatypes]") {
    dt::State one = dt::empty_state(dt::Type::map), two = one;
    dt::MapUpdate city;
    city.set.emplace_back("city", "Lyon");
    dt::MapUpdate visits;
    visits.increment.emplace_back("visits", 2);
    REQUIRE_FALSE(dt::apply(one, at_path({"address"}, city), Dot{a, 1}, Time{10}));
    REQUIRE_FALSE(dt::apply(two, at_path({"address"}, add_items("tags", {"home"})), Dot{b, 1}, Time{11}));
    REQUIRE_FALSE(dt::apply(two, at_path({"stats"}, visits), Dot{b, 2}, Time{12}));
    REQUIRE_FALSE(dt::merge(one, two));
    CHECK(dt::to_json(one) == R"({"address":{"city":"Lyon","tags":["home"]},"stats":{"visits":2}})");
    // A map holding a counter cannot be removed; one without can, and reads as absent.
    CHECK(dt::apply(one, remove_field("stats", seen_of(one)), Dot{a, 2}) == errc::wrong_type);
    CHECK(dt::apply(one, remove_field("address", {}), Dot{a, 2}) == errc::precondition_failed);
    dt::State removed = one;
    REQUIRE_FALSE(dt::apply(removed, remove_field("address", seen_of(one)), Dot{a, 2}, Time{20}));
    CHECK(dt::find_field(map_of(removed), "address") == nullptr);
    CHECK(dt::to_json(removed) == R"({"stats":{"visits":2}})");
    // A concurrent write into the removed map survives: a later stamp, an unseen dot.
    REQUIRE_FALSE(dt::apply(two, at_path({"address"}, add_items("tags", {"work"})), Dot{b, 3}, Time{13}));
    REQUIRE_FALSE(dt::merge(removed, two));
    CHECK(dt::to_json(removed) == R"({"address":{"tags":["work"]},"stats":{"visits":2}})");
    // A nested map is not a set.
    CHECK(dt::apply(one, add_items("address", {"x"}), Dot{a, 9}) == errc::wrong_type);
}

TEST_CASE("datatypes fields: maps nest at most k_max_map_depth deep", "[datatypes]") {
    std::vector<std::string> path;
    for (std::size_t depth = 1; depth < dt::k_max_map_depth; ++depth) path.push_back("m" + std::to_string(depth));
    const dt::MapUpdate deepest = at_path(path, add_items("cart", {"x"}));  // fields at depth k_max_map_depth
    CHECK(dt::check_update(dt::Update{deepest}, 16) == std::error_code{});
    dt::State s = dt::empty_state(dt::Type::map);
    REQUIRE_FALSE(dt::apply(s, deepest, Dot{a, 1}));
    CHECK(items_at(s, path, "cart") == std::vector<std::string>{"x"});
    const std::string bytes = dt::encode(s);
    dt::State back;
    REQUIRE_FALSE(dt::decode(bytes, back));
    CHECK(back == s);
    path.push_back("one-too-deep");
    const dt::MapUpdate too_deep = at_path(path, add_items("cart", {"x"}));
    CHECK(dt::check_update(dt::Update{too_deep}, 16) == errc::bad_request);
    CHECK(dt::apply(s, too_deep, Dot{a, 2}) == errc::bad_request);
    dt::Update decoded;
    CHECK(dt::decode(dt::encode(dt::Update{too_deep}), decoded) == errc::bad_request);
    // A nested update names something; only the outermost carries a context.
    CHECK(dt::check_update(dt::Update{at_path({"m"}, dt::MapUpdate{})}, 16) == errc::bad_request);
    dt::MapUpdate inner_context = add_items("cart", {"x"});
    inner_context.context.raise(Dot{a, 1});
    CHECK(dt::check_update(dt::Update{at_path({"m"}, inner_context)}, 16) == errc::bad_request);
    // Items count toward the update's bound, and are bounded in size like names.
    std::vector<std::string> many(dt::k_max_update_elements, "i");
    CHECK(dt::check_update(dt::Update{add_items("c", many)}, 16) == errc::bad_request);  // + the field's name
    many.pop_back();
    CHECK(dt::check_update(dt::Update{add_items("c", many)}, 16) == std::error_code{});
    CHECK(dt::check_update(dt::Update{add_items("c", {std::string(17, 'i')})}, 16) == errc::value_too_large);
    CHECK(dt::check_update(dt::Update{add_items("c", {})}, 16) == errc::bad_request);
}

TEST_CASE("datatypes fields: encodings round-trip, refuse truncation, and read the first map format", "[datatypes]") {
    dt::State s = dt::empty_state(dt::Type::map);
    REQUIRE_FALSE(dt::apply(s, add_items("cart", {"apple", "pear"}), Dot{a, 1}));
    REQUIRE_FALSE(dt::apply(s, at_path({"inner"}, add_items("tags", {"t"})), Dot{a, 2}));
    VersionVector ahead;
    ahead.raise(Dot{b, 5});
    REQUIRE_FALSE(dt::apply(s, discard_items("cart", {"pear"}, ahead), Dot{a, 3}));  // a waiting discard
    const std::string bytes = dt::encode(s);
    dt::State back;
    REQUIRE_FALSE(dt::decode(bytes, back));
    CHECK(back == s);
    for (std::size_t cut = 0; cut < bytes.size(); ++cut) CHECK(dt::decode(bytes.substr(0, cut), back));
    dt::MapUpdate u = discard_items("cart", {"pear"}, ahead);
    u.add.emplace_back("cart2", std::vector<std::string>{"a", "b"});
    u.update.push_back(dt::NestedMapUpdate{"inner", add_items("tags", {"t2"})});
    const std::string ub = dt::encode(dt::Update{u});
    dt::Update uback;
    REQUIRE_FALSE(dt::decode(ub, uback));
    CHECK(std::get<dt::MapUpdate>(uback) == u);
    for (std::size_t cut = 0; cut < ub.size(); ++cut) CHECK(dt::decode(ub.substr(0, cut), uback) == errc::bad_request);
    // A map written before set and map fields (format 1: no context): one register
    // "n" = "v", stamp 7, dot (actor 1, 1).
    std::string v1 = {3, 1, 1, 1, 'n', 0, 1, 'v', 14, 1, 1};
    REQUIRE_FALSE(dt::decode(v1, back));
    const dt::MapField* f = dt::find_field(map_of(back), "n");
    REQUIRE(f != nullptr);
    CHECK(std::get<dt::Register>(f->value).value == "v");
    // ... but a set field in that format is not one.
    std::string v1_set = {3, 1, 1, 1, 'c', 4, 0, 0};
    CHECK(dt::decode(v1_set, back) == errc::corrupt);
    // A nested update increments: not to be resent.
    dt::MapUpdate nested_incr;
    nested_incr.increment.emplace_back("n", 1);
    CHECK_FALSE(dt::repeatable(dt::Update{at_path({"m"}, nested_incr)}));
    CHECK(dt::repeatable(dt::Update{add_items("cart", {"x"})}));
}

TEST_CASE("datatypes fields: random histories of set fields converge to what their adds and removes mean",
          "[datatypes]") {
    struct Add {
        std::vector<std::string> path;
        std::string item;
        Dot dot;
    };
    struct Remove {
        std::vector<std::string> path;
        std::string item;  // empty: the whole field
        VersionVector context;
    };
    const std::vector<std::vector<std::string>> paths = {{}, {"inner"}};
    for (std::uint64_t seed = 1; seed <= 1000; ++seed) {
        Rng rng(seed * 7919);
        struct Replica {
            dt::State state;
            ActorId actor;
            std::uint64_t counter = 0;
        };
        std::vector<Replica> rs;
        for (std::uint32_t i = 1; i <= 3; ++i) rs.push_back({dt::empty_state(dt::Type::map), make_actor(NodeId{i}, 1)});
        std::vector<Add> adds;
        std::vector<Remove> removes;
        std::vector<dt::State> seen;
        for (int step = 0; step < 40; ++step) {
            Replica& at = rs[rng.below(rs.size())];
            const Replica& reader = rs[rng.below(rs.size())];
            const auto& path = paths[rng.below(paths.size())];
            const std::string item = "i" + std::to_string(rng.below(5));
            const auto kind = rng.below(11);
            const Dot dot{at.actor, at.counter + 1};
            std::error_code ec;
            if (kind == 10) {
                // "kx" written as one of four kinds: concurrent writes of it through
                // different replicas conflict, and the merge must still be a semilattice.
                dt::MapUpdate u;
                const auto which = rng.below(4);
                if (which == 0) u = add_items("kx", {item});
                if (which == 1) u.update.push_back(dt::NestedMapUpdate{"kx", add_items("cart", {item})});
                if (which == 2) u.set.emplace_back("kx", item);
                if (which == 3) u.assign.emplace_back("kx", item);
                ec = dt::apply(at.state, u, dot, Time{step});
                if (ec == errc::wrong_type) continue;
            } else if (kind < 4) {
                ec = dt::apply(at.state, at_path(path, add_items("cart", {item})), dot, Time{step});
                if (!ec) adds.push_back({path, item, dot});
            } else if (kind < 6) {
                const auto items = items_at(reader.state, path, "cart");
                if (items.empty()) continue;
                const std::string victim = items[rng.below(items.size())];
                dt::MapUpdate u = at_path(path, discard_items("cart", {victim}, {}));
                u.context = seen_of(reader.state);
                ec = dt::apply(at.state, u, dot, Time{step});
                if (!ec) removes.push_back({path, victim, u.context});
            } else if (kind < 7 && !seen_of(reader.state).empty()) {
                // The whole cart field, or (for the nested cart) the map holding it.
                const bool whole_map = !path.empty() && rng.chance(0.5);
                dt::MapUpdate u = whole_map ? remove_field(path.front(), {}) : at_path(path, remove_field("cart", {}));
                u.context = seen_of(reader.state);
                ec = dt::apply(at.state, u, dot, Time{step});
                if (!ec) removes.push_back({path, "", u.context});
            } else if (kind < 8) {
                // A register, or a multi-value register assigned on the reader's context.
                dt::MapUpdate reg;
                if (rng.chance(0.5)) {
                    reg.set.emplace_back("note", "v" + std::to_string(step));
                } else {
                    reg.assign.emplace_back("memo", "v" + std::to_string(step));
                }
                dt::MapUpdate u = at_path(path, reg);
                if (rng.chance(0.5)) u.context = seen_of(reader.state);
                ec = dt::apply(at.state, u, dot, Time{step});
            } else if (kind < 10) {
                ec = dt::merge(at.state, reader.state);
                seen.push_back(at.state);
                continue;
            } else {
                continue;
            }
            INFO("step " << step << " kind " << kind << " error " << ec.message());
            REQUIRE((!ec || ec == errc::overloaded));
            if (!ec) ++at.counter;
            seen.push_back(at.state);
        }
        INFO("seed " << seed);
        shoal::test::check_merge_algebra(rng, seen);
        // The meaning: an item is in a cart iff some add of it was seen by no remove of it.
        dt::State all = dt::empty_state(dt::Type::map);
        for (const auto& r : rs) REQUIRE_FALSE(dt::merge(all, r.state));
        for (const auto& path : paths) {
            std::set<std::string> expected;
            for (const auto& add : adds) {
                if (add.path != path) continue;
                const bool removed = std::any_of(removes.begin(), removes.end(), [&](const Remove& r) {
                    return r.path == path && (r.item.empty() || r.item == add.item) && r.context.covers(add.dot);
                });
                if (!removed) expected.insert(add.item);
            }
            const auto got = items_at(all, path, "cart");
            CHECK(std::set<std::string>(got.begin(), got.end()) == expected);
        }
    }
}

TEST_CASE("datatypes fields: a multi-value register keeps concurrent assignments, and replaces what was seen",
          "[datatypes]") {
    const auto assign = [](std::string value, VersionVector context) {
        dt::MapUpdate u;
        u.assign.emplace_back("memo", std::move(value));
        u.context = std::move(context);
        return u;
    };
    const auto values = [](const dt::State& s) { return dt::to_json(s); };
    dt::State one = dt::empty_state(dt::Type::map), two = one;
    REQUIRE_FALSE(dt::apply(one, assign("x", {}), Dot{a, 1}));
    two = one;
    const VersionVector read = seen_of(one);
    REQUIRE_FALSE(dt::apply(one, assign("from-a", read), Dot{a, 2}));
    REQUIRE_FALSE(dt::apply(two, assign("from-b", read), Dot{b, 1}));
    CHECK(values(one) == R"({"memo":["from-a"]})");
    REQUIRE_FALSE(dt::merge(one, two));
    CHECK(values(one) == R"({"memo":["from-a","from-b"]})");  // both kept, in dot order
    // An assignment on a read that saw both replaces both; one that saw only one keeps
    // the other.
    dt::State three = two;
    REQUIRE_FALSE(dt::apply(three, assign("only-b-seen", seen_of(two)), Dot{b, 2}));
    REQUIRE_FALSE(dt::merge(three, one));
    CHECK(values(three) == R"({"memo":["from-a","only-b-seen"]})");
    REQUIRE_FALSE(dt::apply(one, assign("both-seen", seen_of(one)), Dot{a, 3}));
    CHECK(values(one) == R"({"memo":["both-seen"]})");
    // Without a context it replaces all the leader holds.
    REQUIRE_FALSE(dt::apply(three, assign("blind", {}), Dot{b, 3}));
    CHECK(values(three) == R"({"memo":["blind"]})");
    // Removed, it reads as absent, and stays so on a replica that had the values.
    dt::State removed = three;
    REQUIRE_FALSE(dt::apply(removed, remove_field("memo", {}), Dot{b, 4}));
    CHECK(values(removed) == "{}");
    dt::State had = three;
    REQUIRE_FALSE(dt::merge(had, removed));
    CHECK(values(had) == "{}");
    // Not a register, a set or a counter; encodes and decodes.
    dt::MapUpdate as_register;
    as_register.set.emplace_back("memo", "x");
    CHECK(dt::apply(one, as_register, Dot{a, 9}) == errc::wrong_type);
    const std::string bytes = dt::encode(one);
    dt::State back;
    REQUIRE_FALSE(dt::decode(bytes, back));
    CHECK(back == one);
    for (std::size_t cut = 0; cut < bytes.size(); ++cut) CHECK(dt::decode(bytes.substr(0, cut), back));
    const dt::Update u{assign("v", read)};
    dt::Update uback;
    REQUIRE_FALSE(dt::decode(dt::encode(u), uback));
    CHECK(uback == u);
}
