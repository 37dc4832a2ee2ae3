// Unit tests for who may write what in a view (gossip/authority.h): what an
// authenticated member may say of others, and what it may not.
#include <cstdint>
#include <limits>
#include <set>
#include <string>

#include <catch2/catch.hpp>

#include "gossip/authority.h"
#include "gossip/claim.h"

using namespace shoal;
using namespace shoal::gossip;

namespace {

constexpr std::uint32_t k_q = 32;
constexpr std::uint64_t k_max = std::numeric_limits<std::uint64_t>::max();

void add_member(ClusterView& v, std::uint32_t id, MemberStatus status) {
    MemberRecord m;
    m.id = NodeId{id};
    m.version = 1;
    m.incarnation = 1;
    m.peer_address = "n" + std::to_string(id);
    m.status = status;
    v.members.emplace(m.id, m);
}

// Four valid members, the claim settled: what every node holds.
ClusterView cluster() {
    ClusterView v = ClusterView::empty(k_q);
    v.cluster_id = 77;
    for (std::uint32_t id = 1; id <= 4; ++id) add_member(v, id, MemberStatus::valid);
    reconcile(v);
    REQUIRE(settled(v));
    return v;
}

Standing at(std::uint32_t self, std::set<std::uint32_t> absent = {}) {
    return Standing{NodeId{self}, false, [absent](NodeId id) { return absent.contains(id.value); }};
}

// `theirs` as node `self` takes it from `from`: admitted, then merged (as the Gossiper does).
ClusterView taken(ClusterView mine, ClusterView theirs, std::uint32_t from, const Standing& standing) {
    const Admission a = admit(mine, theirs, NodeId{from}, standing);
    merge_into(mine, theirs);
    if (a.ruling) take_ruling(mine, theirs);
    outbid(mine, a);
    return mine;
}

// What an insider (node 3) sends about node 2: every attack the security issue names.
ClusterView forged_by_3(const ClusterView& real) {
    ClusterView f = real;
    MemberRecord& two = f.members.at(NodeId{2});
    two.version = k_max;  // frozen at the highest version
    two.incarnation = std::numeric_limits<std::uint32_t>::max();
    two.peer_address = "attacker:1";  // its address taken over
    two.status = MemberStatus::removed;  // removed for good
    for (PartitionClaim& c : f.claim) {  // every partition made node 3's, for ever
        c.owner = NodeId{3};
        c.next = NodeId{};
        c.version = k_max;
    }
    return f;
}

}  // namespace

TEST_CASE("authority: an insider's forged records of another member are refused", "[gossip][authority]") {
    const ClusterView mine = cluster();
    for (std::uint32_t self : {1u, 2u, 4u}) {  // the claimant, the victim, a bystander
        ClusterView theirs = forged_by_3(mine);
        const Admission a = admit(mine, theirs, NodeId{3}, at(self));
        CHECK(a.refused > 0);
        CHECK_FALSE(a.ruling);
        ClusterView after = mine;
        merge_into(after, theirs);
        CHECK(after == mine);  // nothing of it is taken
    }
    // The teeth: merged without admit(), the forgery wins everywhere.
    CHECK(merged(mine, forged_by_3(mine)).members.at(NodeId{2}).peer_address == "attacker:1");
}

TEST_CASE("authority: the claimant outbids a version it may not take, within a step", "[gossip][authority]") {
    const ClusterView mine = cluster();
    // A forged version far ahead is not followed: the claim stays as it was.
    CHECK(taken(mine, forged_by_3(mine), 3, at(1)).claim == mine.claim);
    // An earlier claimant's write a few versions ahead, relayed by a bystander: the
    // claimant writes its own entry above it, and the others take that from it.
    ClusterView earlier = mine;
    earlier.claim[0].next = earlier.claim[0].owner == NodeId{4} ? NodeId{3} : NodeId{4};
    earlier.claim[0].version += 2;
    const ClusterView after = taken(mine, earlier, 3, at(1));
    CHECK(after.claim[0].owner == mine.claim[0].owner);
    CHECK(after.claim[0].next == mine.claim[0].next);
    CHECK(after.claim[0].version == mine.claim[0].version + 3);
    ClusterView other = taken(mine, earlier, 1, at(4));  // a node that had taken the earlier write
    other = taken(other, after, 1, at(4));
    CHECK(other.claim[0] == after.claim[0]);
    // A bystander is told nothing to outbid: it writes no claim.
    ClusterView theirs = earlier;
    CHECK(admit(mine, theirs, NodeId{3}, at(4)).outbid.empty());
}

