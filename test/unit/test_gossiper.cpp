// Unit tests for the gossip state machine, over a tiny lossless in-test network.
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "core/errc.h"
#include "core/rng.h"
#include "gossip/gossiper.h"
#include "store/keys.h"
#include "store/memory_store.h"

using namespace shoal;
using namespace shoal::gossip;

namespace {

constexpr std::uint32_t k_q = 32;

std::string address(std::uint32_t id) { return "n" + std::to_string(id); }

struct Net {
    Rng rng{1};
    Instant now{};
    std::map<NodeId, std::unique_ptr<store::MemStore>> stores;  // disks outlive restarts
    std::map<NodeId, std::unique_ptr<health::Detector>> detectors;  // a fresh one each start
    std::map<NodeId, std::unique_ptr<Gossiper>> nodes;
    std::set<NodeId> down;
    std::uint64_t delivered = 0;

    Gossiper& add(std::uint32_t id, std::vector<std::string> seeds, std::uint32_t q = k_q) {
        GossipConfig c;
        c.id = NodeId{id};
        c.peer_address = address(id);
        c.partition_count = q;
        c.seeds = std::move(seeds);
        auto& store = stores[c.id];
        if (!store) store = std::make_unique<store::MemStore>();
        auto& node = nodes[c.id];
        node.reset();
        auto& detector = detectors[c.id];
        detector = std::make_unique<health::Detector>();
        node = std::make_unique<Gossiper>(c, rng, *store, *detector);
        return *node;
    }
    Gossiper& at(std::uint32_t id) { return *nodes.at(NodeId{id}); }

    NodeId resolve(const GossipEnvelope& e) {
        if (e.to.valid()) return e.to;
        return NodeId{static_cast<std::uint32_t>(std::stoul(e.address.substr(1)))};
    }

    // Advances time in 100 ms steps, delivering every message at once.
    void run(Duration d) {
        const Instant end = now + d;
        while (now < end) {
            now = now + Duration::millis(100);
            for (auto& [id, g] : nodes)
                if (!down.contains(id)) g->tick(now);
            deliver();
        }
    }
    void deliver() {
        for (int pass = 0; pass < 10; ++pass) {
            std::vector<std::pair<NodeId, GossipEnvelope>> in_flight;
            for (auto& [id, g] : nodes) {
                GossipOutbox out;
                g->take_output(out);
                if (down.contains(id)) continue;
                for (auto& e : out.messages) in_flight.emplace_back(id, std::move(e));
            }
            if (in_flight.empty()) return;
            for (auto& [from, e] : in_flight) {
                const NodeId to = resolve(e);
                if (down.contains(to) || !nodes.contains(to)) continue;
                delivered += 1;
                nodes.at(to)->step(now, from, e.message);
            }
        }
    }
    // Every source completes its outgoing transfers, as the node's handoff would.
    void complete_handoffs() {
        for (auto& [id, g] : nodes) {
            if (down.contains(id)) continue;
            for (const ring::Move& t : g->outgoing_moves())
                if (!t.done) g->complete_handoff(now, t.slot, t.from, t.to);
        }
    }
    // Runs with handoffs completing until every live node holds the same settled view.
    bool settle(int rounds = 60) {
        for (int i = 0; i < rounds; ++i) {
            run(Duration::seconds(1));
            complete_handoffs();
            if (agreed() && settled(first_live().view()) && !anyone_joining()) return true;
        }
        return false;
    }
    bool anyone_joining() {
        for (const auto& [id, m] : first_live().view().members)
            if (m.status == MemberStatus::joining) return true;
        return false;
    }
    Gossiper& first_live() {
        for (auto& [id, g] : nodes)
            if (!down.contains(id) && !g->stopped()) return *g;
        FAIL("no live node");
        return *nodes.begin()->second;
    }
    bool agreed() {
        const std::uint64_t d = digest(first_live().view());
        for (auto& [id, g] : nodes)
            if (!down.contains(id) && !g->stopped() && digest(g->view()) != d) return false;
        return true;
    }
};

}  // namespace

TEST_CASE("a node without seeds founds a cluster on its first tick", "[gossip][gossiper]") {
    Net net;
    Gossiper& g = net.add(1, {});
    CHECK(g.self_status() == MemberStatus::joining);
    CHECK(g.ring() == nullptr);
    net.run(Duration::millis(100));
    CHECK(g.self_status() == MemberStatus::valid);
    CHECK(g.is_claimant());
    REQUIRE(g.ring() != nullptr);
    CHECK(ownership_counts(g.view())[NodeId{1}] == k_q);
    CHECK(net.delivered == 0);  // alone: nothing to say
}

