// Who may write what in a cluster view.
//
// A gossip frame's sender is known (under TLS it is the node its certificate names:
// net/peer_link.cpp), but a view is relayed, so what a frame carries may be about
// anyone. These rules keep, of a received view, only what its sender may say itself:
//  - a member's payload (addresses, zone, incarnation, version) comes from the member;
//    a member this node has never seen may be announced by anyone (a seed announces a
//    joiner), and the member's own frames then replace what was said of it;
//  - a member may move itself to leaving (nothing else: the claimant admits it);
//  - every other status change comes from the claimant (the lowest-id valid member),
//    or, for a member absent here (silent, or never heard since this node started),
//    from the ruler: the lowest-id valid member that is not absent. So an operator's
//    leave or remove of another node goes through the claimant, and a dead claimant is
//    removed through its successor;
//  - the claim comes from the claimant as it stands once the sender's statuses are
//    merged (the successor, once it has removed the claimant);
//  - a partition's handoff end (the mark, or the switch one version on) comes from the
//    partition's owner or its next owner;
//  - namespaces (an operator's command on any node, checked for the admin role there)
//    and the cluster id as before.
// A node not yet admitted (joining) has no view of its own to defend: it takes any
// member's view whole, except a status of its own past valid. So does a node that has
// left and still follows the claim.
//
// With these rules an authenticated member can no longer remove another member, move
// another's address, freeze another's record at the highest version or rewrite the
// claim. Left to trust: the claimant (its word on the claim is the protocol), a
// claimant's successor at nodes that find the claimant absent, what a joiner or a
// follower is told, and announcements of members never seen (taken as joining, within
// k_max_members, until the member's own frames correct them). Pure.
#pragma once

#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

#include "core/types.h"
#include "gossip/view.h"

namespace shoal::gossip {

// How the receiving node stands, for admit().
struct Standing {
    NodeId self;
    // Not yet admitted, or left and following: a member's view is taken whole (but a
    // joiner's own status, past valid).
    bool trusting = false;
    // No frame from this member for long enough (never true for self).
    std::function<bool(NodeId)> absent;
};

// The ruler of `view`: the lowest-id valid member that is not absent (the claimant
// while it is heard; else its successor, which rules on absent members' statuses).
// Invalid when none.
NodeId ruler(const ClusterView& view, const std::function<bool(NodeId)>& absent);

// `who` may rule: it is the claimant or the ruler.
bool rules(const ClusterView& view, NodeId who, const std::function<bool(NodeId)>& absent);

// The furthest the claimant outbids a version it was told (admit): earlier claimants'
// writes are a few versions ahead at most; a forged one far ahead is not followed.
inline constexpr std::uint64_t k_max_outbid = 1u << 16;

struct Admission {
    // Records (member payloads, statuses, claim entries) put back: relays of what
    // others wrote count too, so the number is no sign of an attack by itself.
    std::uint32_t refused = 0;
    // `from` rules the claim: after the merge, take_ruling() settles ties its way.
    bool ruling = false;
    // Partitions where this node, the claimant, was told a later version it may not
    // take, and that version: outbid() writes its own entry above each.
    std::vector<std::pair<std::uint32_t, std::uint64_t>> outbid;
};

// Replaces in `theirs` (a view received from `from`, of the same cluster and shape as
// `mine`) everything `from` may not write with what `mine` holds, so that merging the
// result into `mine` takes only what `from` may say. Cost: O(M log M + Q).
Admission admit(const ClusterView& mine, ClusterView& theirs, NodeId from, const Standing& standing);

// After merging a ruler's view: where the ruler and an earlier claimant wrote one
// partition at the same version (two claimants for a moment while a view spread), the
// merge kept the greater; the ruler's entry replaces it, so the ruler, which no longer
// takes the other write from anyone, and the rest agree. True when `mine` changed.
bool take_ruling(ClusterView& mine, const ClusterView& theirs);

// The claimant's entries at the partitions of admission.outbid get the version after
// the one it was told (saturating), their content unchanged. True when `mine` changed.
bool outbid(ClusterView& mine, const Admission& admission);

// The payload of a member record (everything but the status) equals another's.
bool same_payload(const MemberRecord& a, const MemberRecord& b);
// Copies the payload (everything but the status) of `from` into `into`.
void copy_payload(MemberRecord& into, const MemberRecord& from);

}  // namespace shoal::gossip