TEST_CASE("authority: a member's own record comes from itself", "[gossip][authority]") {
    const ClusterView mine = cluster();
    ClusterView theirs = mine;
    MemberRecord& three = theirs.members.at(NodeId{3});
    three.version = 2;
    three.peer_address = "n3-new";
    three.status = MemberStatus::leaving;  // a member may leave on its own word
    const ClusterView from_itself = taken(mine, theirs, 3, at(4));
    CHECK(from_itself.members.at(NodeId{3}).peer_address == "n3-new");
    CHECK(from_itself.members.at(NodeId{3}).status == MemberStatus::leaving);
    // The same record relayed by node 2 is not taken...
    const ClusterView relayed = taken(mine, theirs, 2, at(4));
    CHECK(relayed.members.at(NodeId{3}) == mine.members.at(NodeId{3}));
    // ...nor may a member make itself more than leaving.
    ClusterView exiting = mine;
    exiting.members.at(NodeId{3}).status = MemberStatus::valid;
    exiting.members.at(NodeId{4}).status = MemberStatus::removed;
    CHECK(taken(mine, exiting, 4, at(2)).members.at(NodeId{4}).status == MemberStatus::valid);
}

TEST_CASE("authority: a member never seen may be announced, as joining, within the bound", "[gossip][authority]") {
    const ClusterView mine = cluster();
    ClusterView theirs = mine;
    add_member(theirs, 9, MemberStatus::valid);
    theirs.members.at(NodeId{9}).version = k_max;  // a false announcement
    theirs.members.at(NodeId{9}).peer_address = "attacker:9";
    // From a bystander: taken as joining (only the ruler admits).
    const ClusterView seen = taken(mine, theirs, 3, at(4));
    REQUIRE(seen.members.contains(NodeId{9}));
    CHECK(seen.members.at(NodeId{9}).status == MemberStatus::joining);
    // Never past k_max_members, whoever announces them.
    ClusterView many = mine;
    for (std::uint32_t id = 100; id < 100 + k_max_members; ++id) add_member(many, id, MemberStatus::joining);
    const ClusterView full = taken(mine, many, 1, at(4));
    CHECK(full.members.size() == k_max_members);
    // From node 9 itself: its own record, as it joins.
    ClusterView own = mine;
    add_member(own, 9, MemberStatus::joining);
    const Admission a = admit(mine, own, NodeId{9}, at(4));
    CHECK(own.members.at(NodeId{9}).peer_address == "n9");
    CHECK(a.refused == 0);
    // A member may not admit itself: it may only leave on its own word.
    ClusterView self_admitted = own;
    self_admitted.members.at(NodeId{9}).status = MemberStatus::valid;
    ClusterView with_9 = mine;
    add_member(with_9, 9, MemberStatus::joining);
    CHECK(taken(with_9, self_admitted, 9, at(4)).members.at(NodeId{9}).status == MemberStatus::joining);
}

TEST_CASE("authority: the claimant's successor rules only on absent members", "[gossip][authority]") {
    const ClusterView mine = cluster();
    ClusterView theirs = mine;
    raise_status(theirs, NodeId{4}, MemberStatus::removed);  // node 4 is heard here
    CHECK(taken(mine, theirs, 2, at(3, {1})).members.at(NodeId{4}).status == MemberStatus::valid);
    CHECK(taken(mine, theirs, 2, at(3, {1, 4})).members.at(NodeId{4}).status == MemberStatus::removed);
}

TEST_CASE("authority: a joiner takes a view whole, but not its own end", "[gossip][authority]") {
    ClusterView mine = ClusterView::empty(k_q);
    add_member(mine, 9, MemberStatus::joining);
    ClusterView theirs = cluster();
    add_member(theirs, 9, MemberStatus::removed);
    Standing joining = at(9);
    joining.trusting = true;
    CHECK(admit(mine, theirs, NodeId{3}, joining).refused == 1);
    CHECK(theirs.members.at(NodeId{9}).status == MemberStatus::joining);
}

