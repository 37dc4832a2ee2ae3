// Ownership handoff in the replica core: the plan over two rings, the streams
// between Nodes in bounded batches, resuming after a crash of either side, and
// writes forwarded to the new owner while the move is pending.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <set>

#include "core/hash.h"
#include "node_harness.h"
#include "replica/handoff.h"

using namespace shoal;
using namespace shoal::replica;
using namespace shoal::test;

namespace {

// Three nodes own everything; node 4 is a member (joining) that owns nothing yet.
// `after` is the claim once it has its share; `moves` are the slots that change.
struct Growth {
    std::shared_ptr<const ring::Ring> before, after;
    std::vector<Move> moves;
};

Growth grow_3_to_4() {
    std::vector<ring::Member> three{{NodeId{1}, "z1"}, {NodeId{2}, "z2"}, {NodeId{3}, "z3"}};
    const auto owners3 = ring::compute_claim(64, three, {});
    std::vector<ring::Member> four = three;
    four.push_back({NodeId{4}, "z1"});
    const auto owners4 = ring::compute_claim(64, four, owners3);
    Growth g;
    g.before = std::make_shared<const ring::Ring>(64, four, owners3);
    g.after = std::make_shared<const ring::Ring>(64, four, owners4);
    for (std::uint32_t p = 0; p < 64; ++p) {
        if (owners3[p] != owners4[p]) g.moves.push_back(Move{PartitionId{p}, owners3[p], owners4[p], false});
    }
    return g;
}

std::set<NodeId> first_n(const ring::Ring& r, PartitionId p, std::size_t n) {
    const auto order = r.preference_order(p);
    return {order.begin(), order.begin() + static_cast<long>(std::min(n, order.size()))};
}

bool holds(Cluster& c, std::uint32_t id, const std::string& key) {
    SiblingSet s;
    REQUIRE(!c.node(id).read_local(key, s));
    return !s.siblings.empty();
}

NodeConfig handoff_config(std::size_t batch_keys) {
    NodeConfig base;
    base.repair.anti_entropy = false;  // only the handoff may carry the data
    base.handoff.batch_keys = batch_keys;
    base.handoff.timeout = Duration::millis(200);
    return base;
}

std::string key_of(int i) { return "cart/" + std::to_string(i); }

// The move that streams the most partitions.
std::size_t longest_stream(const HandoffPlan& plan) {
    std::size_t big = 0;
    for (std::size_t i = 0; i < plan.streams.size(); ++i)
        if (plan.streams[i].size() > plan.streams[big].size()) big = i;
    return big;
}

// Keys 0..count-1 with their values, written through nodes 1..3 in turn.
void write_keys(Cluster& c, int count) {
    for (int i = 0; i < count; ++i) REQUIRE(c.put(1 + i % 3, key_of(i), "v" + std::to_string(i)).code == errc::ok);
}

// Every node gets the plan, as membership would install it.
void install(Cluster& c, const HandoffPlan& plan) {
    for (std::uint32_t n = 1; n <= c.members.size(); ++n) c.node(n).set_handoffs(plan);
}

// Adds the slots of the moves the nodes report finished (each by its source) to `done`.
void collect_done(Cluster& c, std::set<std::uint32_t>& done) {
    for (std::uint32_t n = 1; n <= c.members.size(); ++n) {
        for (const Move& m : c.node(n).take_completed_handoffs()) {
            CHECK(m.from == NodeId{n});
            done.insert(m.slot.value);
        }
    }
}

// Runs the cluster until every move has been reported complete (or a bound passes).
std::set<std::uint32_t> run_until_done(Cluster& c, std::size_t moves, std::set<std::uint32_t> done = {}) {
    for (int i = 0; i < 3000 && done.size() < moves; ++i) {
        c.advance(Duration::millis(10));
        collect_done(c, done);
    }
    return done;
}

// Node 4 holds each of keys 0..count-1 that it is a primary of in the target ring.
void check_node4_holds_its_keys(Cluster& c, const Growth& g, int count) {
    for (int i = 0; i < count; ++i) {
        const PartitionId p = g.after->partition_of(hash_key(key_of(i)));
        if (first_n(*g.after, p, 3).count(NodeId{4})) CHECK(holds(c, 4, key_of(i)));
    }
}

}  // namespace

