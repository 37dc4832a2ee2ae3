// Unit tests for shoal-bench's key distributions: zipfian shape, uniform spread, latest.
#include <cmath>
#include <cstdint>
#include <vector>

#include <catch2/catch.hpp>

#include "core/rng.h"
#include "keygen.h"

using shoal::Rng;
using namespace shoal::bench;

TEST_CASE("bench keygen: zipfian frequencies follow 1/(rank+1)^theta") {
    const std::uint64_t n = 1000;
    const double theta = 0.99;
    Zipfian z(n, theta);
    Rng rng(1);
    std::vector<std::uint64_t> counts(n);
    const int draws = 2000000;
    for (int i = 0; i < draws; ++i) {
        const auto k = z.next(rng);
        REQUIRE(k < n);
        ++counts[k];
    }
    double zeta = 0;
    for (std::uint64_t i = 1; i <= n; ++i) zeta += 1.0 / std::pow(static_cast<double>(i), theta);
    // The exact head probabilities (ranks 0 and 1 are produced exactly by the method).
    for (std::uint64_t r : {0, 1}) {
        const double expect = 1.0 / std::pow(static_cast<double>(r + 1), theta) / zeta;
        const double got = static_cast<double>(counts[r]) / draws;
        INFO("rank " << r << " expect " << expect << " got " << got);
        CHECK(std::abs(got - expect) < 0.05 * expect);
    }
    // Further out the method approximates; the ratio of bands of ranks should still follow
    // the power law: mass of [10,100) vs [100,1000) ~ sum 1/i^theta over each band.
    auto mass = [&](std::uint64_t lo, std::uint64_t hi) {
        std::uint64_t s = 0;
        for (auto i = lo; i < hi; ++i) s += counts[i];
        return static_cast<double>(s);
    };
    auto ideal = [&](std::uint64_t lo, std::uint64_t hi) {
        double s = 0;
        for (auto i = lo; i < hi; ++i) s += 1.0 / std::pow(static_cast<double>(i + 1), theta);
        return s;
    };
    const double got_ratio = mass(10, 100) / mass(100, 1000);
    const double want_ratio = ideal(10, 100) / ideal(100, 1000);
    INFO("band ratio got " << got_ratio << " want " << want_ratio);
    CHECK(std::abs(got_ratio - want_ratio) < 0.15 * want_ratio);
    // Skewed: the hottest 1% of keys draw far more than 1% of requests.
    CHECK(mass(0, 10) / draws > 0.25);
}

TEST_CASE("bench keygen: uniform spreads evenly; the chooser respects the live key count") {
    KeyChooser u(KeyDist::uniform, 100);
    Rng rng(3);
    std::vector<int> counts(100);
    for (int i = 0; i < 100000; ++i) ++counts[u.next(rng, 100)];
    for (int c : counts) CHECK(std::abs(c - 1000) < 200);
    for (int i = 0; i < 1000; ++i) CHECK(u.next(rng, 10) < 10);  // only 10 keys exist yet
}

TEST_CASE("bench keygen: latest favours the newest keys and follows inserts") {
    KeyChooser l(KeyDist::latest, 1000);
    Rng rng(5);
    std::uint64_t newest = 0, total = 0;
    for (int i = 0; i < 100000; ++i) {
        const auto k = l.next(rng, 5000);
        REQUIRE(k < 5000);
        if (k == 4999) ++newest;
        ++total;
    }
    CHECK(static_cast<double>(newest) / static_cast<double>(total) > 0.1);
    CHECK(parse_key_dist("zipfian") == KeyDist::zipfian);
    CHECK(!parse_key_dist("gaussian"));
}