TEST_CASE("a node joins through a seed; partitions hand off, then switch", "[gossip][gossiper]") {
    Net net;
    net.add(1, {});
    net.run(Duration::seconds(1));
    net.add(2, {address(1)});
    net.add(3, {address(1)});
    net.run(Duration::seconds(3));
    Gossiper& one = net.at(1);
    CHECK(net.at(3).self_status() == MemberStatus::valid);
    // Admitted, but owners switch only once the handoffs are complete.
    CHECK(ownership_counts(one.view())[NodeId{1}] == k_q);
    CHECK(one.outgoing_moves().size() == k_q - (k_q / 3 + 1));  // node 1 keeps 11
    CHECK(net.at(2).incoming_moves().size() >= k_q / 3);
    REQUIRE(net.settle());
    CHECK(ownership_counts(one.view())[NodeId{2}] >= k_q / 3);
    CHECK(one.outgoing_moves().empty());
}

TEST_CASE("a quiet cluster exchanges digests, not views", "[gossip][gossiper]") {
    Net net;
    net.add(1, {});
    net.add(2, {address(1)});
    net.add(3, {address(2)});
    REQUIRE(net.settle());
    net.run(Duration::seconds(2));
    std::uint64_t full = 0;
    for (auto& [id, g] : net.nodes) full += g->stats().full_views_sent;
    const std::uint64_t epoch = net.at(1).view_epoch();
    net.run(Duration::seconds(10));
    std::uint64_t after = 0;
    for (auto& [id, g] : net.nodes) after += g->stats().full_views_sent;
    CHECK(after == full);
    CHECK(net.at(1).view_epoch() == epoch);
    CHECK(net.at(1).stats().rounds >= 10);
}

TEST_CASE("leave: a node hands off everything, exits and goes quiet", "[gossip][gossiper]") {
    Net net;
    net.add(1, {});
    net.add(2, {address(1)});
    net.add(3, {address(1)});
    net.add(4, {address(1)});
    REQUIRE(net.settle());
    REQUIRE_FALSE(net.at(2).leave(net.now));
    CHECK(net.at(2).leave(net.now) == errc::bad_request);  // already leaving
    net.run(Duration::seconds(3));
    CHECK(net.at(2).self_status() == MemberStatus::leaving);
    REQUIRE(net.settle());
    CHECK(net.at(2).self_status() == MemberStatus::exiting);
    CHECK(net.at(2).stopped());
    CHECK(ownership_counts(net.at(1).view()).count(NodeId{2}) == 0);
    CHECK(status_of(net.at(3).view(), NodeId{2}) == MemberStatus::exiting);
}

TEST_CASE("remove: a dead node's partitions are reassigned without handoff", "[gossip][gossiper]") {
    Net net;
    net.add(1, {});
    net.add(2, {address(1)});
    net.add(3, {address(1)});
    REQUIRE(net.settle());
    net.down.insert(NodeId{3});
    net.run(Duration::seconds(8));
    CHECK_FALSE(net.at(1).believes_up(NodeId{3}, net.now));  // detector: down for routing
    CHECK(ownership_counts(net.at(1).view())[NodeId{3}] > 0);   // ...but still an owner
    CHECK(net.at(2).remove(net.now, NodeId{2}) == errc::bad_request);
    CHECK(net.at(2).remove(net.now, NodeId{9}) == errc::not_found);
    // Only the ruler (the claimant, node 1) changes another member's status.
    CHECK(net.at(2).ruler(net.now) == NodeId{1});
    CHECK(net.at(2).remove(net.now, NodeId{3}) == errc::precondition_failed);
    CHECK(status_of(net.at(2).view(), NodeId{3}) == MemberStatus::valid);
    REQUIRE_FALSE(net.at(1).remove(net.now, NodeId{3}));
    net.run(Duration::seconds(3));
    CHECK(ownership_counts(net.at(1).view()).count(NodeId{3}) == 0);
    CHECK(moves(net.at(1).view()).empty());
    CHECK(net.agreed());
    CHECK(settled(net.at(2).view()));
}

