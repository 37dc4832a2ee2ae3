// Regressions of the data types (replica/datatypes.h), each a bug once found.
#include <string>

#include <catch2/catch.hpp>

#include "core/errc.h"
#include "replica/datatypes.h"

using shoal::errc;
using shoal::NodeId;
using shoal::replica::Dot;
using shoal::replica::make_actor;
using shoal::replica::VersionVector;
namespace dt = shoal::replica::dt;

namespace {
const auto a = make_actor(NodeId{1}, 1);
const auto b = make_actor(NodeId{2}, 1);

dt::MapUpdate add_to(std::string field, std::string item) {
    dt::MapUpdate u;
    u.add.emplace_back(std::move(field), std::vector<std::string>{std::move(item)});
    return u;
}
}  // namespace

TEST_CASE("regress: a map merged with itself is unchanged (the merge moved out of its own input)", "[regress]") {
    dt::State s = dt::empty_state(dt::Type::map);
    dt::MapUpdate u = add_to("cart", "apple");
    u.set.emplace_back("name", "alice");
    REQUIRE_FALSE(dt::apply(s, u, Dot{a, 1}));
    const dt::State before = s;
    REQUIRE_FALSE(dt::merge(s, s));
    CHECK(s == before);
}

TEST_CASE("regress: after a delete, a remove on the key's clock does not wait for the delete's dot", "[regress]") {
    // The live state holds apple (a:2); the key's clock also names the delete (b:1) that
    // took an earlier state away. A client's remove carries that clock as its context.
    dt::State live = dt::empty_state(dt::Type::set);
    REQUIRE_FALSE(dt::apply(live, dt::SetUpdate{{"apple"}, {}, {}}, Dot{a, 2}));
    VersionVector clock;
    clock.raise(Dot{a, 2});
    clock.raise(Dot{b, 1});
    const dt::Update remove = dt::SetUpdate{{}, {"apple"}, clock};
    dt::State without = live;
    REQUIRE_FALSE(dt::apply(without, remove, Dot{a, 3}));
    CHECK(std::get<dt::Set>(without).deferred.size() == 1);  // waits for b:1, which never comes
    dt::State observed = live;
    dt::observe(observed, clock);  // what the leader now does first
    REQUIRE_FALSE(dt::apply(observed, remove, Dot{a, 3}));
    CHECK(std::get<dt::Set>(observed).deferred.empty());
    CHECK(dt::members(std::get<dt::Set>(observed)).empty());
}

TEST_CASE("regress: a field written as two kinds merges the same in any grouping", "[regress]") {
    // x: a set on one side, a nested map on the others; the set side has seen the add
    // of `item` (a:1) and does not hold it.
    dt::State set_side = dt::empty_state(dt::Type::map), map_b = set_side, map_a = set_side;
    REQUIRE_FALSE(dt::apply(map_a, dt::MapUpdate{.update = {dt::NestedMapUpdate{"x", add_to("y", "item")}}}, Dot{a, 1}));
    REQUIRE_FALSE(dt::apply(map_b, dt::MapUpdate{.update = {dt::NestedMapUpdate{"x", add_to("z", "q")}}}, Dot{b, 1}));
    VersionVector seen_a1;
    seen_a1.raise(Dot{a, 1});
    dt::observe(set_side, seen_a1);
    REQUIRE_FALSE(dt::apply(set_side, add_to("x", "s"), Dot{a, 2}));
    dt::State left = set_side, right = map_b;
    REQUIRE_FALSE(dt::merge(left, map_b));
    REQUIRE_FALSE(dt::merge(left, map_a));
    REQUIRE_FALSE(dt::merge(right, map_a));
    dt::State grouped = set_side;
    REQUIRE_FALSE(dt::merge(grouped, right));
    CHECK(left == grouped);
    CHECK(dt::to_json(left) == R"({"x":{"z":["q"]}})");
}

TEST_CASE("regress: a count past the input does not wrap into an allocation", "[regress]") {
    // A map (format 2, empty context) with one flag field whose dot count is 2^63 + 1,
    // and two bytes after it: times two the count wrapped to 2, which passed, and the
    // resize threw.
    std::string bytes = {3, 2, 0, 1, 1, 'f', 3, 0};
    for (int i = 0; i < 9; ++i) bytes.push_back(static_cast<char>(0x80 | (i == 0 ? 1 : 0)));
    bytes.push_back(1);
    bytes += std::string(2, '\0');
    dt::State out;
    CHECK(dt::decode(bytes, out) == errc::corrupt);
}
