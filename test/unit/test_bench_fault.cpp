// Unit tests for shoal-bench's fault-schedule parsing.
#include <catch2/catch.hpp>

#include <set>

#include "driver.h"
#include "fault.h"
#include "check.h"
#include "report.h"

using namespace shoal::bench;

TEST_CASE("bench fault: a schedule parses, sorted by time") {
    const auto p = parse_faults("at=25s restart n2; at=10s kill n2 ;at=1.5s stop 3; at=500ms cont n3;");
    REQUIRE(p.error.empty());
    REQUIRE(p.events.size() == 4);
    CHECK(p.events[0].at_ms == 500);
    CHECK(p.events[0].action == FaultAction::cont);
    CHECK(p.events[0].node == 3);
    CHECK(p.events[1].at_ms == 1500);
    CHECK(p.events[1].action == FaultAction::stop);
    CHECK(p.events[2].at_ms == 10000);
    CHECK(p.events[2].action == FaultAction::kill);
    CHECK(p.events[2].node == 2);
    CHECK(p.events[3].action == FaultAction::restart);
    CHECK(fault_disrupts(FaultAction::kill));
    CHECK(!fault_disrupts(FaultAction::restart));
    CHECK(parse_faults("").events.empty());
}

TEST_CASE("bench fault: malformed schedules say what is wrong") {
    for (const char* bad : {"kill n2", "at=10 kill n2", "at=10s explode n2", "at=10s kill", "at=10s kill nx",
                            "at=10s kill n0", "at=-1s kill n2", "at=10s kill n2 now", "when=10s kill n2"}) {
        INFO(bad);
        CHECK(!parse_faults(bad).error.empty());
    }
}

TEST_CASE("bench fault: durations") {
    CHECK(parse_duration_ms("10s") == 10000);
    CHECK(parse_duration_ms("1.5s") == 1500);
    CHECK(parse_duration_ms("250ms") == 250);
    CHECK(parse_duration_ms("2m") == 120000);
    CHECK(!parse_duration_ms("10"));
    CHECK(!parse_duration_ms("s"));
    CHECK(!parse_duration_ms("10h"));
}

TEST_CASE("bench http driver: keys are percent-encoded except unreserved characters and '/'") {
    CHECK(url_encode_key("cart/alice") == "cart/alice");
    CHECK(url_encode_key("a b?c") == "a%20b%3Fc");
}

TEST_CASE("bench fault: phase durations come from the fault events' times") {
    StepResult r;
    r.elapsed_s = 10;
    CHECK(phase_seconds(r, FaultPhase::before) == 10);  // no faults: all before
    CHECK(phase_seconds(r, FaultPhase::during) == 0);
    // kill at 2.0 s; restart issued at 5.0 s, serving again at 5.5 s.
    FaultRecord kill{FaultEvent{2000, FaultAction::kill, 2}, 2.0, 2.01, 0};
    FaultRecord restart{FaultEvent{5000, FaultAction::restart, 2}, 5.0, 5.5, 0};
    r.faults = {kill, restart};
    CHECK(phase_seconds(r, FaultPhase::before) == Approx(2.0));
    CHECK(phase_seconds(r, FaultPhase::during) == Approx(3.5));
    CHECK(phase_seconds(r, FaultPhase::after) == Approx(4.5));
    // No restore after the last disruption: during runs to the end.
    r.faults = {kill};
    CHECK(phase_seconds(r, FaultPhase::during) == Approx(8.0));
    CHECK(phase_seconds(r, FaultPhase::after) == 0);
}

TEST_CASE("bench check: a connection's read that misses an add it saw acknowledged is stale") {
    CHECK(cart_items({"a,b,", "b,c"}) == std::set<std::string>{"a", "b", "c"});
    CartCheck check;
    check.acked(1, "cart/1", "x");
    check.read(1, "cart/1", {"x,y"});  // sees it
    check.read(2, "cart/1", {"y"});    // another connection: not its own add
    check.read(1, "cart/1", {"y"});    // misses its own acknowledged add: stale
    check.read(1, "cart/2", {""});     // nothing acknowledged there
    const CheckReport r = check.verify({}, 0);  // no nodes: counts only
    CHECK(r.reads == 4);
    CHECK(r.stale_reads == 1);
    CHECK(r.acked_adds == 1);
    CHECK(r.lost_adds == 1);  // no node returned it
}

TEST_CASE("bench fault: network and clock actions parse with their arguments") {
    const FaultParse p = parse_faults(
        "at=1s partition 1/2,3 --one-way; at=2s bridge 1 2,3; at=3s netem n2 delay=20ms loss=5%; at=4s heal; "
        "at=5s clock n2 +30s; at=6s clock 2 0");
    REQUIRE(p.error.empty());
    REQUIRE(p.events.size() == 6);
    CHECK(describe(p.events[0]) == "partition 1/2,3 --one-way");
    CHECK(describe(p.events[1]) == "bridge 1 2,3");
    CHECK(describe(p.events[2]) == "netem n2 delay=20ms loss=5%");
    CHECK(describe(p.events[3]) == "heal");
    CHECK(describe(p.events[4]) == "clock n2 +30s");
    CHECK(fault_disrupts(p.events[0]));
    CHECK_FALSE(fault_disrupts(p.events[3]));
    CHECK(fault_disrupts(p.events[4]));
    CHECK_FALSE(fault_disrupts(p.events[5]));  // the clock set right again restores
    CHECK_FALSE(parse_faults("at=1s heal n2").error.empty());
    CHECK_FALSE(parse_faults("at=1s clock n2").error.empty());
    CHECK_FALSE(parse_faults("at=1s bridge 1").error.empty());
}
