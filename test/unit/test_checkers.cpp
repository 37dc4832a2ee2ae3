// Unit tests for the simulator's checkers, on crafted histories that violate each
// checker and on ones that do not.
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "core/types.h"
#include "replica/version.h"
#include "sim/checkers.h"

using shoal::NodeId;
using shoal::Time;
using shoal::replica::ActorId;
using shoal::replica::make_actor;
using shoal::replica::Sibling;
using shoal::sim::AckedAdd;
using shoal::sim::Availability;
using shoal::sim::available_enough;
using shoal::sim::DeleteAttempt;
using shoal::sim::Dot;
using shoal::sim::find_dominated;
using shoal::sim::find_lost_adds;
using shoal::sim::format_items;
using shoal::sim::History;
using shoal::sim::parse_items;
using shoal::sim::SiblingSet;
using shoal::sim::VersionVector;

namespace {

const ActorId k_a1 = make_actor(NodeId{1}, 1);
const ActorId k_a2 = make_actor(NodeId{2}, 1);

// A sibling set whose context covers exactly its siblings' dots.
SiblingSet set_of(const std::vector<Sibling>& siblings) {
    SiblingSet s;
    for (const auto& sib : siblings) {
        s.context.raise(sib.dot);
        s.siblings.push_back(sib);
    }
    return s;
}

Sibling value_sib(Dot dot, std::string value) {
    return Sibling{dot, false, std::move(value), Time{0}, Time{0}};
}
Sibling tomb_sib(Dot dot) {
    return Sibling{dot, true, "", Time{0}, Time{0}};
}

VersionVector vv(std::initializer_list<std::pair<ActorId, std::uint64_t>> entries) {
    VersionVector v;
    for (const auto& [a, c] : entries) v.raise(a, c);
    return v;
}

std::vector<std::string> items_of(const std::vector<AckedAdd>& adds) {
    std::vector<std::string> out;
    for (const auto& a : adds) out.push_back(a.key + ":" + a.item);
    return out;
}

}  // namespace

TEST_CASE("parse_items and format_items", "[checkers]") {
    CHECK(parse_items("").empty());
    CHECK(format_items({}).empty());
    CHECK(parse_items("apple") == std::set<std::string>{"apple"});
    CHECK(parse_items("b,a,c") == std::set<std::string>{"a", "b", "c"});
    CHECK(parse_items("a,,b,") == std::set<std::string>{"a", "b"});
    CHECK(parse_items("a,a") == std::set<std::string>{"a"});
    CHECK(format_items({"c", "a", "b"}) == "a,b,c");
    CHECK(format_items({"only"}) == "only");

    const std::set<std::string> items{"egg", "milk", "bread", "item-17"};
    CHECK(format_items(items) == "bread,egg,item-17,milk");
    CHECK(parse_items(format_items(items)) == items);
    CHECK(format_items(parse_items("z,y,x")) == "x,y,z");
}

