// The replication core driven by hand: three nodes, a message pump that can drop
// links, no simulator. Checks quorums, siblings, contexts, sloppy quorum hints,
// read repair, validation and timeouts.
#include <catch2/catch.hpp>

#include <algorithm>
#include <deque>
#include <map>
#include <memory>
#include <set>

#include "core/hash.h"
#include "node_harness.h"
#include "store/keys.h"

using namespace shoal;
using namespace shoal::replica;
using namespace shoal::test;


TEST_CASE("a put is readable from every node, with the replies counted") {
    Cluster c(3);
    auto w = c.put(1, "cart/alice", "apple");
    REQUIRE(w.code == errc::ok);
    CHECK(w.replies >= 2);
    CHECK(w.required == 2);
    CHECK(w.dot.counter == 1);
    for (std::uint32_t via = 1; via <= 3; ++via) {
        auto r = c.get(via, "cart/alice");
        REQUIRE(r.code == errc::ok);
        CHECK(values(r) == std::set<std::string>{"apple"});
    }
}

TEST_CASE("a missing key is not_found") {
    Cluster c(3);
    auto r = c.get(2, "nothing/here");
    CHECK(r.code == errc::not_found);
    CHECK(r.siblings.empty());
    CHECK(r.replies >= 2);
}

TEST_CASE("concurrent blind writes become siblings; a write with the context resolves them") {
    Cluster c(3);
    REQUIRE(c.put(1, "k", "a").code == errc::ok);
    REQUIRE(c.put(2, "k", "b").code == errc::ok);
    auto r = c.get(3, "k");
    REQUIRE(r.code == errc::ok);
    CHECK(values(r) == std::set<std::string>{"a", "b"});
    REQUIRE(c.put(3, "k", "ab", r.context).code == errc::ok);
    auto r2 = c.get(1, "k");
    CHECK(values(r2) == std::set<std::string>{"ab"});
}

TEST_CASE("a delete with the context reads as absent; a stale write survives as a sibling") {
    Cluster c(3);
    REQUIRE(c.put(1, "k", "v1").code == errc::ok);
    auto r = c.get(1, "k");
    ClientRequest del;
    del.op = ClientOp::del;
    del.key = "k";
    del.context = r.context;
    REQUIRE(c.call(2, del).code == errc::ok);
    CHECK(c.get(3, "k").code == errc::not_found);
    // A writer that never read anything is concurrent with the delete.
    REQUIRE(c.put(3, "k", "late").code == errc::ok);
    CHECK(values(c.get(1, "k")) == std::set<std::string>{"late"});
}

TEST_CASE("with one node down writes meet W=2 and the fallback holds a hint") {
    Cluster c(4);
    c.dead.insert(4);
    int ok = 0;
    for (int i = 0; i < 40; ++i) {
        auto w = c.put(1 + static_cast<std::uint32_t>(i % 3), "key-" + std::to_string(i), "v");
        ok += w.code == errc::ok ? 1 : 0;
    }
    CHECK(ok == 40);
    // Node 4 is a primary for some of those keys: after the coordinators noticed it
    // was down, fallbacks stored hints naming it.
    std::uint64_t hints = 0;
    for (std::uint32_t i = 1; i <= 3; ++i) hints += c.node(i).stats().hints_stored;
    CHECK(hints > 0);
    for (std::uint32_t i = 1; i <= 3; ++i) {
        std::size_t found = 0;
        (void)c.members[i - 1]->disk.scan(store::hint_range(NodeId{4}).begin, store::hint_range(NodeId{4}).end,
                                          [&](std::string_view, std::string_view) { return ++found, true; });
        CHECK(found == c.node(i).stats().hints_stored);
    }
}

TEST_CASE("a quorum that cannot be met fails with the count of replies") {
    Cluster c(3);
    c.dead.insert(2);
    c.dead.insert(3);
    auto w = c.put(1, "k", "v");
    CHECK(w.code == errc::quorum_not_met);
    CHECK(w.replies == 1);
    CHECK(w.required == 2);
    RequestOptions one;
    one.r = 1;
    CHECK(c.get(1, "k", one).code == errc::ok);  // r=1 is met by the coordinator itself
    // Once node 1 believes both down, it refuses before asking anyone, and says why.
    c.detector(1).missed(NodeId{2}, c.now.mono);
    c.detector(1).missed(NodeId{3}, c.now.mono);
    const ClientReply refused = c.put(1, "k", "v2");
    CHECK(refused.code == errc::unavailable);
    CHECK(refused.primaries == 3);
    CHECK(refused.primaries_down == 2);
    CHECK(refused.replies == 1);  // the targets it could ask: itself
    CHECK(refused.required == 2);
}

