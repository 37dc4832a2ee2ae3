// The anti-entropy hash tree of one partition: a fixed tree (fan-out 16, depth 3,
// so 4096 leaves) over the entries (key, digest of the key's sibling set).
//
// Each key falls in one leaf by bits of its hash. A node's hash is the sum (mod
// 2^64) of the entry hashes below it, so replacing one entry is O(depth): subtract
// the old entry hash and add the new one along the path. Two replicas holding the
// same entries have equal roots; where they differ, comparing children level by
// level finds the differing leaves without listing any key.
//
// Sizing: 4369 64-bit sums, 35 KiB per partition. A partition of a million keys has
// about 250 keys per leaf, so one differing key costs one leaf's key list.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

namespace shoal::replica {

class MerkleTree {
public:
    static constexpr std::uint32_t k_fanout = 16;
    static constexpr std::uint32_t k_depth = 3;  // levels below the root
    static constexpr std::uint32_t k_leaves = k_fanout * k_fanout * k_fanout;

    MerkleTree();

    // The leaf a key belongs to (from its 64-bit key hash).
    static std::uint32_t leaf_of(std::uint64_t key_hash);
    // The hash one entry contributes: 0 never occurs for a present entry.
    static std::uint64_t entry_hash(std::string_view key, std::uint64_t state_digest);
    // Stands for a stored value that failed its checksum: equal to no real entry, so
    // the replica comparison always finds the key and repairs it.
    static std::uint64_t corrupt_entry_hash(std::string_view key);

    // Replaces a key's entry: `old_entry` is 0 when the key was absent, `new_entry`
    // 0 when it is removed.
    void update(std::uint64_t key_hash, std::uint64_t old_entry, std::uint64_t new_entry);

    // Number of nodes on `level` (0 = the root, k_depth = the leaves).
    static std::uint32_t width(std::uint32_t level);
    std::uint64_t hash(std::uint32_t level, std::uint32_t index) const;
    std::uint64_t root() const { return hash(0, 0); }
    std::uint64_t entries() const { return entries_; }
    void clear();

private:
    std::vector<std::uint64_t> levels_[k_depth + 1];
    std::uint64_t entries_ = 0;
};

}  // namespace shoal::replica
