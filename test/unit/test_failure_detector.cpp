// Unit tests for the phi-accrual failure detector.
#include <cstdint>

#include <catch2/catch.hpp>

#include "core/rng.h"
#include "gossip/failure_detector.h"

using namespace shoal;
using namespace shoal::gossip;

namespace {

const NodeId k_peer{7};

Instant at_ms(std::int64_t ms) { return Instant{ms * 1000}; }

// Feeds `beats` heartbeats every `interval_ms`, starting at 0; returns the last time.
Instant regular(FailureDetector& fd, int beats, std::int64_t interval_ms) {
    for (int i = 0; i < beats; ++i) fd.heartbeat(k_peer, at_ms(i * interval_ms));
    return at_ms((beats - 1) * interval_ms);
}

}  // namespace

TEST_CASE("a peer never heard from is available with phi 0", "[gossip][detector]") {
    FailureDetector fd;
    CHECK(fd.phi(k_peer, at_ms(100000)) == 0.0);
    CHECK(fd.available(k_peer, at_ms(100000)));
    CHECK_FALSE(fd.known(k_peer));
}

TEST_CASE("bootstrap: one heartbeat is judged against the first estimate", "[gossip][detector]") {
    FailureDetector fd;
    fd.heartbeat(k_peer, at_ms(0));
    CHECK(fd.known(k_peer));
    CHECK(fd.available(k_peer, at_ms(1500)));
    CHECK_FALSE(fd.available(k_peer, at_ms(10000)));
}

TEST_CASE("suspects after missed heartbeats, phi grows with silence", "[gossip][detector]") {
    FailureDetector fd;
    const Instant last = regular(fd, 50, 1000);
    double previous = -1;
    for (std::int64_t ms = 0; ms <= 6000; ms += 250) {
        const double phi = fd.phi(k_peer, last + Duration::millis(ms));
        CHECK(phi >= previous);
        previous = phi;
    }
    CHECK(fd.available(k_peer, last + Duration::millis(1500)));   // on time
    CHECK(fd.available(k_peer, last + Duration::millis(2200)));   // one heartbeat lost
    CHECK_FALSE(fd.available(k_peer, last + Duration::millis(4000)));  // three lost
}

TEST_CASE("recovers as soon as the peer is heard again", "[gossip][detector]") {
    FailureDetector fd;
    const Instant last = regular(fd, 20, 1000);
    const Instant back = last + Duration::seconds(30);
    REQUIRE_FALSE(fd.available(k_peer, back));
    fd.heartbeat(k_peer, back);
    CHECK(fd.available(k_peer, back + Duration::millis(100)));
    // The 30 s outage is not a sample: the old rhythm still applies.
    CHECK(fd.available(k_peer, back + Duration::millis(1500)));
    CHECK_FALSE(fd.available(k_peer, back + Duration::millis(5000)));
}

TEST_CASE("tolerates jitter and single lost heartbeats", "[gossip][detector]") {
    FailureDetector fd;
    Rng rng(99);
    Instant t = at_ms(0);
    fd.heartbeat(k_peer, t);
    int suspected = 0;
    for (int i = 1; i < 2000; ++i) {
        t = t + Duration::millis(rng.between(700, 1300));
        if (i % 10 == 0) continue;  // a lost heartbeat, never two in a row
        if (!fd.available(k_peer, t)) ++suspected;
        fd.heartbeat(k_peer, t);
    }
    CHECK(suspected == 0);
    // And still detects a real failure within a few intervals.
    CHECK_FALSE(fd.available(k_peer, t + Duration::seconds(6)));
}

TEST_CASE("min std-dev keeps a perfectly regular peer from hair-trigger suspicion", "[gossip][detector]") {
    DetectorConfig config;
    config.acceptable_pause = Duration{};
    FailureDetector fd(config);
    const Instant last = regular(fd, 100, 1000);
    CHECK(fd.phi(k_peer, last + Duration::millis(1050)) < 1.0);
    CHECK(fd.available(k_peer, last + Duration::millis(1300)));
    CHECK_FALSE(fd.available(k_peer, last + Duration::millis(2000)));
}

TEST_CASE("forget drops a peer's history; duplicates are ignored", "[gossip][detector]") {
    FailureDetector fd;
    const Instant last = regular(fd, 10, 1000);
    fd.heartbeat(k_peer, last);  // duplicate timestamp
    CHECK(fd.available(k_peer, last + Duration::millis(1500)));
    fd.forget(k_peer);
    CHECK_FALSE(fd.known(k_peer));
    CHECK(fd.available(k_peer, last + Duration::seconds(100)));
}