TEST_CASE("read repair brings a stale replica up to date") {
    Cluster c(3);
    c.dead.insert(3);
    REQUIRE(c.put(1, "k", "v").code == errc::ok);
    c.dead.clear();
    SiblingSet before;
    REQUIRE(!c.node(3).read_local("k", before));
    CHECK(before.siblings.empty());
    RequestOptions all;
    all.r = 3;
    REQUIRE(c.get(1, "k", all).code == errc::ok);
    SiblingSet after;
    REQUIRE(!c.node(3).read_local("k", after));
    REQUIRE(after.siblings.size() == 1);
    CHECK(after.siblings[0].value == "v");
    CHECK(c.node(1).stats().read_repairs_sent >= 1);
}

TEST_CASE("bad requests are refused with a clear code before any work") {
    NodeConfig base;
    base.limits.max_key_bytes = 8;
    base.limits.max_value_bytes = 4;
    Cluster c(3, base);
    CHECK(c.put(1, "", "v").code == errc::bad_request);
    CHECK(c.put(1, "123456789", "v").code == errc::key_too_large);
    CHECK(c.put(1, "k", "12345").code == errc::value_too_large);
    ClientRequest r;
    r.op = ClientOp::get;
    r.key = "k";
    r.options.r = 4;  // more than n
    CHECK(c.call(1, r).code == errc::bad_request);
    r.options = {};
    r.options.timeout_ms = -5;
    CHECK(c.call(1, r).code == errc::bad_request);
}

TEST_CASE("the sibling limit refuses a blind write past it, but not a resolving one") {
    NodeConfig base;
    base.limits.max_siblings = 2;
    Cluster c(3, base);
    REQUIRE(c.put(1, "k", "a").code == errc::ok);
    REQUIRE(c.put(1, "k", "b").code == errc::ok);
    CHECK(c.put(1, "k", "c").code == errc::too_many_siblings);
    auto r = c.get(1, "k");
    CHECK(values(r) == std::set<std::string>{"a", "b"});
    CHECK(c.put(1, "k", "abc", r.context).code == errc::ok);
}

TEST_CASE("ttl: an expired value reads as absent") {
    Cluster c(3);
    ClientRequest p;
    p.op = ClientOp::put;
    p.key = "session/1";
    p.value = "token";
    p.options.ttl_s = 2;
    REQUIRE(c.call(1, p).code == errc::ok);
    CHECK(c.get(2, "session/1").code == errc::ok);
    c.advance(Duration::seconds(3));
    CHECK(c.get(2, "session/1").code == errc::not_found);
}

TEST_CASE("the incarnation goes up on every start and survives a crash") {
    store::MemStore disk;
    std::uint32_t a = 0, b = 0, d = 0;
    REQUIRE(!bump_incarnation(disk, a));
    REQUIRE(!bump_incarnation(disk, b));
    disk.crash();
    REQUIRE(!bump_incarnation(disk, d));
    CHECK(a == 1);
    CHECK(b == 2);
    CHECK(d == 3);
}

TEST_CASE("a single-node cluster (n=r=w=1) serves puts and gets") {
    Cluster c(1, test::one_copy());
    CHECK(c.get(1, "a").code == errc::not_found);
    REQUIRE(c.put(1, "a", "1").code == errc::ok);
    auto r = c.get(1, "a");
    REQUIRE(r.code == errc::ok);
    CHECK(values(r) == std::set<std::string>{"1"});
}

// ---- repair -------------------------------------------------------------------------

