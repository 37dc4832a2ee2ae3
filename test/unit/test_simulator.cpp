// The simulator itself: determinism, and that its checkers see what they should.
#include <catch2/catch.hpp>

#include "sim/simulator.h"

using namespace shoal;
using namespace shoal::sim;

TEST_CASE("one seed run twice gives the same trace hash; another seed does not") {
    const auto a = run_simulation(config_for_seed(7, Scenario::chaos));
    const auto b = run_simulation(config_for_seed(7, Scenario::chaos));
    const auto c = run_simulation(config_for_seed(8, Scenario::chaos));
    CHECK(a.trace_hash == b.trace_hash);
    CHECK(a.ops == b.ops);
    CHECK(a.trace_hash != c.trace_hash);
    CHECK(a.ops > 1000);
}

TEST_CASE("a chaos seed injects faults and its checkers pass") {
    const auto r = run_simulation(config_for_seed(3, Scenario::chaos));
    CHECK(r.violations.empty());
    CHECK(r.acked_writes > 100);
    CHECK(r.faults.dropped + r.faults.duplicated + r.faults.crashes + r.faults.partitions > 0);
}

TEST_CASE("last-writer-wins loses acknowledged cart adds where dvv keeps them") {
    std::uint64_t lost_lww = 0, lost_dvv = 0;
    for (std::uint64_t seed = 1; seed <= 5; ++seed) {
        auto config = config_for_seed(seed, Scenario::chaos);
        lost_dvv += run_simulation(config).lost_acked;
        config.conflict = replica::ConflictMode::lww;
        lost_lww += run_simulation(config).lost_acked;
    }
    CHECK(lost_dvv == 0);
    CHECK(lost_lww > 0);
}

TEST_CASE("the minority scenario measures availability") {
    const auto r = run_simulation(config_for_seed(4, Scenario::minority));
    CHECK(r.availability_checked);
    CHECK(r.availability_attempted > 100);
    CHECK(r.availability_succeeded * 100 >= r.availability_attempted * 99);
}