TEST_CASE("find_lost_adds", "[checkers]") {
    const Dot d1{k_a1, 1};
    const Dot d2{k_a2, 1};
    History h;
    h.acked_adds.push_back(AckedAdd{"cart/alice", "milk", d1});

    SECTION("item in a live sibling: not lost") {
        std::map<std::string, SiblingSet> state{{"cart/alice", set_of({value_sib(d1, "egg,milk")})}};
        CHECK(find_lost_adds(h, state).empty());
    }
    SECTION("item in one of several siblings: not lost") {
        std::map<std::string, SiblingSet> state{
            {"cart/alice", set_of({value_sib(d1, "egg"), value_sib(d2, "bread,milk")})}};
        CHECK(find_lost_adds(h, state).empty());
    }
    SECTION("item only in a tombstone: lost") {
        Sibling t = tomb_sib(d1);
        t.value = "milk";  // even if a tombstone carried bytes, it is not a live value
        std::map<std::string, SiblingSet> state{{"cart/alice", set_of({t, value_sib(d2, "egg")})}};
        CHECK(items_of(find_lost_adds(h, state)) == std::vector<std::string>{"cart/alice:milk"});
    }
    SECTION("item absent: lost") {
        std::map<std::string, SiblingSet> state{{"cart/alice", set_of({value_sib(d2, "egg,milky")})}};
        const auto lost = find_lost_adds(h, state);
        REQUIRE(lost.size() == 1);
        CHECK(lost[0].key == "cart/alice");
        CHECK(lost[0].item == "milk");
        CHECK(lost[0].dot == d1);
    }
    SECTION("item only under another key: lost") {
        std::map<std::string, SiblingSet> state{{"cart/alice", set_of({tomb_sib(d2)})},
                                                {"cart/bob", set_of({value_sib(d1, "milk")})}};
        CHECK(items_of(find_lost_adds(h, state)) == std::vector<std::string>{"cart/alice:milk"});
    }
    SECTION("key missing from the final state: lost") {
        CHECK(items_of(find_lost_adds(h, {})) == std::vector<std::string>{"cart/alice:milk"});
    }
    SECTION("absent but deleted by a delete that covered the add: not lost") {
        h.deletes.push_back(DeleteAttempt{"cart/alice", vv({{k_a1, 1}})});
        std::map<std::string, SiblingSet> state{{"cart/alice", set_of({tomb_sib(Dot{k_a2, 1})})}};
        CHECK(find_lost_adds(h, state).empty());
        // Even with the key gone entirely.
        CHECK(find_lost_adds(h, {}).empty());
    }
    SECTION("a delete of another key does not excuse the loss") {
        h.deletes.push_back(DeleteAttempt{"cart/bob", vv({{k_a1, 5}})});
        std::map<std::string, SiblingSet> state{{"cart/alice", set_of({tomb_sib(d2)})}};
        CHECK(items_of(find_lost_adds(h, state)) == std::vector<std::string>{"cart/alice:milk"});
    }
    SECTION("a delete that did not cover the dot does not excuse the loss") {
        h.acked_adds[0].dot = Dot{k_a1, 3};
        h.deletes.push_back(DeleteAttempt{"cart/alice", vv({{k_a1, 2}, {k_a2, 9}})});
        h.deletes.push_back(DeleteAttempt{"cart/alice", VersionVector{}});
        std::map<std::string, SiblingSet> state{{"cart/alice", set_of({tomb_sib(d2)})}};
        CHECK(items_of(find_lost_adds(h, state)) == std::vector<std::string>{"cart/alice:milk"});
    }
    SECTION("several adds: only the lost ones are reported, in order") {
        h.acked_adds.push_back(AckedAdd{"cart/alice", "egg", Dot{k_a1, 2}});
        h.acked_adds.push_back(AckedAdd{"cart/bob", "tea", Dot{k_a2, 1}});
        h.acked_adds.push_back(AckedAdd{"cart/bob", "jam", Dot{k_a2, 2}});
        std::map<std::string, SiblingSet> state{{"cart/alice", set_of({value_sib(Dot{k_a1, 2}, "egg")})},
                                                {"cart/bob", set_of({value_sib(Dot{k_a2, 2}, "jam")})}};
        CHECK(items_of(find_lost_adds(h, state)) == std::vector<std::string>{"cart/alice:milk", "cart/bob:tea"});
    }
}

TEST_CASE("find_dominated", "[checkers]") {
    const std::string key = "cart/alice";
    const Dot older{k_a1, 1};
    const Dot newer{k_a2, 1};
    const SiblingSet both = set_of({value_sib(older, "a"), value_sib(newer, "b")});
    using Pairs = std::vector<std::pair<Dot, Dot>>;

    SECTION("newer writer had seen the older: reported") {
        History h;
        h.writer_context[{key, older}] = VersionVector{};
        h.writer_context[{key, newer}] = vv({{k_a1, 1}});
        const auto found = find_dominated(key, both, h);
        REQUIRE(found.size() == 1);
        CHECK(found[0] == std::make_pair(older, newer));
    }
    SECTION("writer context covers the older through a higher counter: reported") {
        History h;
        h.writer_context[{key, newer}] = vv({{k_a1, 4}});
        CHECK(find_dominated(key, both, h) == Pairs{{older, newer}});
    }
    SECTION("three siblings, the newest saw both others") {
        const Dot third{k_a1, 2};
        const SiblingSet three = set_of({value_sib(older, "a"), value_sib(third, "c"), value_sib(newer, "b")});
        History h;
        h.writer_context[{key, newer}] = vv({{k_a1, 2}});
        h.writer_context[{key, third}] = VersionVector{};
        CHECK(find_dominated(key, three, h) == Pairs{{older, newer}, {third, newer}});
    }
    SECTION("concurrent siblings: none") {
        History h;
        h.writer_context[{key, older}] = vv({{k_a2, 0}});
        h.writer_context[{key, newer}] = VersionVector{};
        CHECK(find_dominated(key, both, h).empty());
        // Contexts that see other dots, but not each other's.
        h.writer_context[{key, older}] = vv({{make_actor(NodeId{3}, 1), 2}});
        h.writer_context[{key, newer}] = vv({{make_actor(NodeId{3}, 1), 5}});
        CHECK(find_dominated(key, both, h).empty());
    }
    SECTION("unknown dots are skipped") {
        History h;
        CHECK(find_dominated(key, both, h).empty());
        // Only the older's context is known; it does not cover the newer.
        h.writer_context[{key, older}] = VersionVector{};
        CHECK(find_dominated(key, both, h).empty());
        // A context recorded for a dot that is not in the set is irrelevant.
        h.writer_context[{key, Dot{k_a2, 7}}] = vv({{k_a1, 1}, {k_a2, 1}});
        CHECK(find_dominated(key, both, h).empty());
    }
    SECTION("the same dot of another key is a different write") {
        History h;
        h.writer_context[{"cart/bob", newer}] = vv({{k_a1, 1}});
        CHECK(find_dominated(key, both, h).empty());
        CHECK(find_dominated("cart/bob", both, h) == Pairs{{older, newer}});
    }
    SECTION("a writer's own dot is not reported against itself") {
        History h;
        h.writer_context[{key, newer}] = vv({{k_a2, 1}});  // even a bogus self-covering context
        CHECK(find_dominated(key, both, h).empty());
    }
    SECTION("single sibling: none") {
        History h;
        h.writer_context[{key, older}] = vv({{k_a1, 1}});
        CHECK(find_dominated(key, set_of({value_sib(older, "a")}), h).empty());
    }
}