namespace {
NodeConfig fast_repair() {
    NodeConfig c;
    c.repair.hint_interval = Duration::millis(20);
    c.repair.ae_interval = Duration::millis(5);
    c.repair.gc_interval = Duration::millis(50);
    c.repair.tombstone_grace = Duration::seconds(1);
    return c;
}

// The primaries of a key, in preference order.
std::vector<std::uint32_t> primaries(const Cluster& c, const std::string& key) {
    const auto order = c.ring->preference_order(c.ring->partition_of(hash_key(key)));
    return {order[0].value, order[1].value, order[2].value};
}

bool holds(Cluster& c, std::uint32_t id, const std::string& key) {
    SiblingSet s;
    REQUIRE(!c.node(id).read_local(key, s));
    return !s.siblings.empty();
}

// A key whose third primary is silent, and the first node that is no primary of it
// (the fallback that stands in). v1 is written before the coordinator (the first
// primary) notices the silence, v2 after: v2 goes to the fallback with a hint.
struct StandIn {
    std::vector<std::uint32_t> primaries;
    std::uint32_t down = 0;
    std::uint32_t fallback = 1;
};
StandIn stand_in(Cluster& c, const std::string& key) {
    StandIn s;
    s.primaries = primaries(c, key);
    s.down = s.primaries[2];
    while (std::find(s.primaries.begin(), s.primaries.end(), s.fallback) != s.primaries.end()) ++s.fallback;
    c.dead.insert(s.down);
    REQUIRE(c.put(s.primaries[0], key, "v1").code == errc::ok);
    RequestOptions all;
    all.r = 3;
    REQUIRE(c.get(s.primaries[0], key, all).code == errc::quorum_not_met);  // the coordinator notices
    REQUIRE(c.put(s.primaries[0], key, "v2").code == errc::ok);              // now the fallback stands in
    return s;
}
}  // namespace

TEST_CASE("hinted handoff: the fallback hands the write to the primary once it is back, then drops its copy") {
    Cluster c(4, fast_repair());
    const std::string key = "cart/hinted";
    const auto [p, down, fallback] = stand_in(c, key);
    CHECK(c.node(fallback).hints_pending() >= 1);
    CHECK(holds(c, fallback, key));
    CHECK_FALSE(holds(c, down, key));
    c.dead.clear();
    for (int i = 0; i < 200 && c.node(fallback).hints_pending() > 0; ++i) c.advance(Duration::millis(20));
    CHECK(c.node(fallback).hints_pending() == 0);
    CHECK(c.node(fallback).stats().hints_delivered >= 1);
    CHECK(holds(c, down, key));
    CHECK_FALSE(holds(c, fallback, key));  // not a primary: no stale copy stays behind
}

TEST_CASE("hinted handoff: a fallback with max_hints waiting refuses the next hinted write until they are delivered") {
    NodeConfig config = fast_repair();
    config.repair.max_hints = 1;
    Cluster c(4, config);
    const std::string key = "cart/full";
    const auto [p, down, fallback] = stand_in(c, key);
    REQUIRE(c.node(fallback).hints_pending() == 1);  // v2's: the one hint it may hold
    CHECK(c.node(fallback).stats().hints_dropped == 0);
    // At the bound: the fallback refuses, the two primaries still make W=2.
    REQUIRE(c.put(p[0], key, "v3").code == errc::ok);
    CHECK(c.node(fallback).stats().hints_dropped == 1);
    CHECK(c.node(fallback).hints_pending() == 1);
    c.dead.clear();
    for (int i = 0; i < 200 && c.node(fallback).hints_pending() > 0; ++i) c.advance(Duration::millis(20));
    REQUIRE(c.node(fallback).hints_pending() == 0);
    CHECK(c.node(fallback).stats().hint_bytes_pending == 0);
    CHECK(holds(c, down, key));  // v2 reached it through the hint, v3 directly or by repair
}

TEST_CASE("anti-entropy: a replica that missed writes catches up with no read, and the roots agree") {
    Cluster c(3, fast_repair());
    c.dead.insert(3);
    for (int i = 0; i < 40; ++i) REQUIRE(c.put(1, "k/" + std::to_string(i), "v" + std::to_string(i)).code == errc::ok);
    CHECK_FALSE(holds(c, 3, "k/0"));
    c.dead.clear();
    for (int i = 0; i < 400; ++i) c.advance(Duration::millis(10));
    for (int i = 0; i < 40; ++i) CHECK(holds(c, 3, "k/" + std::to_string(i)));
    for (std::uint32_t p = 0; p < 64; ++p) {
        CHECK(c.node(1).merkle_root(PartitionId{p}) == c.node(3).merkle_root(PartitionId{p}));
    }
    CHECK(c.node(3).stats().ae_keys_repaired + c.node(1).stats().ae_keys_repaired +
              c.node(2).stats().ae_keys_repaired >=
          40);
}

TEST_CASE("anti-entropy off: the replica that missed writes stays behind") {
    NodeConfig base = fast_repair();
    base.repair.anti_entropy = false;
    Cluster c(3, base);
    c.dead.insert(3);
    REQUIRE(c.put(1, "k/0", "v").code == errc::ok);
    c.dead.clear();
    for (int i = 0; i < 200; ++i) c.advance(Duration::millis(10));
    CHECK_FALSE(holds(c, 3, "k/0"));
}

