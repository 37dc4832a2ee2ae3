// Data types through the replica core (replica/datatypes.h on a Node): a leader applies
// each update to the merge of its siblings under the write's own dot, replicas keep the
// states like any other, and a reader merges what it gets. Plain values and updates
// do not mix.
#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "core/errc.h"
#include "core/hash.h"
#include "core/limits.h"
#include "node_harness.h"
#include "replica/datatypes.h"
#include "replica/namespaces.h"
#include "replica/patch.h"

using namespace shoal;
using namespace shoal::replica;
using shoal::test::Cluster;

namespace {

void install(Cluster& c) {
    NamespaceProps set, counter;
    set.datatype = "set";
    counter.datatype = "counter";
    for (std::uint32_t i = 1; i <= c.members.size(); ++i) c.node(i).set_namespaces({{"carts", set}, {"hits", counter}});
}

ClientReply update(Cluster& c, std::uint32_t via, std::string ns, std::string key, const dt::Update& u) {
    ClientRequest r;
    r.op = ClientOp::put;
    r.key = std::move(key);
    r.update = dt::encode(u);
    r.options.ns = std::move(ns);
    return c.call(via, std::move(r));
}

dt::State read(Cluster& c, std::uint32_t via, std::string ns, std::string key, VersionVector* context = nullptr) {
    RequestOptions o;
    o.ns = ns;
    const ClientReply r = c.get(via, std::move(key), o);
    REQUIRE((r.code == errc::ok || r.code == errc::not_found));
    if (context != nullptr) *context = r.context;
    dt::State s;
    REQUIRE_FALSE(dt::merge_siblings(ns == "carts" ? dt::Type::set : dt::Type::counter, r.siblings, c.now.wall, s));
    return s;
}

std::vector<std::string> items(Cluster& c, std::uint32_t via, std::string key) {
    return dt::members(std::get<dt::Set>(read(c, via, "carts", std::move(key))));
}

dt::Update add(std::string item) { return dt::SetUpdate{{std::move(item)}, {}, {}}; }

}  // namespace

TEST_CASE("datatypes on nodes: adds through every coordinator meet in one set", "[datatypes][node]") {
    Cluster c(3);
    install(c);
    REQUIRE(update(c, 1, "carts", "alice", add("apple")).code == errc::ok);
    REQUIRE(update(c, 2, "carts", "alice", add("pear")).code == errc::ok);
    REQUIRE(update(c, 3, "carts", "alice", add("fig")).code == errc::ok);
    for (std::uint32_t via = 1; via <= 3; ++via)
        CHECK(items(c, via, "alice") == std::vector<std::string>{"apple", "fig", "pear"});
    // The key holds one sibling: each update superseded what its leader held.
    RequestOptions o;
    o.ns = "carts";
    CHECK(c.get(1, "alice", o).siblings.size() == 1);
}

TEST_CASE("datatypes on nodes: a remove takes what its reader saw; an add it did not see stays", "[datatypes][node]") {
    Cluster c(3);
    install(c);
    REQUIRE(update(c, 1, "carts", "bob", add("apple")).code == errc::ok);
    VersionVector seen;
    read(c, 2, "carts", "bob", &seen);
    // Without a context the remove is refused, and nothing changes.
    CHECK(update(c, 2, "carts", "bob", dt::SetUpdate{{}, {"apple"}, {}}).code == errc::precondition_failed);
    // apple is added again after the read: the remove decided on the read keeps it.
    REQUIRE(update(c, 3, "carts", "bob", add("apple")).code == errc::ok);
    REQUIRE(update(c, 2, "carts", "bob", dt::SetUpdate{{}, {"apple"}, seen}).code == errc::ok);
    CHECK(items(c, 1, "bob") == std::vector<std::string>{"apple"});
    read(c, 1, "carts", "bob", &seen);
    REQUIRE(update(c, 1, "carts", "bob", dt::SetUpdate{{}, {"apple"}, seen}).code == errc::ok);
    CHECK(items(c, 3, "bob").empty());
}

TEST_CASE("datatypes on nodes: updates while a replica is cut off merge when it returns", "[datatypes][node]") {
    Cluster c(3);
    install(c);
    REQUIRE(update(c, 1, "carts", "k", add("a")).code == errc::ok);
    c.dead.insert(3);
    REQUIRE(update(c, 1, "carts", "k", add("b")).code == errc::ok);
    REQUIRE(update(c, 2, "carts", "k", add("c")).code == errc::ok);
    c.dead.clear();
    // Node 3 leads an update on its own stale copy: a sibling of the others' state.
    REQUIRE(update(c, 3, "carts", "k", add("d")).code == errc::ok);
    for (std::uint32_t via = 1; via <= 3; ++via)
        CHECK(items(c, via, "k") == std::vector<std::string>{"a", "b", "c", "d"});
}

