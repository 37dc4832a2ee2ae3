#include "replica/merkle.h"

#include "core/assert.h"
#include "core/hash.h"

namespace shoal::replica {

MerkleTree::MerkleTree() {
    for (std::uint32_t l = 0; l <= k_depth; ++l) levels_[l].assign(width(l), 0);
}

std::uint32_t MerkleTree::width(std::uint32_t level) {
    SHOAL_ASSERT(level <= k_depth);
    std::uint32_t w = 1;
    for (std::uint32_t i = 0; i < level; ++i) w *= k_fanout;
    return w;
}

std::uint32_t MerkleTree::leaf_of(std::uint64_t key_hash) {
    // The top bits choose the partition; the low bits spread keys over the leaves.
    return static_cast<std::uint32_t>(key_hash % k_leaves);
}

std::uint64_t MerkleTree::entry_hash(std::string_view key, std::uint64_t state_digest) {
    const std::uint64_t h = hash_combine(hash_bytes(key, 0x3e7c1e), state_digest);
    return h == 0 ? 1 : h;
}

std::uint64_t MerkleTree::corrupt_entry_hash(std::string_view key) {
    return entry_hash(key, 0xbad0bad0bad0bad0ULL) ^ 0x5a5a;
}

void MerkleTree::update(std::uint64_t key_hash, std::uint64_t old_entry, std::uint64_t new_entry) {
    if (old_entry == new_entry) return;
    if (old_entry == 0) ++entries_;
    // Not an assertion: a tree rebuilt from a scan that failed part-way may lack
    // entries the store holds, and their removal must not wrap the count.
    if (new_entry == 0 && entries_ > 0) --entries_;
    std::uint32_t index = leaf_of(key_hash);
    for (std::uint32_t l = k_depth + 1; l-- > 0;) {
        levels_[l][index] += new_entry - old_entry;
        index /= k_fanout;
    }
}

std::uint64_t MerkleTree::hash(std::uint32_t level, std::uint32_t index) const {
    SHOAL_ASSERT(level <= k_depth && index < levels_[level].size());
    return levels_[level][index];
}

void MerkleTree::clear() {
    for (auto& level : levels_) std::fill(level.begin(), level.end(), 0);
    entries_ = 0;
}

}  // namespace shoal::replica
