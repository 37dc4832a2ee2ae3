#include "gossip/claim.h"

#include <algorithm>

#include "core/assert.h"

namespace shoal::gossip {

namespace {

// Can `id` hand a partition off: it is a member still serving data.
bool can_serve(const ClusterView& view, NodeId id) {
    const MemberRecord* m = find_member(view, id);
    return m && (m->status == MemberStatus::valid || m->status == MemberStatus::leaving);
}

void write_claim(PartitionClaim& c, NodeId owner, NodeId next) {
    c.owner = owner;
    c.next = next;
    c.version = saturating_next(c.version);
    c.handoff_done = false;
}

std::uint32_t admit_joining(ClusterView& view, const std::function<bool(NodeId)>& admissible) {
    std::uint32_t n = 0;
    for (auto& [id, m] : view.members) {
        if (m.status != MemberStatus::joining || (admissible && !admissible(id))) continue;
        m.status = MemberStatus::valid;
        n += 1;
    }
    return n;
}

std::uint32_t finalize_done(ClusterView& view) {
    std::uint32_t n = 0;
    for (PartitionClaim& c : view.claim) {
        if (!c.moving() || !c.handoff_done) continue;
        write_claim(c, c.next, NodeId{});
        n += 1;
    }
    return n;
}

void retarget(ClusterView& view, ReconcileStats& stats) {
    std::vector<ring::Member> targets;
    for (const auto& [id, m] : view.members)
        if (m.status == MemberStatus::valid) targets.push_back({id, m.zone});
    if (targets.empty()) return;  // nobody to own anything: leave the claim alone

    std::vector<NodeId> previous;
    previous.reserve(view.claim.size());
    for (const PartitionClaim& c : view.claim) previous.push_back(c.moving() ? c.next : c.owner);
    const std::vector<NodeId> desired = ring::compute_claim(view.partition_count, targets, previous);

    for (std::size_t p = 0; p < view.claim.size(); ++p) {
        PartitionClaim& c = view.claim[p];
        const NodeId want = desired[p];
        if (!can_serve(view, c.owner)) {
            // No live source: unfounded, or the owner was removed (or exited early).
            if (c.owner == want && !c.moving()) continue;
            write_claim(c, want, NodeId{});
            stats.assigned += 1;
            continue;
        }
        const NodeId next = want == c.owner ? NodeId{} : want;
        if (c.next == next) continue;
        write_claim(c, c.owner, next);
        if (next.valid()) stats.started += 1;
    }
}

std::uint32_t exit_leavers(ClusterView& view) {
    std::uint32_t n = 0;
    for (auto& [id, m] : view.members) {
        if (m.status != MemberStatus::leaving) continue;
        const bool involved = std::any_of(view.claim.begin(), view.claim.end(), [id = id](const PartitionClaim& c) {
            return c.owner == id || c.next == id;
        });
        if (involved) continue;
        m.status = MemberStatus::exiting;
        n += 1;
    }
    return n;
}

}  // namespace

ReconcileStats reconcile(ClusterView& view, const std::function<bool(NodeId)>& admissible) {
    SHOAL_ASSERT(view.claim.size() == view.partition_count);
    ReconcileStats stats;
    stats.admitted = admit_joining(view, admissible);
    stats.finalized = finalize_done(view);
    retarget(view, stats);
    stats.exited = exit_leavers(view);
    return stats;
}

bool mark_handoff_done(ClusterView& view, PartitionId p, NodeId from, NodeId to) {
    if (p.value >= view.claim.size()) return false;
    PartitionClaim& c = view.claim[p.value];
    if (!c.moving() || c.owner != from || c.next != to || c.handoff_done) return false;
    c.handoff_done = true;
    return true;
}

bool raise_status(ClusterView& view, NodeId id, MemberStatus status) {
    auto it = view.members.find(id);
    if (it == view.members.end() || it->second.status >= status) return false;
    it->second.status = status;
    return true;
}

bool settled(const ClusterView& view) {
    if (!founded(view)) return false;
    std::uint32_t valid = 0;
    for (const auto& [id, m] : view.members) valid += m.status == MemberStatus::valid ? 1 : 0;
    if (valid == 0) return false;
    std::map<NodeId, std::uint32_t> counts;
    for (const auto& [id, m] : view.members)
        if (m.status == MemberStatus::valid) counts[id] = 0;
    for (const PartitionClaim& c : view.claim) {
        if (c.moving()) return false;
        auto it = counts.find(c.owner);
        if (it == counts.end()) return false;  // owned by a non-valid member
        it->second += 1;
    }
    const auto [lo, hi] = std::minmax_element(counts.begin(), counts.end(),
                                              [](const auto& a, const auto& b) { return a.second < b.second; });
    return hi->second - lo->second <= 1;
}

}  // namespace shoal::gossip