TEST_CASE("handoff plan: each incoming primary is fed by exactly one move and gets the writes", "[handoff]") {
    const Growth g = grow_3_to_4();
    REQUIRE(g.moves.size() >= 10);
    const HandoffPlan plan = plan_handoffs(*g.before, *g.after, g.moves, 3);
    REQUIRE(plan.forward.size() == 64);
    REQUIRE(plan.streams.size() == g.moves.size());
    std::size_t fed = 0;
    for (std::uint32_t p = 0; p < 64; ++p) {
        const auto cur = first_n(*g.before, PartitionId{p}, 3);
        const auto tgt = first_n(*g.after, PartitionId{p}, 3);
        std::set<NodeId> incoming;
        for (NodeId b : tgt)
            if (!cur.count(b)) incoming.insert(b);
        CHECK(std::set<NodeId>(plan.forward[p].begin(), plan.forward[p].end()) == incoming);
        for (NodeId b : incoming) {
            int feeders = 0;
            for (std::size_t i = 0; i < g.moves.size(); ++i) {
                const auto& s = plan.streams[i];
                if (g.moves[i].to == b && std::find(s.begin(), s.end(), PartitionId{p}) != s.end()) ++feeders;
            }
            CHECK(feeders == 1);
            fed += 1;
        }
    }
    CHECK(fed > 0);
    // A move streams only partitions its destination is coming into.
    for (std::size_t i = 0; i < g.moves.size(); ++i) {
        for (PartitionId p : plan.streams[i]) {
            const auto& f = plan.forward[p.value];
            CHECK(std::find(f.begin(), f.end(), g.moves[i].to) != f.end());
        }
    }
    // Nothing moving: no forwarding at all.
    const HandoffPlan none = plan_handoffs(*g.after, *g.after, {}, 3);
    CHECK(none.forward.empty());
    CHECK(none.streams.empty());
}

TEST_CASE("handoff: the new owner gets every key in bounded batches, writes during the move included", "[handoff]") {
    const Growth g = grow_3_to_4();
    Cluster c(4, handoff_config(16), g.before);
    for (int i = 0; i < 400; ++i) REQUIRE(c.put(1 + i % 3, key_of(i), "v" + std::to_string(i)).code == errc::ok);
    const HandoffPlan plan = plan_handoffs(*g.before, *g.after, g.moves, 3);
    install(c, plan);
    // Written while the streams run: forwarded to node 4 where it is coming in.
    for (int i = 400; i < 500; ++i) REQUIRE(c.put(1 + i % 3, key_of(i), "v" + std::to_string(i)).code == errc::ok);
    const auto done = run_until_done(c, g.moves.size());
    CHECK(done.size() == g.moves.size());

    std::uint64_t forwarded = 0, sent = 0;
    for (std::uint32_t n = 1; n <= 3; ++n) {
        forwarded += c.node(n).stats().writes_forwarded;
        sent += c.node(n).stats().handoff_keys_sent;
    }
    CHECK(forwarded > 0);
    CHECK(c.node(4).stats().handoff_keys_received == sent);
    int incoming = 0;
    for (int i = 0; i < 500; ++i) {
        const PartitionId p = g.after->partition_of(hash_key(key_of(i)));
        if (!first_n(*g.after, p, 3).count(NodeId{4})) continue;
        ++incoming;
        CHECK(holds(c, 4, key_of(i)));
    }
    CHECK(incoming > 100);
    CHECK(sent >= 16);  // more than one batch's worth went through

    // Ownership switches: every key is readable through the new ring, anti-entropy off.
    for (std::uint32_t n = 1; n <= 4; ++n) {
        c.node(n).set_ring(g.after);
        c.node(n).set_handoffs({});
    }
    c.ring = g.after;
    RequestOptions all;
    all.r = 3;
    for (int i = 0; i < 500; i += 7) {
        const auto r = c.get(4, key_of(i), all);
        REQUIRE(r.code == errc::ok);
        CHECK(values(r) == std::set<std::string>{"v" + std::to_string(i)});
    }
}