TEST_CASE("available_enough", "[checkers]") {
    CHECK(available_enough(Availability{100, 99}, 0.99));
    CHECK_FALSE(available_enough(Availability{100, 98}, 0.99));
    CHECK(available_enough(Availability{100, 100}, 0.99));
    CHECK(available_enough(Availability{0, 0}, 0.99));
    CHECK(available_enough(Availability{0, 0}, 1.0));
    CHECK(Availability{0, 0}.ratio() == 1.0);
    CHECK(Availability{4, 1}.ratio() == 0.25);
    CHECK_FALSE(available_enough(Availability{10, 0}, 0.01));
}

TEST_CASE("find_lost_set_adds: an add is lost unless a remove of its item saw it", "[checkers][datatypes]") {
    const ActorId a = make_actor(NodeId{1}, 1);
    History h;
    h.dt_adds.push_back({"k", "apple", Dot{a, 3}});
    h.dt_adds.push_back({"k", "pear", Dot{a, 4}});
    std::map<std::string, std::vector<std::string>> final_sets{{"k", {"apple", "pear"}}};
    CHECK(shoal::sim::find_lost_set_adds(h, final_sets).empty());
    // pear gone, and no remove of it: lost.
    final_sets["k"] = {"apple"};
    auto lost = shoal::sim::find_lost_set_adds(h, final_sets);
    REQUIRE(lost.size() == 1);
    CHECK(lost[0].item == "pear");
    // A remove of pear that had not seen its add does not excuse it; of apple neither.
    VersionVector before;
    before.raise(a, 3);
    h.dt_removes.push_back({"k", "pear", before});
    h.dt_removes.push_back({"k", "apple", [&] { VersionVector v; v.raise(a, 9); return v; }()});
    CHECK(shoal::sim::find_lost_set_adds(h, final_sets).size() == 1);
    // One that had seen it does.
    VersionVector after;
    after.raise(a, 4);
    h.dt_removes.push_back({"k", "pear", after});
    CHECK(shoal::sim::find_lost_set_adds(h, final_sets).empty());
    // A key that no node holds loses every add of it.
    h.dt_adds.push_back({"other", "fig", Dot{a, 1}});
    CHECK(shoal::sim::find_lost_set_adds(h, final_sets).size() == 1);
}

TEST_CASE("counter_keeps_acked", "[checkers][datatypes]") {
    const shoal::sim::CounterHistory h{5, 8};
    CHECK(shoal::sim::counter_keeps_acked(h, 5));
    CHECK(shoal::sim::counter_keeps_acked(h, 9));  // counted twice after a lost answer: allowed
    CHECK_FALSE(shoal::sim::counter_keeps_acked(h, 4));
    CHECK_FALSE(shoal::sim::counter_keeps_acked(h, -1));
}

TEST_CASE("find_lost_map_fields: an acknowledged field write leaves its field holding a written value",
          "[checkers][datatypes]") {
    History h;
    h.map_values[{"m", "f0"}] = {"a", "b"};
    h.map_acked.push_back({"m", "f0", "a"});
    std::map<std::string, std::map<std::string, std::string>> final_maps{{"m", {{"f0", "b"}}}};
    CHECK(shoal::sim::find_lost_map_fields(h, final_maps).empty());  // a later write won: fine
    final_maps["m"]["f0"] = "invented";
    CHECK(shoal::sim::find_lost_map_fields(h, final_maps).size() == 1);  // nobody wrote that
    final_maps["m"].clear();
    CHECK(shoal::sim::find_lost_map_fields(h, final_maps).size() == 1);  // the field is gone
    final_maps.clear();
    CHECK(shoal::sim::find_lost_map_fields(h, final_maps).size() == 1);  // the map is gone
}