TEST_CASE("a dead claimant is removed through its successor once it is absent", "[gossip][gossiper][authority]") {
    Net net;
    net.add(1, {});
    net.add(2, {address(1)});
    net.add(3, {address(1)});
    REQUIRE(net.settle());
    net.down.insert(NodeId{1});
    net.run(Duration::millis(300));
    // Heard a moment ago: node 1 still rules, and node 2 may not remove it.
    CHECK(net.at(2).ruler(net.now) == NodeId{1});
    CHECK(net.at(2).remove(net.now, NodeId{1}) == errc::precondition_failed);
    net.run(Duration::seconds(10));
    REQUIRE(net.at(2).absent(NodeId{1}, net.now));
    CHECK(net.at(2).ruler(net.now) == NodeId{2});
    CHECK(net.at(3).remove(net.now, NodeId{1}) == errc::precondition_failed);  // not the successor
    REQUIRE_FALSE(net.at(2).remove(net.now, NodeId{1}));
    REQUIRE(net.settle());
    CHECK(status_of(net.at(3).view(), NodeId{1}) == MemberStatus::removed);
    CHECK(claimant(net.at(3).view()) == NodeId{2});
    CHECK(ownership_counts(net.at(3).view()).count(NodeId{1}) == 0);
}

TEST_CASE("forged gossip from a member about another is not taken", "[gossip][gossiper][authority]") {
    Net net;
    for (std::uint32_t id = 1; id <= 4; ++id) net.add(id, id == 1 ? std::vector<std::string>{} : std::vector{address(1)});
    REQUIRE(net.settle());
    const ClusterView before = net.at(1).view();
    ClusterView forged = before;
    MemberRecord& two = forged.members.at(NodeId{2});
    two.version = ~0ull;
    two.peer_address = "attacker:1";
    two.status = MemberStatus::removed;
    for (PartitionClaim& c : forged.claim) c = PartitionClaim{NodeId{3}, NodeId{}, ~0ull, false};
    // Node 3 sends it to everyone, in every kind of message that carries a view.
    for (std::uint32_t id : {1u, 2u, 4u}) {
        net.at(id).step(net.now, NodeId{3}, GossipAck2{forged});
        net.at(id).step(net.now, NodeId{3}, GossipSyn{address(3), 1, forged});
        net.at(id).step(net.now, NodeId{3}, GossipAck{1, forged});
        CHECK(net.at(id).stats().hearsay_dropped > 0);
    }
    net.run(Duration::seconds(5));
    for (std::uint32_t id = 1; id <= 4; ++id) {
        const ClusterView& v = net.at(id).view();
        CHECK(v.members.at(NodeId{2}).peer_address == address(2));
        CHECK(v.members.at(NodeId{2}).status == MemberStatus::valid);
        CHECK(ownership_counts(v) == ownership_counts(before));
    }
    CHECK(net.agreed());
    // Node 2's own word still moves its record (the claimant outbid the forged versions,
    // and ties go its way).
    REQUIRE_FALSE(net.at(1).leave(net.now, NodeId{2}));
    REQUIRE(net.settle());
    CHECK(status_of(net.at(4).view(), NodeId{2}) == MemberStatus::exiting);
}

TEST_CASE("a member announced falsely is corrected by its own frames", "[gossip][gossiper][authority]") {
    Net net;
    net.add(1, {});
    net.add(2, {address(1)});
    REQUIRE(net.settle());
    // Node 2 announces a node 3 that has not started yet, at the highest version.
    ClusterView lie = net.at(2).view();
    MemberRecord three;
    three.id = NodeId{3};
    three.version = ~0ull;
    three.peer_address = "attacker:3";
    lie.members.emplace(three.id, three);
    net.at(1).step(net.now, NodeId{2}, GossipAck2{lie});
    REQUIRE(find_member(net.at(1).view(), NodeId{3}) != nullptr);
    CHECK(find_member(net.at(1).view(), NodeId{3})->status == MemberStatus::joining);  // not admitted on hearsay
    net.add(3, {address(1)});
    REQUIRE(net.settle());
    CHECK(find_member(net.at(1).view(), NodeId{3})->peer_address == address(3));
    CHECK(status_of(net.at(1).view(), NodeId{3}) == MemberStatus::valid);
}

TEST_CASE("a restarted node resumes its view from the store", "[gossip][gossiper]") {
    Net net;
    net.add(1, {});
    net.add(2, {address(1)});
    net.add(3, {address(1)});
    REQUIRE(net.settle());
    const ClusterView before = net.at(3).view();
    const std::uint32_t inc = net.at(3).incarnation();
    net.stores.at(NodeId{3})->crash();  // saves are synced: nothing lost
    Gossiper& again = net.add(3, {address(1)});
    CHECK_FALSE(again.load_error());
    CHECK(again.incarnation() == inc + 1);
    CHECK(again.self_status() == MemberStatus::valid);
    CHECK(again.view().claim == before.claim);
    CHECK(again.view().members.size() == before.members.size());
    REQUIRE(net.settle());
    CHECK(find_member(net.at(1).view(), NodeId{3})->incarnation == inc + 1);
}

