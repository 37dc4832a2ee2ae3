// The ring: Q equal partitions of the 64-bit key-hash space, a claim saying which
// node owns each partition, and preference lists. Pure: no I/O, no clock, no RNG.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/types.h"

namespace shoal::ring {

inline constexpr std::uint32_t k_default_partitions = 64;
inline constexpr std::uint32_t k_max_partitions = 4096;

// One claim slot changing owner, as membership decides it and the replica side carries
// it out: `from` streams what the slot brings to `to`, then the slot switches owner.
struct Move {
    PartitionId slot;
    NodeId from;
    NodeId to;
    bool done = false;  // the stream has finished; waiting for the owner switch
    friend bool operator==(const Move&, const Move&) = default;
};

struct Member {
    NodeId id;
    std::string zone;  // empty = the default zone
};

// True when q is a power of two in [1, k_max_partitions].
bool valid_partition_count(std::uint32_t q);

// Computes who owns each partition. Promises:
//  - balance: every member owns floor(Q/M) or ceil(Q/M) partitions (max - min <= 1);
//  - zones: members are interleaved by zone, so that consecutive partitions tend to
//    have owners in different zones (preference lists then need few skips);
//  - stability: partitions move only to reach balance; starting from `previous`
//    (empty for a new cluster) adding or removing one member moves about Q/M
//    partitions, never more than twice the ideal number.
// `members` must be non-empty with distinct ids. Deterministic: same inputs, same claim.
std::vector<NodeId> compute_claim(std::uint32_t partition_count, std::span<const Member> members,
                                  std::span<const NodeId> previous);

// An immutable view of ring state. Cheap to query on the hot path: preference
// orders are precomputed at construction (Q x M node ids).
class Ring {
public:
    // `owners` has partition_count entries, each the id of one of `members`.
    Ring(std::uint32_t partition_count, std::vector<Member> members, std::vector<NodeId> owners);

    std::uint32_t partition_count() const { return partition_count_; }
    // Sorted by id (the constructor sorts them).
    const std::vector<Member>& members() const { return members_; }
    const std::vector<NodeId>& owners() const { return owners_; }

    // The partition whose range holds this key hash (the hash's top bits).
    PartitionId partition_of(std::uint64_t key_hash) const;
    NodeId owner(PartitionId p) const;

    // Every member exactly once, in preference order for partition p: walking
    // clockwise from p, each next node is the first not yet listed whose zone is not
    // yet used in this round of zones (a new round starts when every zone is used).
    // So the first N entries (the primaries) are distinct nodes, in distinct zones
    // when there are at least N zones; the rest are the fallbacks, in order.
    std::span<const NodeId> preference_order(PartitionId p) const;

    // True when `node` is among the first n entries of preference_order(p).
    bool is_primary(PartitionId p, NodeId node, std::size_t n) const;

    // The zone of a member, or empty if unknown.
    const std::string& zone_of(NodeId node) const;

private:
    std::uint32_t partition_count_;
    unsigned shift_;  // 64 - log2(Q)
    std::vector<Member> members_;
    std::vector<NodeId> owners_;
    std::vector<NodeId> orders_;  // Q rows of members_.size() ids
};

}  // namespace shoal::ring