TEST_CASE("datatypes on nodes: a counter adds increments and decrements from every coordinator", "[datatypes][node]") {
    Cluster c(3);
    install(c);
    std::int64_t sum = 0;
    for (int i = 0; i < 30; ++i) {
        const std::int64_t delta = (i % 3 == 0) ? -2 : 5;
        REQUIRE(update(c, 1 + i % 3, "hits", "page", dt::CounterUpdate{delta}).code == errc::ok);
        sum += delta;
    }
    for (std::uint32_t via = 1; via <= 3; ++via)
        CHECK(dt::value(std::get<dt::Counter>(read(c, via, "hits", "page"))) == sum);
}

TEST_CASE("datatypes on nodes: plain values and updates do not mix", "[datatypes][node]") {
    Cluster c(3);
    install(c);
    ClientRequest plain;
    plain.op = ClientOp::put;
    plain.key = "k";
    plain.value = "v";
    plain.options.ns = "carts";
    CHECK(c.call(1, plain).code == errc::wrong_type);
    // An update on a namespace of plain values, or of another type, is refused.
    CHECK(update(c, 1, "default", "k", add("x")).code == errc::wrong_type);
    CHECK(update(c, 1, "hits", "k", add("x")).code == errc::wrong_type);
    // An update that does not decode is a bad request.
    ClientRequest junk = plain;
    junk.value.clear();
    junk.update = "junk";
    CHECK(c.call(1, junk).code == errc::bad_request);
    // A context naming dots this leader never issued is refused.
    VersionVector forged;
    forged.raise(make_actor(NodeId{1}, 1), 1000000);
    const ClientReply r = update(c, 1, "carts", "k", dt::SetUpdate{{}, {"x"}, forged});
    CHECK(r.code != errc::ok);
}

namespace {

// The cart as node `via` alone holds it: the others are cut off while it reads, r=1.
std::vector<std::string> items_on(Cluster& c, std::uint32_t via, const std::string& key) {
    const std::set<std::uint32_t> before = c.dead;
    for (std::uint32_t i = 1; i <= c.members.size(); ++i) {
        if (i != via) c.dead.insert(i);
    }
    RequestOptions o;
    o.ns = "carts";
    o.r = 1;
    const ClientReply r = c.get(via, key, o);
    c.dead = before;
    REQUIRE((r.code == errc::ok || r.code == errc::not_found));
    dt::State s;
    REQUIRE_FALSE(dt::merge_siblings(dt::Type::set, r.siblings, c.now.wall, s));
    return dt::members(std::get<dt::Set>(s));
}

std::uint64_t deltas_sent(Cluster& c) {
    std::uint64_t n = 0;
    for (std::uint32_t i = 1; i <= c.members.size(); ++i) n += c.node(i).stats().deltas_sent;
    return n;
}

std::uint64_t deltas_refused(Cluster& c) {
    std::uint64_t n = 0;
    for (std::uint32_t i = 1; i <= c.members.size(); ++i) n += c.node(i).stats().deltas_refused;
    return n;
}

}  // namespace

TEST_CASE("datatypes on nodes: a cart's adds reach the other primaries as patches, and each holds the leader's state",
          "[datatypes][node][delta]") {
    Cluster c(3);
    install(c);
    std::vector<std::string> want;
    std::uint64_t sent = 0;
    for (int i = 0; i < 30; ++i) {
        if (i == 20) sent = deltas_sent(c);
        want.push_back("item-" + std::to_string(10 + i));
        REQUIRE(update(c, 1 + i % 3, "carts", "cart", add(want.back())).code == errc::ok);
    }
    // The first add had no value to patch, and a small cart's patch is not much smaller
    // than the cart. Past 20 items, each add's patch went to both other primaries.
    CHECK(sent > 0);
    CHECK(deltas_sent(c) == sent + 2 * 10);
    CHECK(deltas_refused(c) == 0);
    for (std::uint32_t via = 1; via <= 3; ++via) CHECK(items_on(c, via, "cart") == want);
}

TEST_CASE("datatypes on nodes: a replica whose copy missed a write asks for the state, and gets it",
          "[datatypes][node][delta]") {
    Cluster c(3);
    install(c);
    for (const char* item : {"apple", "banana", "cherry", "damson"}) {
        REQUIRE(update(c, 1, "carts", "k", add(item)).code == errc::ok);
    }
    c.dead.insert(3);
    REQUIRE(update(c, 1, "carts", "k", add("elder")).code == errc::ok);  // on 1 and 2
    c.dead.clear();
    CHECK(items_on(c, 3, "k") == std::vector<std::string>{"apple", "banana", "cherry", "damson"});
    const std::uint64_t refused = deltas_refused(c);
    REQUIRE(update(c, 1, "carts", "k", add("fig")).code == errc::ok);
    // Node 3's copy was not the leader's: applied there, the add would have made
    // another state (without elder, under a clock that says it saw elder's dot). It
    // asked for the state instead.
    CHECK(deltas_refused(c) == refused + 1);
    const std::vector<std::string> all{"apple", "banana", "cherry", "damson", "elder", "fig"};
    for (std::uint32_t via = 1; via <= 3; ++via) CHECK(items_on(c, via, "k") == all);
}