TEST_CASE("a view from a cluster with another partition count is rejected", "[gossip][gossiper]") {
    Net net;
    net.add(1, {});
    net.add(2, {address(1)}, 64);
    net.run(Duration::seconds(3));
    CHECK(net.at(1).stats().rejected > 0);
    CHECK(net.at(1).view().members.size() == 1);
    CHECK(net.at(2).self_status() == MemberStatus::joining);
}

TEST_CASE("a corrupt saved view is reported and replaced", "[gossip][gossiper]") {
    Net net;
    net.stores[NodeId{5}] = std::make_unique<store::MemStore>();
    store::WriteBatch b;
    b.put(store::meta_key("gossip.view"), "garbage");
    REQUIRE_FALSE(net.stores[NodeId{5}]->write(b, true));
    Gossiper& g = net.add(5, {});
    CHECK(g.load_error() == errc::corrupt);
    net.run(Duration::millis(100));
    CHECK(g.self_status() == MemberStatus::valid);
}

TEST_CASE("concurrent joins through different seeds converge to one claim", "[gossip][gossiper]") {
    Net net;
    net.add(1, {});
    net.add(2, {address(1)});
    net.add(3, {address(2)});
    REQUIRE(net.settle());
    net.add(4, {address(1)});
    net.add(5, {address(2)});
    net.add(6, {address(3)});
    REQUIRE(net.settle());
    const auto counts = ownership_counts(net.at(6).view());
    CHECK(counts.size() == 6);
    for (const auto& [id, n] : counts) CHECK((n == k_q / 6 || n == k_q / 6 + 1));
}

TEST_CASE("two joiners that reach each other first still join the cluster", "[gossip][gossiper]") {
    // Regression (found by shoal-sim gossip, seed 932 replace): node 4 seeded only to
    // node 3 met it before node 3 was admitted; both stopped calling their seeds and
    // formed an island of joiners that never reached the claimant.
    Net net;
    net.add(1, {});
    net.run(Duration::seconds(1));
    net.add(3, {address(1)});
    net.add(4, {address(3)});
    net.down.insert(NodeId{1});  // node 3's seed is slow to answer: 3 and 4 meet first
    net.run(Duration::seconds(3));
    CHECK(net.at(3).view().members.contains(NodeId{4}));
    net.down.erase(NodeId{1});
    REQUIRE(net.settle());
    CHECK(net.at(4).self_status() == MemberStatus::valid);
    CHECK(net.at(3).self_status() == MemberStatus::valid);
}

TEST_CASE("join: a node alone in its own cluster joins another; the seeds survive a restart", "[gossip][gossiper]") {
    Net net;
    net.add(1, {});
    net.add(2, {address(1)});
    REQUIRE(net.settle());
    Gossiper& lone = net.add(3, {});  // founds a one-node cluster of its own
    net.run(Duration::millis(200));
    REQUIRE(lone.self_status() == MemberStatus::valid);
    CHECK(net.at(3).join(net.now, {}) == make_error_code(errc::bad_request));  // no seed
    // A member of a cluster with others cannot join another.
    CHECK(net.at(1).join(net.now, {address(3)}) == make_error_code(errc::bad_request));
    REQUIRE(!net.at(3).join(net.now, {address(1)}));
    CHECK(net.at(3).self_status() == MemberStatus::joining);
    CHECK(net.at(3).ring() == nullptr);  // its own one-node claim is gone
    // Restarted before it was admitted (no messages delivered yet): still joining, not
    // founding a cluster of its own again.
    GossipOutbox dropped;
    net.at(3).take_output(dropped);
    net.add(3, {});
    net.down = {NodeId{1}, NodeId{2}};  // no answer yet
    net.run(Duration::seconds(2));
    CHECK(net.at(3).self_status() == MemberStatus::joining);
    CHECK(net.at(3).ring() == nullptr);
    net.down.clear();
    REQUIRE(net.settle());
    CHECK(net.at(3).self_status() == MemberStatus::valid);
    CHECK(net.at(1).view().members.size() == 3);
    CHECK(ownership_counts(net.at(1).view())[NodeId{3}] >= k_q / 3);
}

