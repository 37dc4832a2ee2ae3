// Unit tests for the failure detector: phi-accrual over arrivals, misses, probes.
#include <cstdint>

#include <catch2/catch.hpp>

#include "core/rng.h"
#include "health/detector.h"

using namespace shoal;
using namespace shoal::health;

namespace {

const NodeId k_peer{7};

Instant at_ms(std::int64_t ms) { return Instant{ms * 1000}; }

// Feeds `beats` heartbeats every `interval_ms`, starting at 0; returns the last time.
Instant regular(Detector& fd, int beats, std::int64_t interval_ms) {
    for (int i = 0; i < beats; ++i) fd.heard(k_peer, at_ms(i * interval_ms));
    return at_ms((beats - 1) * interval_ms);
}

}  // namespace

TEST_CASE("a peer never heard from is not silent, with phi 0", "[health][detector]") {
    Detector fd;
    CHECK(fd.phi(k_peer, at_ms(100000)) == 0.0);
    CHECK_FALSE(fd.silent(k_peer, at_ms(100000)));
    CHECK_FALSE(fd.known(k_peer));
}

TEST_CASE("bootstrap: one heartbeat is judged against the first estimate", "[health][detector]") {
    Detector fd;
    fd.heard(k_peer, at_ms(0));
    CHECK(fd.known(k_peer));
    CHECK_FALSE(fd.silent(k_peer, at_ms(1500)));
    CHECK(fd.silent(k_peer, at_ms(10000)));
}

TEST_CASE("suspects after missed heartbeats, phi grows with silence", "[health][detector]") {
    Detector fd;
    const Instant last = regular(fd, 50, 1000);
    double previous = -1;
    for (std::int64_t ms = 0; ms <= 6000; ms += 250) {
        const double phi = fd.phi(k_peer, last + Duration::millis(ms));
        CHECK(phi >= previous);
        previous = phi;
    }
    CHECK_FALSE(fd.silent(k_peer, last + Duration::millis(1500)));   // on time
    CHECK_FALSE(fd.silent(k_peer, last + Duration::millis(2200)));   // one heartbeat lost
    CHECK(fd.silent(k_peer, last + Duration::millis(4000)));  // three lost
}

TEST_CASE("recovers as soon as the peer is heard again", "[health][detector]") {
    Detector fd;
    const Instant last = regular(fd, 20, 1000);
    const Instant back = last + Duration::seconds(30);
    REQUIRE(fd.silent(k_peer, back));
    fd.heard(k_peer, back);
    CHECK_FALSE(fd.silent(k_peer, back + Duration::millis(100)));
    // The 30 s outage is not a sample: the old rhythm still applies.
    CHECK_FALSE(fd.silent(k_peer, back + Duration::millis(1500)));
    CHECK(fd.silent(k_peer, back + Duration::millis(5000)));
}

TEST_CASE("tolerates jitter and single lost heartbeats", "[health][detector]") {
    Detector fd;
    Rng rng(99);
    Instant t = at_ms(0);
    fd.heard(k_peer, t);
    int suspected = 0;
    for (int i = 1; i < 2000; ++i) {
        t = t + Duration::millis(rng.between(700, 1300));
        if (i % 10 == 0) continue;  // a lost heartbeat, never two in a row
        if (fd.silent(k_peer, t)) ++suspected;
        fd.heard(k_peer, t);
    }
    CHECK(suspected == 0);
    // And still detects a real failure within a few intervals.
    CHECK(fd.silent(k_peer, t + Duration::seconds(6)));
}

TEST_CASE("min std-dev keeps a perfectly regular peer from hair-trigger suspicion", "[health][detector]") {
    DetectorConfig config;
    config.acceptable_pause = Duration{};
    Detector fd(config);
    const Instant last = regular(fd, 100, 1000);
    CHECK(fd.phi(k_peer, last + Duration::millis(1050)) < 1.0);
    CHECK_FALSE(fd.silent(k_peer, last + Duration::millis(1300)));
    CHECK(fd.silent(k_peer, last + Duration::millis(2000)));
}

