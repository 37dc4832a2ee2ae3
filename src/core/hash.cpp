#include "core/hash.h"

#include <xxhash.h>

namespace shoal {

std::uint64_t hash_key(std::string_view bytes) {
    return XXH64(bytes.data(), bytes.size(), 0);
}

std::uint64_t hash_bytes(std::string_view bytes, std::uint64_t seed) {
    return XXH64(bytes.data(), bytes.size(), seed);
}

std::uint64_t hash_combine(std::uint64_t h, std::uint64_t v) {
    // One round of a 64-bit mixer (from splitmix64) over h ^ v, then rotated in.
    std::uint64_t z = h ^ (v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2));
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

}  // namespace shoal
