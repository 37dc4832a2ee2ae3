// The cluster view: what one node believes about membership (member records) and
// ownership (the claim). Views are gossiped and merged; the merge is a join of a
// semilattice (commutative, associative, idempotent), so nodes that have seen the
// same updates hold equal views whatever order the updates came in.
//
// Pure: no I/O except the save/load helpers over the Store interface.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "core/types.h"
#include "core/limits.h"
#include "core/namespace.h"
#include "ring/ring.h"
#include "store/store.h"

namespace shoal::gossip {

// Bounds on what a view (or a decoded message) may hold.
inline constexpr std::size_t k_max_members = 1024;
inline constexpr std::size_t k_max_address_bytes = 256;
inline constexpr std::size_t k_max_zone_bytes = 64;
inline constexpr std::size_t k_max_seeds = 16;  // seed addresses a node joins through

// A member's status only ever moves forward in this order (the merge takes the
// maximum), so a stale view can never undo a leave or a removal. A removed id can
// not rejoin: a replacement node takes a new id.
enum class MemberStatus : std::uint8_t {
    joining = 0,  // announced itself; owns nothing until the claimant admits it
    valid = 1,    // a full member: counted in the claim
    leaving = 2,  // asked to leave: keeps serving until its partitions are handed off
    exiting = 3,  // owns nothing any more and may shut down
    removed = 4,  // forcibly removed (dead): its partitions were reassigned at once
};
inline constexpr std::uint8_t k_max_status = 4;

std::string_view status_name(MemberStatus status);

// One member as gossiped. Two parts merge independently:
//  - the payload (addresses, zone, incarnation) is ordered by `version`; only the
//    member itself rewrites it, with version + 1 (on start and to refute stale data);
//  - `status` merges by maximum, without a version; who may move it forward (the
//    member itself to leaving, else the ruler) is authority.h's rule.
struct MemberRecord {
    NodeId id;
    std::uint64_t version = 0;
    std::uint32_t incarnation = 0;
    std::string peer_address;
    std::string client_address;
    std::string http_address;
    std::string zone;
    MemberStatus status = MemberStatus::joining;

    friend bool operator==(const MemberRecord&, const MemberRecord&) = default;
};

// Ownership of one partition. `owner` serves it; `next`, when set, is the owner-to-be
// while a handoff streams the partition to it. Written by the claimant, which bumps
// `version` on every change; `handoff_done` is set (without a version bump) by the node
// that finished the transfer of exactly this (owner -> next) at this version. The merge
// takes the maximum of (version, owner, next, handoff_done).
struct PartitionClaim {
    NodeId owner;  // invalid (0): not assigned yet (a cluster not yet founded)
    NodeId next;   // invalid (0): not moving
    std::uint64_t version = 0;
    bool handoff_done = false;

    bool moving() const { return next.valid(); }
    friend bool operator==(const PartitionClaim&, const PartitionClaim&) = default;
};

// A namespace's properties as gossiped. Any node may write them (an operator's
// command), with version + 1 and its own id; the merge takes the greatest
// (version, set_by, properties), so concurrent changes on two nodes settle on one.
struct NamespaceRecord {
    NamespaceProps props;
    std::uint64_t version = 0;
    NodeId set_by;
    friend bool operator==(const NamespaceRecord&, const NamespaceRecord&) = default;
};

struct ClusterView {
    // Drawn by the founder; 0 until a joining node has heard from its cluster. Views of
    // two clusters never merge (Gossiper refuses them), and a data directory records it.
    std::uint64_t cluster_id = 0;
    std::uint32_t partition_count = ring::k_default_partitions;
    std::map<NodeId, MemberRecord> members;  // every id ever seen, removed ones included
    std::vector<PartitionClaim> claim;       // partition_count entries
    std::map<std::string, NamespaceRecord, std::less<>> namespaces;  // at most k_max_namespaces

    // An empty view: no members, no owners.
    static ClusterView empty(std::uint32_t partition_count);
    void swap_with(ClusterView& other) noexcept {
        std::swap(cluster_id, other.cluster_id);
        std::swap(partition_count, other.partition_count);
        members.swap(other.members);
        claim.swap(other.claim);
        namespaces.swap(other.namespaces);
    }
    friend bool operator==(const ClusterView&, const ClusterView&) = default;
};

// ---- merge -------------------------------------------------------------------------

// Folds `from` into `into` (the semilattice join). Returns true when `into` changed.
// Precondition: equal partition counts and, when both are set, equal cluster ids (the
// caller checks: views of different clusters never merge); an unset id takes the other.
bool merge_into(ClusterView& into, const ClusterView& from);
ClusterView merged(const ClusterView& a, const ClusterView& b);

// ---- codec -------------------------------------------------------------------------

// Appends the canonical encoding of the view to `out`. Equal views, equal bytes.
void encode(const ClusterView& view, std::string& out);
// Bounded, validated decode: any malformed, oversized, non-canonical or inconsistent
// input (an owner that is not a member, say) is errc::corrupt, never a crash.
std::error_code decode(std::string_view bytes, ClusterView& out);
// xxHash of the encoding: equal views have equal digests. Gossip compares digests
// before sending whole views.
std::uint64_t digest(const ClusterView& view);
// xxHash of what the claimant rules (every member's status and the claim), never 0.
// The claimant's heartbeats carry it: a node holding another pulls the claimant's view.
std::uint64_t ruled_digest(const ClusterView& view);

// ---- persistence ---------------------------------------------------------------------

// The view lives under store::meta_key("gossip.view"); the incarnation under
// store::meta_key("gossip.incarnation").
std::error_code save_view(store::Store& store, const ClusterView& view, bool sync);
// `out` is nullopt when nothing is saved. errc::corrupt for bad bytes.
std::error_code load_view(store::Store& store, std::optional<ClusterView>& out);

// ---- queries -----------------------------------------------------------------------

// The namespaces' properties, as the replica Node takes them.
Namespaces namespaces_of(const ClusterView& view);

const MemberRecord* find_member(const ClusterView& view, NodeId id);
MemberStatus status_of(const ClusterView& view, NodeId id);  // joining when unknown

// True once every partition has an owner.
bool founded(const ClusterView& view);

// A member that may still serve data and take part in gossip: joining, valid, leaving.
bool is_active(MemberStatus status);

// The claimant: the lowest-id valid member (none: invalid id). It alone recomputes the
// claim; every node derives the same claimant from the same view.
NodeId claimant(const ClusterView& view);

// The routing ring: current owners (not the pending next owners), with every active
// member (and any owner not active yet reassigned) as a member. nullptr until founded.
std::shared_ptr<const ring::Ring> make_ring(const ClusterView& view);

// The ring once every pending handoff has switched (next owners in place of owners).
// nullptr until founded.
std::shared_ptr<const ring::Ring> make_target_ring(const ClusterView& view);

// The claim slots in handoff (`done`: the data has moved; waiting for the claimant to
// switch owners).
std::vector<ring::Move> moves(const ClusterView& view);

// Partitions owned per member (owners only), for balance checks and status output.
std::map<NodeId, std::uint32_t> ownership_counts(const ClusterView& view);

}  // namespace shoal::gossip
