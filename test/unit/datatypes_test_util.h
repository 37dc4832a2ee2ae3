// What the data types' unit tests share: merge's algebra checked over sampled states.
#pragma once

#include <vector>

#include <catch2/catch.hpp>

#include "core/rng.h"
#include "replica/datatypes.h"

namespace shoal::test {

// Merge is commutative, associative and idempotent over states drawn from `seen`.
inline void check_merge_algebra(Rng& rng, const std::vector<replica::dt::State>& seen) {
    namespace dt = replica::dt;
    for (int trial = 0; trial < 10 && !seen.empty(); ++trial) {
        const dt::State& a = seen[rng.below(seen.size())];
        const dt::State& b = seen[rng.below(seen.size())];
        const dt::State& c = seen[rng.below(seen.size())];
        dt::State ab = a, ba = b, aa = a;
        REQUIRE_FALSE(dt::merge(ab, b));
        REQUIRE_FALSE(dt::merge(ba, a));
        REQUIRE_FALSE(dt::merge(aa, a));
        CHECK(ab == ba);
        CHECK(aa == a);
        dt::State ab_c = ab, bc = b, a_bc = a;
        REQUIRE_FALSE(dt::merge(ab_c, c));
        REQUIRE_FALSE(dt::merge(bc, c));
        REQUIRE_FALSE(dt::merge(a_bc, bc));
        CHECK(ab_c == a_bc);
    }
}

}  // namespace shoal::test