TEST_CASE("handoff: a stream resumes after its source or its receiver crashes", "[handoff]") {
    const Growth g = grow_3_to_4();
    Cluster c(4, handoff_config(8), g.before);
    write_keys(c, 600);
    const HandoffPlan plan = plan_handoffs(*g.before, *g.after, g.moves, 3);
    // The source with the most to send.
    std::map<std::uint32_t, std::size_t> to_send;
    for (std::size_t i = 0; i < g.moves.size(); ++i) {
        for (PartitionId p : plan.streams[i]) {
            for (int k = 0; k < 600; ++k)
                if (g.before->partition_of(hash_key(key_of(k))) == p) to_send[g.moves[i].from.value] += 1;
        }
    }
    const auto source = std::max_element(to_send.begin(), to_send.end(), [](const auto& a, const auto& b) {
                            return a.second < b.second;
                        })->first;
    install(c, plan);
    std::set<std::uint32_t> done;
    for (int i = 0; i < 200 && c.node(source).stats().handoff_keys_sent < to_send[source] / 2; ++i) {
        c.advance(Duration::millis(10));
        collect_done(c, done);
    }
    const std::uint64_t before_crash = c.node(source).stats().handoff_keys_sent;
    REQUIRE(before_crash > 0);
    REQUIRE(before_crash < to_send[source]);

    c.restart(source);  // the source crashes and comes back
    // Membership has marked the moves that finished; the rest are still pending.
    std::vector<Move> pending = g.moves;
    for (Move& m : pending) m.done = done.count(m.slot.value) > 0;
    c.node(source).set_handoffs(plan_handoffs(*g.before, *g.after, pending, 3));
    c.advance(Duration::millis(10));
    c.restart(4);  // then the receiver, with batches in flight
    c.node(4).set_handoffs(plan);  // its membership reinstalls the plan
    done = run_until_done(c, g.moves.size(), done);
    CHECK(done.size() == g.moves.size());
    // Resumed, not restarted: the source's new life sent only what was left (give or
    // take the batch in flight at the crash).
    CHECK(c.node(source).stats().handoff_keys_sent + before_crash <= to_send[source] + 8);
    check_node4_holds_its_keys(c, g, 600);
}

TEST_CASE("handoff: a restarted stream whose partition list changed starts over, skipping nothing", "[handoff]") {
    const Growth g = grow_3_to_4();
    Cluster c(4, handoff_config(8), g.before);
    write_keys(c, 600);
    const HandoffPlan plan = plan_handoffs(*g.before, *g.after, g.moves, 3);
    const std::size_t big = longest_stream(plan);
    REQUIRE(plan.streams[big].size() >= 2);
    const PartitionId first = plan.streams[big].front();
    const std::uint32_t source = g.moves[big].from.value;
    // An earlier plan did not have `first` in this move's list.
    HandoffPlan earlier = plan;
    earlier.streams[big].erase(earlier.streams[big].begin());
    install(c, earlier);
    for (int i = 0; i < 300 && c.node(source).stats().handoff_keys_sent == 0; ++i) c.advance(Duration::millis(10));
    REQUIRE(c.node(source).stats().handoff_keys_sent > 0);
    c.restart(source);
    install(c, plan);
    const auto done = run_until_done(c, g.moves.size());
    CHECK(done.size() == g.moves.size());
    int in_first = 0;
    for (int i = 0; i < 600; ++i) {
        if (g.after->partition_of(hash_key(key_of(i))) != first) continue;
        ++in_first;
        CHECK(holds(c, 4, key_of(i)));
    }
    CHECK(in_first > 0);
}

