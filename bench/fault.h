// Fault schedules: "at=10s kill n2; at=25s restart n2".
//
// Each item is `at=TIME ACTION NODE`, items separated by ';'. TIME counts from the start
// of the measure phase: "10s", "1.5s", "500ms", "2m". ACTION is what `shoal dev` does to
// a node of a local cluster: kill (SIGKILL), stop (SIGSTOP), cont (SIGCONT), restart.
// NODE is "n2" or "2". Items are sorted by time.
//
// The report's fault phases: `before` until the first kill or stop is issued; `during`
// from then until the last restart or cont has completed (the node serves again);
// `after` from then on. A schedule with no restoring action stays `during` to the end.
// An operation counts in the phase it started and ended in; one that the fault window
// touched at all (started or ended in it, or spanned it) counts in `during`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace shoal::bench {

enum class FaultAction { kill, stop, cont, restart };

std::string_view fault_action_name(FaultAction a);
// kill and stop take a node away; cont and restart bring it back.
inline bool fault_disrupts(FaultAction a) {
    return a == FaultAction::kill || a == FaultAction::stop;
}

struct FaultEvent {
    std::int64_t at_ms = 0;
    FaultAction action = FaultAction::kill;
    int node = 0;
};

struct FaultParse {
    std::vector<FaultEvent> events;
    std::string error;  // empty when parsing succeeded
};

FaultParse parse_faults(std::string_view text);

// "10s", "1.5s", "500ms", "2m", "250us" -> milliseconds (rounded down); nullopt when malformed.
std::optional<std::int64_t> parse_duration_ms(std::string_view text);

enum class FaultPhase : int { before = 0, during = 1, after = 2 };
constexpr int k_fault_phases = 3;
std::string_view fault_phase_name(FaultPhase p);

}  // namespace shoal::bench
