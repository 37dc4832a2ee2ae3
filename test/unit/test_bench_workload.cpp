// Unit tests for shoal-bench's workload presets, operation mix and value sizes.
#include <array>
#include <cmath>

#include <catch2/catch.hpp>

#include "core/rng.h"
#include "workload.h"

using shoal::Rng;
using namespace shoal::bench;

namespace {
std::array<double, k_op_kinds> draw(const Mix& mix, int n) {
    OpChooser c(mix);
    Rng rng(11);
    std::array<double, k_op_kinds> f{};
    for (int i = 0; i < n; ++i) f[static_cast<std::size_t>(c.next(rng))] += 1.0 / n;
    return f;
}
std::size_t at(OpKind k) {
    return static_cast<std::size_t>(k);
}
}  // namespace

TEST_CASE("bench workload: presets draw their documented mix") {
    struct Case {
        const char* name;
        double read, update, insert, rmw, cart;
    };
    for (auto c : {Case{"a", 0.5, 0.5, 0, 0, 0}, Case{"b", 0.95, 0.05, 0, 0, 0}, Case{"c", 1, 0, 0, 0, 0},
                   Case{"f", 0.5, 0, 0, 0.5, 0}, Case{"cart", 0.2, 0, 0, 0, 0.8}, Case{"session", 0.7, 0.2, 0.1, 0, 0}}) {
        WorkloadSpec s;
        REQUIRE(apply_preset(c.name, s));
        const auto f = draw(s.mix, 200000);
        INFO("preset " << c.name);
        CHECK(std::abs(f[at(OpKind::read)] - c.read) < 0.01);
        CHECK(std::abs(f[at(OpKind::update)] - c.update) < 0.01);
        CHECK(std::abs(f[at(OpKind::insert)] - c.insert) < 0.01);
        CHECK(std::abs(f[at(OpKind::rmw)] - c.rmw) < 0.01);
        CHECK(std::abs(f[at(OpKind::cart)] - c.cart) < 0.01);
    }
    WorkloadSpec s;
    CHECK(!apply_preset("z", s));
    REQUIRE(apply_preset("session", s));
    CHECK(s.dist == KeyDist::latest);
    CHECK(s.ttl_s > 0);
    REQUIRE(apply_preset("a", s));
    CHECK(s.ttl_s == 0);
    CHECK(s.dist == KeyDist::zipfian);
}

TEST_CASE("bench workload: a kind with zero weight is never drawn") {
    Mix m;
    m.weight[at(OpKind::cart)] = 3;
    const auto f = draw(m, 10000);
    CHECK(f[at(OpKind::cart)] == Approx(1.0));
    CHECK(op_writes(OpKind::cart));
    CHECK(!op_writes(OpKind::read));
}

TEST_CASE("bench workload: value sizes, fixed or a range") {
    std::uint32_t lo = 0, hi = 0;
    REQUIRE(parse_value_size("100", lo, hi));
    CHECK((lo == 100 && hi == 100));
    REQUIRE(parse_value_size("64-1024", lo, hi));
    CHECK((lo == 64 && hi == 1024));
    CHECK(!parse_value_size("1024-64", lo, hi));
    CHECK(!parse_value_size("0", lo, hi));
    CHECK(!parse_value_size("abc", lo, hi));
    CHECK(!parse_value_size("10-", lo, hi));
}