TEST_CASE("handoff: after the switch, former primaries hand their copies over and drop them", "[handoff]") {
    const Growth g = grow_3_to_4();
    NodeConfig base = handoff_config(32);
    base.repair.hint_interval = Duration::millis(20);
    Cluster c(4, base, g.before);
    for (int i = 0; i < 300; ++i) REQUIRE(c.put(1 + i % 3, key_of(i), "v" + std::to_string(i)).code == errc::ok);
    const HandoffPlan plan = plan_handoffs(*g.before, *g.after, g.moves, 3);
    install(c, plan);
    REQUIRE(run_until_done(c, g.moves.size()).size() == g.moves.size());
    // The owners switch; a write that lands on a former primary through a coordinator
    // with the old ring is handed over too.
    for (std::uint32_t n = 2; n <= 4; ++n) {
        c.node(n).set_ring(g.after);
        c.node(n).set_handoffs({});
    }
    for (int i = 300; i < 350; ++i) REQUIRE(c.put(1, key_of(i), "v" + std::to_string(i)).code == errc::ok);  // stale
    c.node(1).set_ring(g.after);
    c.node(1).set_handoffs({});
    c.ring = g.after;
    for (int i = 0; i < 600; ++i) c.advance(Duration::millis(10));
    std::uint64_t pending = 0;
    for (std::uint32_t n = 1; n <= 4; ++n) pending += c.node(n).hints_pending();
    CHECK(pending == 0);
    int dropped = 0;
    for (int i = 0; i < 350; ++i) {
        const PartitionId p = g.after->partition_of(hash_key(key_of(i)));
        const auto primaries = first_n(*g.after, p, 3);
        for (std::uint32_t n = 1; n <= 4; ++n) {
            const bool primary = primaries.count(NodeId{n}) > 0;
            INFO("key " << key_of(i) << " node " << n);
            CHECK(holds(c, n, key_of(i)) == primary);
            dropped += primary ? 0 : 1;
        }
    }
    CHECK(dropped >= 350);  // one former primary per key at least
    RequestOptions all;
    all.r = 3;
    for (int i = 300; i < 350; ++i) {
        const auto r = c.get(2, key_of(i), all);
        REQUIRE(r.code == errc::ok);
        CHECK(values(r) == std::set<std::string>{"v" + std::to_string(i)});
    }
}

TEST_CASE("handoff: batches stay within their byte bound; a state over it travels alone", "[handoff]") {
    const Growth g = grow_3_to_4();
    NodeConfig base = handoff_config(256);
    base.handoff.batch_bytes = 512 << 10;
    Cluster c(4, base, g.before);
    for (int i = 0; i < 40; ++i) {
        const std::size_t size = i % 4 == 0 ? (700 << 10) : (200 << 10);  // some over the bound alone
        REQUIRE(c.put(1 + i % 3, key_of(i), std::string(size, static_cast<char>('a' + i % 26))).code == errc::ok);
    }
    const HandoffPlan plan = plan_handoffs(*g.before, *g.after, g.moves, 3);
    install(c, plan);
    std::set<std::uint32_t> done;
    int batches = 0, alone = 0;
    for (int step = 0; step < 2000 && done.size() < g.moves.size(); ++step) {
        c.now = c.now + Duration::millis(10);
        for (std::uint32_t n = 1; n <= 4; ++n) {
            c.node(n).tick(c.now);
            c.collect(n);
        }
        for (const auto& [from, env] : c.wire) {
            const auto* batch = std::get_if<HandoffBatch>(&env.msg);
            if (batch == nullptr || batch->items.empty()) continue;
            std::size_t bytes = 0;
            for (const auto& item : batch->items) bytes += item.key.size() + state_bytes(item.state);
            ++batches;
            alone += batch->items.size() == 1 && bytes > base.handoff.batch_bytes ? 1 : 0;
            CHECK((batch->items.size() == 1 || bytes <= base.handoff.batch_bytes));
        }
        c.pump();
        collect_done(c, done);
    }
    CHECK(done.size() == g.moves.size());
    CHECK(batches > 5);
    CHECK(alone > 0);
    check_node4_holds_its_keys(c, g, 40);
}