TEST_CASE("a node that has left keeps learning the view only while it follows", "[gossip][gossiper]") {
    Net net;
    for (std::uint32_t id = 1; id <= 5; ++id) net.add(id, id == 1 ? std::vector<std::string>{} : std::vector{address(1)});
    REQUIRE(net.settle());
    REQUIRE_FALSE(net.at(2).leave(net.now));
    REQUIRE(net.settle());
    REQUIRE(net.at(2).stopped());
    REQUIRE_FALSE(net.at(4).leave(net.now));
    REQUIRE(net.settle());
    REQUIRE(status_of(net.at(1).view(), NodeId{4}) == MemberStatus::exiting);
    // Node 2 stopped before node 4 left: its view still says valid.
    CHECK(status_of(net.at(2).view(), NodeId{4}) == MemberStatus::valid);
    const std::uint64_t rounds = net.at(2).stats().rounds;
    net.run(Duration::seconds(3));
    CHECK(net.at(2).stats().rounds == rounds);  // quiet
    CHECK(status_of(net.at(2).view(), NodeId{4}) == MemberStatus::valid);
    net.at(2).set_following(true);
    net.run(Duration::seconds(3));
    CHECK(status_of(net.at(2).view(), NodeId{4}) == MemberStatus::exiting);
    CHECK(net.at(2).stopped());
    CHECK(net.at(2).self_status() == MemberStatus::exiting);
}

TEST_CASE("namespaces: created on one node, changed on another, every node agrees", "[gossip][gossiper][namespace]") {
    Net net;
    net.add(1, {});
    net.run(Duration::seconds(1));
    net.add(2, {address(1)});
    net.add(3, {address(1)});
    REQUIRE(net.settle());
    NamespaceProps lww;
    lww.conflict = ConflictMode::lww;
    lww.ttl_s = 1800;
    REQUIRE_FALSE(net.at(2).put_namespace(net.now, "sessions", lww, /*create=*/true));
    CHECK(net.at(1).put_namespace(net.now, "default", lww, true) == errc::precondition_failed);
    CHECK(net.at(1).put_namespace(net.now, "nope", lww, false) == errc::no_namespace);
    CHECK(net.at(1).put_namespace(net.now, "Bad Name", lww, true) == errc::bad_request);
    net.run(Duration::seconds(3));
    REQUIRE(net.agreed());
    CHECK(net.at(3).put_namespace(net.now, "sessions", lww, true) == errc::precondition_failed);
    for (std::uint32_t id = 1; id <= 3; ++id) {
        const auto& all = net.at(id).view().namespaces;
        REQUIRE(all.count("sessions") == 1);
        CHECK(all.at("sessions").props == lww);
    }
    // Two nodes change it at once: both writes carry version 2; one settles everywhere.
    NamespaceProps a = lww, b = lww;
    a.ttl_s = 60;
    b.ttl_s = 120;
    REQUIRE_FALSE(net.at(1).put_namespace(net.now, "sessions", a, false));
    REQUIRE_FALSE(net.at(3).put_namespace(net.now, "sessions", b, false));
    net.run(Duration::seconds(3));
    REQUIRE(net.agreed());
    const NamespaceRecord settled = net.at(2).view().namespaces.at("sessions");  // a copy: node 2 restarts below
    CHECK(settled.version == 2);
    CHECK(settled.set_by == NodeId{3});  // the higher writer id wins a tie
    CHECK(settled.props.ttl_s == 120);
    // A restart resumes the saved view with its namespaces.
    net.add(2, {address(1)});
    CHECK(net.at(2).view().namespaces.at("sessions") == settled);
}

TEST_CASE("views of two clusters never merge: each has the id its founder drew", "[gossip][gossiper]") {
    Net net;
    net.add(1, {});
    net.add(2, {});  // a second founder: a cluster of its own
    net.run(Duration::seconds(1));
    const std::uint64_t one = net.at(1).view().cluster_id, two = net.at(2).view().cluster_id;
    REQUIRE(one != 0);
    REQUIRE(two != 0);
    REQUIRE(one != two);
    // Node 2 hears node 1's whole view (a misconfigured seed): refused, nothing changes.
    const ClusterView before = net.at(2).view();
    net.at(2).step(net.now, NodeId{1}, GossipSyn{address(1), digest(net.at(1).view()), net.at(1).view()});
    CHECK(net.at(2).view() == before);
    CHECK(net.at(2).stats().rejected == 1);
    // A node that joins takes its cluster's id; a restart keeps it.
    net.down.insert(NodeId{2});  // (settle() wants every live node in one cluster)
    net.add(3, {address(1)});
    REQUIRE(net.settle());
    CHECK(net.at(3).view().cluster_id == one);
    net.add(3, {address(1)});
    CHECK(net.at(3).view().cluster_id == one);
}