TEST_CASE("tombstone GC: a delete is reaped on every primary after the grace period, and stays deleted") {
    Cluster c(3, fast_repair());
    REQUIRE(c.put(1, "gone", "v").code == errc::ok);
    auto r = c.get(1, "gone");
    ClientRequest del;
    del.op = ClientOp::del;
    del.key = "gone";
    del.context = r.context;
    REQUIRE(c.call(2, del).code == errc::ok);
    for (std::uint32_t id = 1; id <= 3; ++id) CHECK(holds(c, id, "gone"));  // the tombstone
    c.advance(Duration::millis(500));
    for (std::uint32_t id = 1; id <= 3; ++id) CHECK(holds(c, id, "gone"));  // within the grace period
    for (int i = 0; i < 300; ++i) c.advance(Duration::millis(10));
    for (std::uint32_t id = 1; id <= 3; ++id) {
        CHECK_FALSE(holds(c, id, "gone"));
        CHECK(c.node(id).stats().tombstones_reaped == 1);
    }
    CHECK(c.get(3, "gone").code == errc::not_found);
}

TEST_CASE("tombstone GC waits for a primary that missed the delete") {
    Cluster c(3, fast_repair());
    REQUIRE(c.put(1, "gone", "v").code == errc::ok);
    auto r = c.get(1, "gone");
    c.dead.insert(3);
    ClientRequest del;
    del.op = ClientOp::del;
    del.key = "gone";
    del.context = r.context;
    REQUIRE(c.call(1, del).code == errc::ok);
    for (int i = 0; i < 300; ++i) c.advance(Duration::millis(10));  // well past the grace period
    CHECK(holds(c, 1, "gone"));  // node 3 never confirmed: the tombstone stays
    CHECK(holds(c, 2, "gone"));
    c.dead.clear();
    for (int i = 0; i < 400; ++i) c.advance(Duration::millis(10));
    for (std::uint32_t id = 1; id <= 3; ++id) CHECK_FALSE(holds(c, id, "gone"));
    RequestOptions all;
    all.r = 3;
    CHECK(c.get(3, "gone", all).code == errc::not_found);  // node 3's old "v" is gone too
}

TEST_CASE("gets that have answered do not count against the in-flight limit while they wait for read repair") {
    NodeConfig base;
    base.limits.max_inflight_requests = 10;
    base.read_fanout = ReadFanout::all;  // every get asks node 3 too
    Cluster c(3, base);
    REQUIRE(c.put(1, "k", "v").code == errc::ok);
    c.dead.insert(3);  // every get now waits for node 3 until its deadline, for read repair
    for (int i = 0; i < 30; ++i) {
        const auto r = c.get(1, "k");
        REQUIRE(r.code == errc::ok);  // not overloaded
    }
    CHECK(c.node(1).inflight() == 0);
}

TEST_CASE("anti-entropy: a silent peer costs only its own exchange, others go on meanwhile") {
    // Regression: exchanges ran one at a time, so a peer that stopped answering held
    // every other peer's repair for the whole ae_timeout.
    NodeConfig base = fast_repair();
    base.repair.ae_timeout = Duration::seconds(5);
    Cluster c(3, base);
    c.dead.insert(2);  // node 2 receives nothing from now on, and no node knows yet
    for (int i = 0; i < 200; ++i) c.advance(Duration::millis(10));  // 2 s: well inside node 2's timeout
    const auto running = c.node(1).exchange();
    CHECK(running.running == 1);  // the one with node 2, waiting
    CHECK(running.peer == NodeId{2});
    CHECK(c.node(1).stats().ae_aborted == 0);
    CHECK(c.node(1).stats().ae_exchanges >= 20);  // with node 3 meanwhile
}