TEST_CASE("authority: statuses and the claim come from the ruler", "[gossip][authority]") {
    const ClusterView mine = cluster();
    ClusterView theirs = mine;
    raise_status(theirs, NodeId{4}, MemberStatus::leaving);
    reconcile(theirs);  // the claimant starts moving node 4's partitions
    REQUIRE_FALSE(moves(theirs).empty());
    const ClusterView from_claimant = taken(mine, theirs, 1, at(3));
    CHECK(from_claimant.members.at(NodeId{4}).status == MemberStatus::leaving);
    CHECK(from_claimant.claim == theirs.claim);
    // The same view relayed by a bystander changes nothing.
    CHECK(taken(mine, theirs, 2, at(3)) == mine);
    // A move's end may mark it done; a bystander may not.
    ClusterView marked = from_claimant;
    const ring::Move m = moves(marked).front();
    REQUIRE(mark_handoff_done(marked, m.slot, m.from, m.to));
    NodeId bystander{1};
    while (bystander == m.from || bystander == m.to) bystander.value += 1;
    CHECK(taken(from_claimant, marked, m.from.value, at(3)).claim[m.slot.value].handoff_done);
    CHECK_FALSE(taken(from_claimant, marked, bystander.value, at(3)).claim[m.slot.value].handoff_done);
}

TEST_CASE("authority: a dead claimant is removed through its successor, where it is absent", "[gossip][authority]") {
    const ClusterView mine = cluster();
    ClusterView theirs = mine;
    raise_status(theirs, NodeId{1}, MemberStatus::removed);
    reconcile(theirs);  // node 2, now the claimant, reassigns node 1's partitions
    // Where node 1 is still heard, node 2 may not remove it.
    CHECK(taken(mine, theirs, 2, at(3)) == mine);
    CHECK_FALSE(rules(mine, NodeId{2}, at(3).absent));
    // Where it is absent, node 2 rules: the removal and the new claim are taken.
    const ClusterView after = taken(mine, theirs, 2, at(3, {1}));
    CHECK(after.members.at(NodeId{1}).status == MemberStatus::removed);
    CHECK(after.claim == theirs.claim);
    // Node 3 may not do the same: it is not the lowest valid member left.
    CHECK(taken(mine, theirs, 3, at(4, {1})) == mine);
    CHECK(ruler(mine, at(4, {1}).absent) == NodeId{2});
    CHECK(ruler(mine, at(4, {1, 2, 3, 4}).absent) == NodeId{});
}

TEST_CASE("authority: a node hears of its own removal from the member that rules without it", "[gossip][authority]") {
    const ClusterView mine = cluster();
    ClusterView theirs = mine;
    raise_status(theirs, NodeId{1}, MemberStatus::removed);
    // Node 1 itself (which hears nobody say otherwise) takes it from node 2...
    CHECK(taken(mine, theirs, 2, at(1)).members.at(NodeId{1}).status == MemberStatus::removed);
    // ...not from node 3.
    CHECK(taken(mine, theirs, 3, at(1)).members.at(NodeId{1}).status == MemberStatus::valid);
}

TEST_CASE("authority: a node not yet admitted takes a member's whole view", "[gossip][authority]") {
    ClusterView mine = ClusterView::empty(k_q);
    add_member(mine, 9, MemberStatus::joining);
    ClusterView theirs = cluster();
    Standing joining = at(9);
    joining.trusting = true;
    const Admission a = admit(mine, theirs, NodeId{3}, joining);
    CHECK(a.refused == 0);
    merge_into(mine, theirs);
    CHECK(mine.claim == cluster().claim);
}

TEST_CASE("authority: a ruler's write beats another claimant's at the same version", "[gossip][authority]") {
    ClusterView mine = cluster();
    ClusterView ruled = mine;
    // Two claimants for a moment wrote partition 0 at one version.
    const NodeId owner = mine.claim[0].owner;
    const NodeId a = owner == NodeId{3} ? NodeId{4} : NodeId{3};
    const NodeId b = owner == NodeId{2} ? NodeId{4} : NodeId{2};
    mine.claim[0] = PartitionClaim{owner, std::max(a, b), mine.claim[0].version + 1, false};
    ruled.claim[0] = PartitionClaim{owner, std::min(a, b), mine.claim[0].version, false};
    // The merge alone keeps the greater (mine); the ruler's stands.
    CHECK(merged(mine, ruled).claim[0] == mine.claim[0]);
    CHECK(taken(mine, ruled, 1, at(4)).claim[0] == ruled.claim[0]);
}