TEST_CASE("forget drops a peer's history; duplicates are ignored", "[health][detector]") {
    Detector fd;
    const Instant last = regular(fd, 10, 1000);
    fd.heard(k_peer, last);  // duplicate timestamp
    CHECK_FALSE(fd.silent(k_peer, last + Duration::millis(1500)));
    fd.forget(k_peer);
    CHECK_FALSE(fd.known(k_peer));
    CHECK_FALSE(fd.silent(k_peer, last + Duration::seconds(100)));
}

TEST_CASE("a miss makes a peer down until it answers; heartbeats alone do not lift it", "[health][detector]") {
    Detector fd;
    const Instant last = regular(fd, 10, 1000);
    REQUIRE(fd.up(k_peer, last));
    fd.missed(k_peer, last);
    CHECK_FALSE(fd.up(k_peer, last));
    CHECK_FALSE(fd.silent(k_peer, last));  // its frames still arrive: not silent
    fd.heard(k_peer, last + Duration::millis(1000));
    CHECK_FALSE(fd.up(k_peer, last + Duration::millis(1000)));  // gossip is not an answer
    fd.answered(k_peer, last + Duration::millis(1100));
    CHECK(fd.up(k_peer, last + Duration::millis(1100)));
}

TEST_CASE("an answer is a sample for a known peer and creates no history", "[health][detector]") {
    Detector fd;
    fd.answered(k_peer, at_ms(0));
    CHECK_FALSE(fd.known(k_peer));
    CHECK(fd.up(k_peer, at_ms(100000)));  // no history: never silent
    const Instant last = regular(fd, 10, 1000);
    REQUIRE(fd.silent(k_peer, last + Duration::seconds(30)));
    fd.answered(k_peer, last + Duration::seconds(30));  // an arrival like any other
    CHECK(fd.up(k_peer, last + Duration::seconds(30) + Duration::millis(100)));
}

TEST_CASE("probes: a missed or silent peer is due at once, then once per interval", "[health][detector]") {
    DetectorConfig config;
    config.probe_interval = Duration::millis(250);
    Detector fd(config);
    const NodeId other{9};
    fd.missed(k_peer, at_ms(0));
    CHECK(fd.due_probes(at_ms(0)) == std::vector<NodeId>{k_peer});
    CHECK(fd.due_probes(at_ms(100)).empty());
    CHECK(fd.due_probes(at_ms(250)) == std::vector<NodeId>{k_peer});
    fd.heard(other, at_ms(0));
    // other falls silent at some point in 30 s: due with the missed peer, in id order.
    CHECK(fd.due_probes(at_ms(30000)) == std::vector<NodeId>{k_peer, other});
    fd.answered(k_peer, at_ms(30010));
    fd.heard(other, at_ms(30020));
    CHECK(fd.due_probes(at_ms(30300)).empty());  // both up again
    fd.missed(k_peer, at_ms(30400));
    CHECK(fd.due_probes(at_ms(30400)) == std::vector<NodeId>{k_peer});  // a new fall: at once
}

TEST_CASE("newly silent: each fall reported once, none for a peer already missed", "[health][detector]") {
    Detector fd;
    const NodeId other{9};
    regular(fd, 10, 1000);
    fd.heard(other, at_ms(9000));
    CHECK(fd.newly_silent(at_ms(9500)).empty());
    fd.missed(other, at_ms(9500));  // routing already goes around other
    const Instant late = at_ms(60000);
    CHECK(fd.newly_silent(late) == std::vector<NodeId>{k_peer});
    CHECK(fd.newly_silent(late + Duration::seconds(1)).empty());
    fd.heard(k_peer, late + Duration::seconds(2));  // back
    CHECK(fd.newly_silent(late + Duration::seconds(2)).empty());
    CHECK(fd.newly_silent(late + Duration::seconds(60)) == std::vector<NodeId>{k_peer});  // and gone again
}

TEST_CASE("forgetting histories keeps misses; forget drops a peer altogether", "[health][detector]") {
    Detector fd;
    const Instant last = regular(fd, 10, 1000);
    fd.missed(k_peer, last);
    fd.forget_histories();
    CHECK_FALSE(fd.known(k_peer));
    CHECK_FALSE(fd.up(k_peer, last + Duration::seconds(100)));  // the miss stands
    fd.forget(k_peer);
    CHECK(fd.up(k_peer, last + Duration::seconds(100)));
    CHECK(fd.due_probes(last + Duration::seconds(100)).empty());
}