TEST_CASE("a delete without a context deletes what a read finds, siblings included; nothing there is not_found",
          "[node][api]") {
    Cluster c(3);
    REQUIRE(c.put(1, "cart/alice", "a").code == errc::ok);
    REQUIRE(c.put(2, "cart/alice", "b").code == errc::ok);  // blind: two siblings
    REQUIRE(values(c.get(3, "cart/alice")).size() == 2);
    ClientRequest del;
    del.op = ClientOp::del;
    del.key = "cart/alice";
    REQUIRE(c.call(3, del).code == errc::ok);
    c.advance(Duration::millis(100));
    RequestOptions all;
    all.r = 3;
    CHECK(c.get(1, "cart/alice", all).code == errc::not_found);
    CHECK(c.call(2, del).code == errc::not_found);  // nothing live left to delete
    // A writer that never read is still concurrent with the delete: its value lives.
    REQUIRE(c.put(3, "cart/alice", "late").code == errc::ok);
    CHECK(values(c.get(1, "cart/alice")) == std::set<std::string>{"late"});
}

TEST_CASE("a put returns the context to write with next, or none when siblings remain", "[node][api]") {
    Cluster c(3);
    const ClientReply first = c.put(1, "cart/bob", "apple");
    REQUIRE(first.code == errc::ok);
    REQUIRE_FALSE(first.context.empty());
    // One round trip per add: the returned context supersedes the value just written.
    REQUIRE(c.put(1, "cart/bob", "apple,pear", first.context).code == errc::ok);
    CHECK(values(c.get(2, "cart/bob")) == std::set<std::string>{"apple,pear"});

    // A blind write beside it leaves two siblings: no context (it could cover the
    // other writer's value), unless the siblings come back with it.
    const ClientReply blind = c.put(1, "cart/bob", "kiwi");
    REQUIRE(blind.code == errc::ok);
    CHECK(blind.context.empty());
    ClientRequest put;
    put.op = ClientOp::put;
    put.key = "cart/bob";
    put.value = "plum";
    put.options.return_body = true;
    const ClientReply body = c.call(1, put);
    REQUIRE(body.code == errc::ok);
    CHECK(values(body) == std::set<std::string>{"apple,pear", "kiwi", "plum"});
    CHECK_FALSE(body.context.empty());
    REQUIRE(c.put(1, "cart/bob", "all", body.context).code == errc::ok);
    CHECK(values(c.get(3, "cart/bob")) == std::set<std::string>{"all"});
}

TEST_CASE("quorums by name resolve against n; n above the node's n is refused", "[node][api]") {
    Cluster c(3);
    REQUIRE(c.put(1, "k", "v").code == errc::ok);
    ClientRequest get;
    get.op = ClientOp::get;
    get.key = "k";
    get.options.r = k_quorum_all;
    const ClientReply all = c.call(2, get);
    REQUIRE(all.code == errc::ok);
    CHECK(all.required == 3);
    get.options.r = k_quorum_one;
    CHECK(c.call(2, get).required == 1);
    get.options.r = k_quorum_majority;
    get.options.n = 2;
    CHECK(c.call(2, get).required == 2);
    get.options.n = 4;  // the node keeps 3 copies
    get.options.r = 0;
    CHECK(c.call(2, get).code == errc::bad_request);
}

namespace {
ClientRequest conditional_put(std::string key, std::string value, WriteCondition condition, VersionVector ctx = {}) {
    ClientRequest put;
    put.op = ClientOp::put;
    put.key = std::move(key);
    put.value = std::move(value);
    put.context = std::move(ctx);
    put.options.condition = condition;
    return put;
}
}  // namespace

TEST_CASE("If-None-Match creates only when nothing is there; of concurrent creates exactly one wins", "[node][api]") {
    Cluster c(3);
    CHECK(c.call(2, conditional_put("session/1", "a", WriteCondition::if_none_match)).code == errc::ok);
    CHECK(c.call(3, conditional_put("session/1", "b", WriteCondition::if_none_match)).code ==
          errc::precondition_failed);
    CHECK(values(c.get(1, "session/1")) == std::set<std::string>{"a"});

    // Three creates submitted through three coordinators before any message moves.
    for (std::uint32_t via = 1; via <= 3; ++via) {
        c.node(via).submit(c.now, 910000 + via, conditional_put("session/2", "v" + std::to_string(via),
                                                                   WriteCondition::if_none_match));
        c.collect(via);
    }
    c.pump();
    c.advance(Duration::millis(100));
    int won = 0, refused = 0;
    for (std::uint32_t via = 1; via <= 3; ++via) {
        REQUIRE(c.replies.count(910000 + via) == 1);
        won += c.replies[910000 + via].code == errc::ok;
        refused += c.replies[910000 + via].code == errc::precondition_failed;
    }
    CHECK(won == 1);
    CHECK(refused == 2);
    CHECK(values(c.get(1, "session/2")).size() == 1);
}

