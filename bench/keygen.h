// Key choosers: which key index the next operation touches.
//  - uniform: every index of [0, count) equally likely.
//  - zipfian: index i with probability proportional to 1/(i+1)^theta (theta 0.99 by
//    default, as YCSB), computed with the method of Gray et al. ("Quickly generating
//    billion-record synthetic databases", SIGMOD 1994). Index 0 is the hottest key.
//  - latest: zipfian over recency: the most recently inserted key is the hottest.
// Construction of a zipfian chooser sums count terms (about 10 ms per million keys);
// next() is O(1) and never allocates. Randomness comes from the caller's Rng.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/rng.h"

namespace shoal::bench {

enum class KeyDist { uniform, zipfian, latest };

std::optional<KeyDist> parse_key_dist(std::string_view text);
std::string_view key_dist_name(KeyDist d);

class Zipfian {
public:
    Zipfian(std::uint64_t count, double theta);
    std::uint64_t next(Rng& rng) const;  // in [0, count)
    std::uint64_t count() const { return count_; }

private:
    std::uint64_t count_;
    double theta_, alpha_, zetan_, eta_, half_pow_theta_;
};

class KeyChooser {
public:
    KeyChooser(KeyDist dist, std::uint64_t count, double theta = 0.99);
    // `inserted` is how many keys exist now (>= 1); latest picks near inserted - 1,
    // uniform and zipfian pick within [0, min(count, inserted)).
    std::uint64_t next(Rng& rng, std::uint64_t inserted) const;
    KeyDist dist() const { return dist_; }

private:
    KeyDist dist_;
    std::uint64_t count_;
    std::optional<Zipfian> zipf_;
};

}  // namespace shoal::bench