TEST_CASE("datatypes on nodes: pending deltas are bounded by max_inflight_requests; past it states go whole",
          "[datatypes][node][delta]") {
    for (const std::size_t bound : {std::size_t{1}, std::size_t{2}}) {
        NodeConfig base;
        base.limits.max_inflight_requests = bound;
        Cluster c(3, base);
        install(c);
        for (const char* item : {"apple", "banana", "cherry", "damson"}) {
            REQUIRE(update(c, 1, "carts", "k", add(item)).code == errc::ok);
        }
        // Node 3 answers nothing: each delta to it stays pending until the put's deadline.
        c.dead.insert(3);
        const std::uint64_t sent = deltas_sent(c);
        REQUIRE(update(c, 1, "carts", "k", add("elder")).code == errc::ok);
        CHECK(deltas_sent(c) == sent + 2);
        REQUIRE(update(c, 1, "carts", "k", add("fig")).code == errc::ok);
        // One pending of a bound of one: the next write's states go whole.
        CHECK(deltas_sent(c) == sent + (bound == 1 ? 2 : 4));
        c.dead.clear();
        CHECK(items_on(c, 2, "k") == std::vector<std::string>{"apple", "banana", "cherry", "damson", "elder", "fig"});
    }
}

TEST_CASE("datatypes on nodes: a patch that fits another copy is not taken; the digest tells them apart",
          "[datatypes][node][delta]") {
    Cluster c(3);
    const ActorId leader = make_actor(NodeId{1}, 1);
    const std::string base = "a cart of apples, pears and figs, and plums and more fruit";
    const std::string next = "a cart of apples, pears and FIGS, and plums and more fruit";
    const std::string other = "A CART OF APPLES, PEARS AND figs, AND PLUMS AND MORE FRUIT";
    const auto hold = [&](const std::string& key, const std::string& value) {  // node 2's copy, under dot 1
        SiblingSet s;
        s.context.raise(Dot{leader, 1});
        s.siblings.push_back(Sibling{Dot{leader, 1}, false, value, c.now.wall, {}, {}});
        c.node(2).step(c.now, NodeId{1}, ReplicateReq{0, key, s, NodeId{}});
        c.collect(2);
    };
    const auto send_delta = [&](const std::string& key) {  // the write of `next` under dot 2, as a patch
        ReplicateDelta d{9, key, SiblingSet{}, make_patch(base, next, SIZE_MAX).value(), hash_bytes(next, k_delta_seed)};
        d.state.context.raise(Dot{leader, 2});
        d.state.siblings.push_back(Sibling{Dot{leader, 2}, false, {}, c.now.wall, {}, {}});
        c.wire.clear();
        c.node(2).step(c.now, NodeId{1}, d);
        c.collect(2);
        REQUIRE(c.wire.size() == 1);
        const auto* resp = std::get_if<ReplicateResp>(&c.wire.front().second.msg);
        REQUIRE(resp != nullptr);
        CHECK(resp->code == errc::ok);
        return resp->need_state;
    };
    const auto held_value = [&](const std::string& key) {
        SiblingSet here;
        REQUIRE(!c.node(2).read_local(key, here));
        REQUIRE(here.siblings.size() == 1);
        return here.siblings.front().value;
    };
    // The patch applies to `other` (same length, same places) and makes other bytes.
    hold("k", other);
    std::string made;
    REQUIRE(apply_patch(other, make_patch(base, next, SIZE_MAX).value(), made));
    CHECK(made != next);
    CHECK(send_delta("k"));  // asks for the state
    CHECK(held_value("k") == other);
    // On the leader's own base the same delta is taken.
    hold("j", base);
    CHECK_FALSE(send_delta("j"));
    CHECK(held_value("j") == next);
}

TEST_CASE("datatypes on nodes: pending delta states are bounded in bytes; past max_pending_delta_bytes they go whole",
          "[datatypes][node][delta]") {
    NodeConfig base;
    base.limits.max_state_bytes = 1024;  // so 4 KiB of pending states at most
    Cluster c(3, base);
    install(c);
    const std::size_t cap = max_pending_delta_bytes(base.limits);
    for (int i = 0; i < 8; ++i) REQUIRE(update(c, 1, "carts", "k", add("seed-" + std::to_string(10 + i))).code == errc::ok);
    // Node 3 answers nothing: each delta to it stays pending, holding the state's value.
    c.dead.insert(3);
    std::size_t pending = 0;
    bool went_whole = false;
    for (int i = 0; i < 60 && !went_whole; ++i) {
        const std::uint64_t sent = deltas_sent(c);
        REQUIRE(update(c, 1, "carts", "k", add("item-" + std::to_string(100 + i))).code == errc::ok);
        SiblingSet here;
        REQUIRE(!c.node(1).read_local(scoped_key("carts", "k"), here));
        REQUIRE(here.siblings.size() == 1);
        const std::size_t value = here.siblings.front().value.size();
        INFO("add " << i << ": " << pending << " pending bytes, value " << value);
        if (deltas_sent(c) == sent) {
            went_whole = true;
            CHECK(pending + value > cap);  // whole only past the bound
        } else {
            CHECK(deltas_sent(c) == sent + 2);
            pending += value;
            CHECK(pending <= cap);
        }
    }
    CHECK(went_whole);
}