TEST_CASE("handoff: when a stream's partition list changes, partitions already sent are not sent again", "[handoff]") {
    const Growth g = grow_3_to_4();
    Cluster c(4, handoff_config(8), g.before);
    write_keys(c, 600);
    const HandoffPlan plan = plan_handoffs(*g.before, *g.after, g.moves, 3);
    const std::size_t big = longest_stream(plan);
    REQUIRE(plan.streams[big].size() >= 3);
    const std::uint32_t source = g.moves[big].from.value;
    // Only this one move, first without its last partition, then with it.
    HandoffPlan one;
    one.moves = {g.moves[big]};
    one.streams = {plan.streams[big]};
    one.forward = plan.forward;
    HandoffPlan shorter = one;
    shorter.streams[0].pop_back();
    std::size_t keys_in_list = 0;
    for (int k = 0; k < 600; ++k) {
        const PartitionId p = g.before->partition_of(hash_key(key_of(k)));
        if (std::find(one.streams[0].begin(), one.streams[0].end(), p) != one.streams[0].end()) ++keys_in_list;
    }
    install(c, shorter);
    // One message at a time, until a partition has been sent whole (the stream not
    // yet finished).
    c.now = c.now + Duration::millis(10);
    c.node(source).tick(c.now);
    c.collect(source);
    while (!c.wire.empty() && c.node(source).handoff_progress().at(0).partitions_done < 1) {
        auto [from, env] = std::move(c.wire.front());
        c.wire.pop_front();
        c.node(env.to.value).step(c.now, from, std::move(env.msg));
        c.collect(env.to.value);
    }
    REQUIRE(c.node(source).handoff_progress().at(0).partitions_done >= 1);
    REQUIRE_FALSE(c.node(source).handoff_progress().at(0).finished);
    install(c, one);
    const auto done = run_until_done(c, 1);
    CHECK(done.size() == 1);
    // Each key once, give or take the batch in flight when the list changed.
    CHECK(c.node(source).stats().handoff_keys_sent <= keys_in_list + 8);
    for (int k = 0; k < 600; ++k) {
        const PartitionId p = g.before->partition_of(hash_key(key_of(k)));
        if (std::find(one.streams[0].begin(), one.streams[0].end(), p) != one.streams[0].end())
            CHECK(holds(c, 4, key_of(k)));
    }
}

TEST_CASE("a handoff stream moves to where an acknowledged batch led, and finishes after the last") {
    HandoffStream s;
    s.partitions = {PartitionId{3}, PartitionId{5}};
    CHECK_FALSE(s.inflight);
    s.inflight = HandoffStream::Batch{7, Instant{100}, 0, "key-9", false, 10, 400};
    const auto first = s.acknowledged();
    CHECK(first.seq == 7);
    CHECK_FALSE(s.inflight);
    CHECK(s.index == 0);
    CHECK(s.after == "key-9");
    CHECK(s.keys_sent == 10);
    CHECK(s.bytes_sent == 400);
    CHECK_FALSE(s.finished);
    s.inflight = HandoffStream::Batch{8, Instant{200}, 2, "", true, 5, 100};
    (void)s.acknowledged();
    CHECK(s.index == 2);
    CHECK(s.after.empty());
    CHECK(s.keys_sent == 15);
    CHECK(s.bytes_sent == 500);
    CHECK(s.finished);
}
