// A small deterministic random generator (xoshiro256**), seeded by whoever owns
// the core: shoald from the OS at start, shoal-sim from the seed. The core never
// makes randomness of its own; it is handed an Rng&.
#pragma once

#include <cstdint>

namespace shoal {

class Rng {
public:
    explicit Rng(std::uint64_t seed);

    std::uint64_t next();
    // Uniform in [0, bound); bound must be > 0.
    std::uint64_t below(std::uint64_t bound);
    // Uniform in [lo, hi].
    std::int64_t between(std::int64_t lo, std::int64_t hi);
    // True with probability p (0..1).
    bool chance(double p);
    // Uniform in [0, 1).
    double unit();

private:
    std::uint64_t s_[4];
};

}  // namespace shoal
