// Claim changes with no master. Every node can derive the claimant from its view
// (the lowest-id valid member, see view.h); only the claimant calls reconcile(), and
// reconcile() is level-triggered: it looks at the whole view and writes whatever is
// needed to bring the claim to its target, so running it twice changes nothing, and a
// claimant that takes over from another (or a rare moment of two claimants while a
// view spreads) simply continues from what it sees. Transient conflicting writes are
// settled by the merge's deterministic order and then repaired by the next reconcile.
//
// Handoff protocol for one partition p:
//   claimant:       owner=A, next=B, version v           (p is moving A -> B)
//   transfer node:  mark_handoff_done(p, A, B)           (done flag, same version v)
//   claimant:       owner=B, next=0, version v+1         (ownership switches)
// A dead owner (removed) or an unfounded partition has no one to hand off from, so the
// claimant assigns those directly.
#pragma once

#include <functional>

#include "gossip/view.h"

namespace shoal::gossip {

struct ReconcileStats {
    std::uint32_t admitted = 0;   // joining -> valid
    std::uint32_t finalized = 0;  // handoffs that switched owner
    std::uint32_t started = 0;    // partitions that began (or changed) a handoff
    std::uint32_t assigned = 0;   // partitions given an owner directly (no live source)
    std::uint32_t exited = 0;     // leaving -> exiting
    bool changed() const { return admitted + finalized + started + assigned + exited > 0; }
};

// The claimant's step, in this order: admit joining members; switch owners of
// partitions whose handoff is done; compute the target claim over valid members with
// ring::compute_claim (previous = each partition's owner-to-be, for stability) and
// start handoffs towards it; mark leaving members that own nothing and receive nothing
// as exiting. Cost: O(Q log Q + Q x M). Deterministic. When `admissible` is given, a
// joining member is admitted only once it holds (the Gossiper's: the claimant has heard
// the member's own record from the member, so a member announced by others alone, who
// may never exist, is not given partitions).
ReconcileStats reconcile(ClusterView& view, const std::function<bool(NodeId)>& admissible = {});

// The transfer of p from `from` to `to` has completed. Returns false (and changes
// nothing) when the view no longer has p moving from -> to, or it is already marked.
bool mark_handoff_done(ClusterView& view, PartitionId p, NodeId from, NodeId to);

// Moves a member's status forward (never back). Returns true when it changed.
bool raise_status(ClusterView& view, NodeId id, MemberStatus status);

// True when the claim is a settled, healthy target for the view: founded, nothing
// moving, every owner valid, and counts balanced within one across valid members.
bool settled(const ClusterView& view);

}  // namespace shoal::gossip
