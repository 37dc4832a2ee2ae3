// Unit tests for shoal-bench's log-linear histogram: bucket arithmetic and the bound on
// the relative error of percentiles.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include <catch2/catch.hpp>

#include "core/rng.h"
#include "histogram.h"

using shoal::Rng;
using shoal::bench::Histogram;

TEST_CASE("bench histogram: every value falls in the bucket whose range holds it") {
    Rng rng(7);
    for (int i = 0; i < 200000; ++i) {
        const int bits = static_cast<int>(rng.below(64));
        const std::uint64_t v = bits == 0 ? rng.below(2) : (rng.next() >> (64 - bits));
        const auto idx = Histogram::index_of(v);
        REQUIRE(idx < Histogram::k_buckets);
        REQUIRE(Histogram::bucket_low(idx) <= v);
        REQUIRE(v - Histogram::bucket_low(idx) < Histogram::bucket_width(idx));
    }
    CHECK(Histogram::index_of(~std::uint64_t{0}) == Histogram::k_buckets - 1);
    for (std::uint64_t v = 0; v < 128; ++v) CHECK(Histogram::index_of(v) == v);
}

TEST_CASE("bench histogram: buckets tile the value range with no gap or overlap") {
    for (std::size_t i = 0; i + 1 < Histogram::k_buckets; ++i) {
        REQUIRE(Histogram::bucket_low(i) + Histogram::bucket_width(i) == Histogram::bucket_low(i + 1));
        // width / low bounds the relative error: at most 1/64 of the bucket's low end
        if (i >= 128) REQUIRE(Histogram::bucket_width(i) * 64 <= Histogram::bucket_low(i));
    }
}

TEST_CASE("bench histogram: percentiles are within the stated relative error of the exact sample") {
    Rng rng(42);
    Histogram h;
    std::vector<std::uint64_t> values;
    for (int i = 0; i < 100000; ++i) {
        // log-uniform from 1 ns to ~10 s
        const double x = std::exp(rng.unit() * std::log(1e10));
        const auto v = static_cast<std::uint64_t>(x);
        values.push_back(v);
        h.record(v);
    }
    std::sort(values.begin(), values.end());
    for (double q : {0.0, 0.001, 0.1, 0.5, 0.9, 0.99, 0.999, 0.9999, 1.0}) {
        auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(values.size())));
        rank = std::clamp<std::size_t>(rank, 1, values.size());
        const double exact = static_cast<double>(values[rank - 1]);
        const double got = static_cast<double>(h.percentile(q));
        INFO("q=" << q << " exact=" << exact << " got=" << got);
        CHECK(std::abs(got - exact) <= exact * Histogram::k_max_relative_error + 0.5);
    }
    CHECK(h.count() == values.size());
    CHECK(h.min() == values.front());
    CHECK(h.max() == values.back());
    CHECK(h.percentile(1.0) == values.back());
}

TEST_CASE("bench histogram: small values are exact; empty is zero; merge adds") {
    Histogram a, b;
    CHECK(a.percentile(0.5) == 0);
    CHECK(a.count() == 0);
    for (std::uint64_t v = 1; v <= 100; ++v) a.record(v);
    CHECK(a.percentile(0.5) == 50);
    CHECK(a.percentile(0.99) == 99);
    b.record(1000000);
    b.record(1000000);
    a.merge(b);
    CHECK(a.count() == 102);
    CHECK(a.max() == 1000000);
    CHECK(a.min() == 1);
    const auto top = a.percentile(1.0);
    CHECK(top == 1000000);
    CHECK(std::abs(a.mean() - (5050.0 + 2e6) / 102) < 1e-6);
    a.clear();
    CHECK(a.count() == 0);
    CHECK(a.max() == 0);
}
