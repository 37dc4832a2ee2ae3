#include "gossip/authority.h"

#include <limits>

#include "core/assert.h"

namespace shoal::gossip {

NodeId ruler(const ClusterView& view, const std::function<bool(NodeId)>& absent) {
    for (const auto& [id, m] : view.members)  // ascending ids
        if (m.status == MemberStatus::valid && !absent(id)) return id;
    return NodeId{};
}

bool rules(const ClusterView& view, NodeId who, const std::function<bool(NodeId)>& absent) {
    return who.valid() && (claimant(view) == who || ruler(view, absent) == who);
}

bool same_payload(const MemberRecord& a, const MemberRecord& b) {
    return a.version == b.version && a.incarnation == b.incarnation && a.peer_address == b.peer_address &&
           a.client_address == b.client_address && a.http_address == b.http_address && a.zone == b.zone;
}

void copy_payload(MemberRecord& into, const MemberRecord& from) {
    const MemberStatus status = into.status;
    const NodeId id = into.id;
    into = from;
    into.id = id;
    into.status = status;
}

namespace {

// The end of a move, told by one of its two ends (the owner, or the owner-to-be): the
// handoff mark at the move's version, or the switch to the owner-to-be that the
// claimant of the time wrote next. Either end could set the mark itself.
bool move_done_by(const PartitionClaim& mine, const PartitionClaim& theirs, NodeId from) {
    if (!mine.moving() || (from != mine.owner && from != mine.next)) return false;
    const bool mark = theirs.handoff_done && theirs.version == mine.version && theirs.owner == mine.owner &&
                      theirs.next == mine.next;
    // The switch is the claimant's next write of the partition: one version on.
    const bool switched = mine.version < std::numeric_limits<std::uint64_t>::max() &&
                          theirs.version == mine.version + 1 && theirs.owner == mine.next && !theirs.moving();
    return mark || switched;
}

}  // namespace

Admission admit(const ClusterView& mine, ClusterView& theirs, NodeId from, const Standing& standing) {
    SHOAL_ASSERT(theirs.claim.size() == mine.claim.size());
    if (standing.trusting) {
        // A joiner takes the view whole, except its own end: only the cluster it joins,
        // by admitting it, moves it on (a forged "removed" would stop it for good).
        const auto self = theirs.members.find(standing.self);
        const auto held = mine.members.find(standing.self);
        if (self != theirs.members.end() && held != mine.members.end() && held->second.status == MemberStatus::joining &&
            self->second.status > MemberStatus::valid) {
            self->second.status = held->second.status;
            return {1, false, {}};
        }
        return {};
    }
    std::uint32_t refused = 0;
    // The claimant rules on anyone; its successor (the ruler where the claimant is
    // absent) only on members absent here, so that it can remove the claimant it
    // replaces but nobody the others still hear.
    const bool claimant_says = from.valid() && claimant(mine) == from;
    const bool successor_says = !claimant_says && from.valid() && ruler(mine, standing.absent) == from;
    const bool ruling = claimant_says || successor_says;
    std::vector<NodeId> strangers;  // members never seen, past the bound
    std::size_t unknown = 0;
    // What this node knows of itself may be told by a successor only (see below).
    const auto excluding_self = [&](NodeId id) { return id == standing.self || standing.absent(id); };
    // The statuses as they will be once this view is merged: the claim is judged
    // against them (a ruling that removes the absent claimant also makes its successor
    // the claimant, and the claim it sends is then its own).
    ClusterView statuses;
    statuses.members = mine.members;
    for (auto& [id, record] : theirs.members) {
        const auto it = mine.members.find(id);
        const bool known = it != mine.members.end();
        // Payload.
        if (id == from) {
            // Its own, merged by version (and taken whole by the Gossiper when this
            // node had it only from others).
        } else if (!known) {
            // Announced by another (a seed announces a joiner): taken, as joining unless
            // the ruler says more, until the member's own frames say otherwise. Never
            // past k_max_members: the view must still decode.
            if (mine.members.size() + (++unknown) > k_max_members) {
                strangers.push_back(id);
                ++refused;
                continue;
            }
        } else if (id == standing.self ? !ruling : !same_payload(it->second, record)) {
            // Another member's record as somebody else tells it. The ruler may tell this
            // node its own last version (a node restarted on an empty directory outbids
            // it), nobody else may.
            if (!same_payload(it->second, record)) ++refused;
            copy_payload(record, it->second);
        }
        // Status.
        const MemberStatus held = known ? it->second.status : MemberStatus::joining;
        if (record.status > held) {
            const bool own_leave = id == from && record.status == MemberStatus::leaving;
            // This node's own removal or exit, from the member that would rule without it.
            const bool about_me = id == standing.self && ruler(mine, excluding_self) == from;
            const bool ruled = claimant_says || (successor_says && standing.absent(id));
            if (!(ruled || own_leave || about_me)) {
                record.status = held;
                ++refused;
            }
        }
        auto [s, inserted] = statuses.members.try_emplace(id, record);
        if (!inserted && s->second.status < record.status) s->second.status = record.status;
    }
    for (NodeId id : strangers) theirs.members.erase(id);
    Admission out;
    out.refused = refused;
    // The claim comes from the claimant as it stands once these statuses are merged
    // (a successor's removal of the absent claimant makes it the claimant).
    out.ruling = from.valid() && claimant(statuses) == from;
    if (out.ruling) return out;
    const bool writes_claim = claimant(mine) == standing.self;
    for (std::size_t p = 0; p < theirs.claim.size(); ++p) {
        const PartitionClaim& held = mine.claim[p];
        PartitionClaim& said = theirs.claim[p];
        if (said == held || move_done_by(held, said, from)) continue;
        // The claimant outbids a later version it may not take (an earlier claimant's
        // write that reached some nodes only): its own entry goes out above it.
        // Only a modest step: a forged far-ahead version is not followed.
        if (said.version > held.version && said.version - held.version <= k_max_outbid && writes_claim)
            out.outbid.emplace_back(p, said.version);
        said = held;
        ++out.refused;
    }
    return out;
}

bool outbid(ClusterView& mine, const Admission& admission) {
    bool changed = false;
    for (const auto& [p, version] : admission.outbid) {
        PartitionClaim& c = mine.claim.at(p);
        const std::uint64_t next = saturating_next(version);
        if (c.version >= next) continue;
        c.version = next;
        changed = true;
    }
    return changed;
}

bool take_ruling(ClusterView& mine, const ClusterView& theirs) {
    SHOAL_ASSERT(theirs.claim.size() == mine.claim.size());
    bool changed = false;
    for (std::size_t p = 0; p < mine.claim.size(); ++p) {
        PartitionClaim& held = mine.claim[p];
        const PartitionClaim& said = theirs.claim[p];
        if (said.version != held.version || (said.owner == held.owner && said.next == held.next)) continue;
        held = said;  // the merge kept the greater of two writes at one version: the ruler's stands
        changed = true;
    }
    return changed;
}

}  // namespace shoal::gossip