TEST_CASE("If-Match writes only when nothing was written since the read", "[node][api]") {
    Cluster c(3);
    REQUIRE(c.put(1, "cart/carol", "apple").code == errc::ok);
    const ClientReply read = c.get(2, "cart/carol");
    CHECK(c.call(3, conditional_put("cart/carol", "apple,pear", WriteCondition::if_match, read.context)).code ==
          errc::ok);
    // The same stale context again: a write came in between.
    CHECK(c.call(1, conditional_put("cart/carol", "apple,fig", WriteCondition::if_match, read.context)).code ==
          errc::precondition_failed);
    CHECK(values(c.get(1, "cart/carol")) == std::set<std::string>{"apple,pear"});
    ClientRequest del;
    del.op = ClientOp::del;
    del.key = "cart/carol";
    del.options.condition = WriteCondition::if_none_match;
    CHECK(c.call(1, del).code == errc::bad_request);
}

TEST_CASE("node: a peer's write that names the node itself as hint target is a plain write", "[node][regress]") {
    Cluster c(3);
    REQUIRE(c.put(1, "k", "v").code == errc::ok);
    SiblingSet state;
    REQUIRE(!c.node(1).read_local("k", state));
    // Node 2 is told to hold a hint for itself (only a faulty or forged peer says so).
    c.node(2).step(c.now, NodeId{1}, ReplicateReq{0, "k", state, NodeId{2}});
    CHECK(c.node(2).hints_pending() == 0);
    c.now = c.now + Duration::seconds(1);
    c.node(2).tick(c.now);  // hint delivery sends nothing to itself (it asserted before)
    SiblingSet here;
    REQUIRE(!c.node(2).read_local("k", here));
    CHECK(here.siblings.size() == 1);
}

// A sole node is every request's coordinator, leader and only replica: each request
// finishes inside the turn that submitted it, through the node's calls to itself (it
// sends itself no message). Every kind is answered exactly once, in that turn.
TEST_CASE("a sole node (n=r=w=1) answers every kind of request once, in the turn that took it", "[node][regress]") {
    Cluster c(1, test::one_copy());
    ClientToken token = 700000;
    const auto in_one_turn = [&](ClientRequest req) {
        const ClientToken t = ++token;
        c.node(1).submit(c.now, t, std::move(req));
        c.collect(1);
        CHECK(c.wire.empty());  // nothing on the wire: no message to itself
        REQUIRE(c.replies.count(t) == 1);
        CHECK(c.reply_count[t] == 1);
        return c.replies[t];
    };
    const auto put = [](std::string value, VersionVector ctx = {}) {
        ClientRequest r;
        r.op = ClientOp::put;
        r.key = "sole";
        r.value = std::move(value);
        r.context = std::move(ctx);
        return r;
    };
    ClientRequest get;
    get.op = ClientOp::get;
    get.key = "sole";
    ClientRequest del;
    del.op = ClientOp::del;
    del.key = "sole";

    CHECK(in_one_turn(get).code == errc::not_found);
    const ClientReply first = in_one_turn(put("a"));
    REQUIRE(first.code == errc::ok);
    REQUIRE(in_one_turn(put("b")).code == errc::ok);  // blind: a sibling
    CHECK(values(in_one_turn(get)) == std::set<std::string>{"a", "b"});
    // A delete without a context reads first, then deletes what it found: both here.
    CHECK(in_one_turn(del).code == errc::ok);
    CHECK(in_one_turn(get).code == errc::not_found);
    CHECK(in_one_turn(del).code == errc::not_found);
    // Conditional writes, decided by the node as the key's leader.
    CHECK(in_one_turn(conditional_put("sole", "c", WriteCondition::if_none_match)).code == errc::ok);
    CHECK(in_one_turn(conditional_put("sole", "d", WriteCondition::if_none_match)).code == errc::precondition_failed);
    const ClientReply read = in_one_turn(get);
    CHECK(in_one_turn(conditional_put("sole", "e", WriteCondition::if_match, read.context)).code == errc::ok);
    CHECK(values(in_one_turn(get)) == std::set<std::string>{"e"});
    // An expiring write, and the read after its expiry.
    ClientRequest ttl = put("f", in_one_turn(get).context);
    ttl.options.ttl_s = 1;
    REQUIRE(in_one_turn(ttl).code == errc::ok);
    c.advance(Duration::seconds(2));
    CHECK(in_one_turn(get).code == errc::not_found);
}
