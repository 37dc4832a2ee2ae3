// Unit tests for claim changes: founding, join, leave, remove, handoff completion.
#include <cstdint>
#include <string>

#include <catch2/catch.hpp>

#include "core/rng.h"
#include "gossip/claim.h"

using namespace shoal;
using namespace shoal::gossip;

namespace {

constexpr std::uint32_t k_q = 64;

void add_member(ClusterView& v, std::uint32_t id, MemberStatus status, std::string zone = "") {
    MemberRecord m;
    m.id = NodeId{id};
    m.version = 1;
    m.incarnation = 1;
    m.peer_address = "n" + std::to_string(id);
    m.zone = std::move(zone);
    m.status = status;
    v.members.emplace(m.id, m);
}

// Marks every moving partition done, as the transfer nodes would.
void complete_all(ClusterView& v) {
    for (const ring::Move& t : moves(v)) REQUIRE(mark_handoff_done(v, t.slot, t.from, t.to));
}

ClusterView founded_cluster(std::uint32_t nodes) {
    ClusterView v = ClusterView::empty(k_q);
    for (std::uint32_t id = 1; id <= nodes; ++id) add_member(v, id, MemberStatus::valid);
    const ReconcileStats s = reconcile(v);
    REQUIRE(s.assigned == k_q);
    REQUIRE(settled(v));
    return v;
}

}  // namespace

TEST_CASE("founding assigns every partition directly", "[gossip][claim]") {
    ClusterView v = founded_cluster(3);
    CHECK(moves(v).empty());
    CHECK(claimant(v) == NodeId{1});
    CHECK_FALSE(reconcile(v).changed());  // level-triggered: a fixed point
}

TEST_CASE("a join moves only what balance needs, through handoff", "[gossip][claim]") {
    ClusterView v = founded_cluster(3);
    const ClusterView before = v;
    add_member(v, 4, MemberStatus::joining);
    ReconcileStats s = reconcile(v);
    CHECK(s.admitted == 1);
    CHECK(s.started == k_q / 4);
    CHECK(s.assigned == 0);
    // Owners do not change until the handoffs complete.
    for (std::uint32_t p = 0; p < k_q; ++p) CHECK(v.claim[p].owner == before.claim[p].owner);
    for (const ring::Move& t : moves(v)) CHECK(t.to == NodeId{4});
    CHECK_FALSE(settled(v));
    CHECK_FALSE(reconcile(v).changed());

    complete_all(v);
    s = reconcile(v);
    CHECK(s.finalized == k_q / 4);
    CHECK(settled(v));
    CHECK(ownership_counts(v)[NodeId{4}] == k_q / 4);
}

TEST_CASE("a stale or repeated handoff mark changes nothing", "[gossip][claim]") {
    ClusterView v = founded_cluster(2);
    add_member(v, 3, MemberStatus::joining);
    reconcile(v);
    const ring::Move t = moves(v).at(0);
    CHECK_FALSE(mark_handoff_done(v, t.slot, t.to, t.from));
    CHECK_FALSE(mark_handoff_done(v, PartitionId{k_q}, t.from, t.to));
    CHECK(mark_handoff_done(v, t.slot, t.from, t.to));
    CHECK_FALSE(mark_handoff_done(v, t.slot, t.from, t.to));
}

TEST_CASE("a leaving member hands everything off, then exits", "[gossip][claim]") {
    ClusterView v = founded_cluster(4);
    REQUIRE(raise_status(v, NodeId{2}, MemberStatus::leaving));
    ReconcileStats s = reconcile(v);
    CHECK(s.started == k_q / 4);
    CHECK(status_of(v, NodeId{2}) == MemberStatus::leaving);  // still serving
    CHECK(ownership_counts(v)[NodeId{2}] == k_q / 4);
    for (const ring::Move& t : moves(v)) CHECK(t.from == NodeId{2});
    complete_all(v);
    s = reconcile(v);
    CHECK(s.finalized == k_q / 4);
    CHECK(s.exited == 1);
    CHECK(status_of(v, NodeId{2}) == MemberStatus::exiting);
    CHECK(settled(v));
    CHECK_FALSE(raise_status(v, NodeId{2}, MemberStatus::valid));  // never backwards
}

TEST_CASE("the claimant itself can leave; the next lowest id takes over", "[gossip][claim]") {
    ClusterView v = founded_cluster(3);
    raise_status(v, NodeId{1}, MemberStatus::leaving);
    CHECK(claimant(v) == NodeId{2});
    reconcile(v);
    complete_all(v);
    reconcile(v);
    CHECK(status_of(v, NodeId{1}) == MemberStatus::exiting);
    CHECK(settled(v));
}

TEST_CASE("a removed member's partitions are reassigned at once", "[gossip][claim]") {
    ClusterView v = founded_cluster(4);
    raise_status(v, NodeId{3}, MemberStatus::removed);
    const ReconcileStats s = reconcile(v);
    CHECK(s.assigned == k_q / 4);
    CHECK(s.started == 0);
    CHECK(settled(v));
    CHECK(ownership_counts(v).count(NodeId{3}) == 0);
}

TEST_CASE("removal of a handoff's target or source redirects the move", "[gossip][claim]") {
    ClusterView v = founded_cluster(3);
    add_member(v, 4, MemberStatus::joining);
    reconcile(v);
    REQUIRE_FALSE(moves(v).empty());
    raise_status(v, NodeId{4}, MemberStatus::removed);  // the joiner died before its handoffs
    reconcile(v);
    CHECK(moves(v).empty());
    CHECK(settled(v));

    add_member(v, 5, MemberStatus::joining);
    reconcile(v);
    raise_status(v, NodeId{1}, MemberStatus::removed);  // a source died mid-handoff
    reconcile(v);
    for (const ring::Move& t : moves(v)) CHECK(t.from != NodeId{1});
    complete_all(v);
    reconcile(v);
    CHECK(settled(v));
    CHECK(ownership_counts(v).count(NodeId{1}) == 0);
}

TEST_CASE("zones: the settled claim keeps N=3 primaries in distinct zones", "[gossip][claim]") {
    ClusterView v = ClusterView::empty(k_q);
    for (std::uint32_t id = 1; id <= 6; ++id) add_member(v, id, MemberStatus::valid, "z" + std::to_string(id % 3));
    reconcile(v);
    REQUIRE(settled(v));
    const auto ring = make_ring(v);
    for (std::uint32_t p = 0; p < k_q; ++p) {
        const auto order = ring->preference_order(PartitionId{p});
        CHECK(ring->zone_of(order[0]) != ring->zone_of(order[1]));
        CHECK(ring->zone_of(order[1]) != ring->zone_of(order[2]));
        CHECK(ring->zone_of(order[0]) != ring->zone_of(order[2]));
    }
}

TEST_CASE("two claimants' conflicting writes converge after merge and reconcile", "[gossip][claim][property]") {
    Rng rng(5);
    for (int i = 0; i < 200; ++i) {
        ClusterView base = founded_cluster(3);
        ClusterView a = base, b = base;
        add_member(a, 4, MemberStatus::joining);
        add_member(b, 5, MemberStatus::joining);
        if (rng.chance(0.5)) raise_status(b, NodeId{2}, MemberStatus::leaving);
        reconcile(a);
        reconcile(b);
        ClusterView m1 = merged(a, b), m2 = merged(b, a);
        REQUIRE(m1 == m2);
        for (int round = 0; round < 4; ++round) {
            reconcile(m1);
            complete_all(m1);
        }
        reconcile(m1);
        CHECK(settled(m1));
    }
}
