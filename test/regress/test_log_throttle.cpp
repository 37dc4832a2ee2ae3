// Regression of the bounds issue, defect 8: bad frames, refused connections and
// accept failures each logged a line per event (58k lines, 7 MB on one node under
// fuzzing). Lines of one kind are now limited to a burst and then one a second, and
// the next line written says how many were dropped.
#include <catch2/catch.hpp>

#include "net/log.h"

using shoal::log::Throttle;

TEST_CASE("regress: a flood of one kind of log line is cut to a burst, then one a second", "[regress][log]") {
    Throttle t(20, 1000);
    std::uint64_t dropped = 0, written = 0, reported = 0;
    // 58,000 bad frames in 10 seconds.
    for (int i = 0; i < 58'000; ++i) {
        const std::int64_t now_ms = i * 10'000 / 58'000;
        if (t.admit("closing client connection", now_ms, dropped)) {
            ++written;
            reported += dropped;
        }
    }
    CHECK(written <= 20 + 10);  // the burst, and one per second after it
    CHECK(written >= 20);
    CHECK(t.dropped_total() == 58'000 - written);
    // The next line, a second later, says how many were dropped since the last one.
    REQUIRE(t.admit("closing client connection", 11'000, dropped));
    CHECK(reported + dropped == t.dropped_total());
    CHECK(dropped > 0);
}

TEST_CASE("regress: kinds are limited apart; a quiet kind keeps its burst", "[regress][log]") {
    Throttle t(3, 1000);
    std::uint64_t dropped = 0;
    for (int i = 0; i < 100; ++i) (void)t.admit("bad frame", 0, dropped);
    CHECK(t.admit("peer link up", 0, dropped));
    CHECK(dropped == 0);
    CHECK_FALSE(t.admit("bad frame", 999, dropped));
    CHECK(t.admit("bad frame", 2000, dropped));
    CHECK(dropped == 98);  // 100 - 3 in the burst, and the one at 999 ms
    // Kinds past the tracked number share one bucket instead of growing the map.
    Throttle many(1, 1000);
    std::uint64_t admitted = 0;
    for (std::size_t i = 0; i < Throttle::k_max_kinds + 50; ++i) {
        admitted += many.admit("kind " + std::to_string(i), 0, dropped) ? 1 : 0;
    }
    CHECK(admitted == Throttle::k_max_kinds + 1);  // the 50 extra share one bucket: one line
}
