// Key hashing: the ring places a key by the 64-bit xxHash of its bytes.
#pragma once

#include <cstdint>
#include <string_view>

namespace shoal {

// xxHash64 of the bytes with seed 0. Stable across machines and releases: it decides
// which partition owns a key, so changing it would move every key.
std::uint64_t hash_key(std::string_view bytes);

// xxHash64 with an explicit seed, for digests (Merkle trees, trace hashes).
std::uint64_t hash_bytes(std::string_view bytes, std::uint64_t seed);

// Mixes a 64-bit value into a running hash (order-sensitive).
std::uint64_t hash_combine(std::uint64_t h, std::uint64_t v);

}  // namespace shoal
