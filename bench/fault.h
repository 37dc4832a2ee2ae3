// Fault schedules: "at=10s kill n2; at=25s restart n2".
//
// Each item is `at=TIME ACTION ...`, items separated by ';'. TIME counts from the start
// of the measure phase: "10s", "1.5s", "500ms", "2m". ACTION is what `shoal dev` does
// to a local cluster: to a node (`kill n2`, `stop n2`, `cont n2`, `restart n2`,
// `clock n2 +30s` and `clock n2 0`: its wall clock set off and back), or,
// on a netns cluster, to the network (`partition 1/2,3`, `partition 1/2 --one-way`,
// `bridge 1 2,3`, `netem 2 delay=20ms loss=5%`, `heal`). NODE is "n2" or "2". Items are
// sorted by time.
//
// The report's fault phases: `before` until the first disruptive action (kill, stop,
// partition, bridge, netem) is issued; `during` from then until the last restoring one
// (restart, cont, heal) has completed; `after` from then on. A schedule with no restoring action stays `during` to the end.
// An operation counts in the phase it started and ended in; one that the fault window
// touched at all (started or ended in it, or spanned it) counts in `during`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace shoal::bench {

enum class FaultAction { kill, stop, cont, restart, partition, bridge, netem, heal, clock };

std::string_view fault_action_name(FaultAction a);
// kill, stop, partition, bridge and netem disrupt; cont, restart and heal restore.
inline bool fault_disrupts(FaultAction a) {
    return a == FaultAction::kill || a == FaultAction::stop || a == FaultAction::partition ||
           a == FaultAction::bridge || a == FaultAction::netem;
}

struct FaultEvent;
// The same for an event: `clock N 0` restores, `clock N +30s` disrupts.
bool fault_disrupts(const FaultEvent& e);

struct FaultEvent {
    std::int64_t at_ms = 0;
    FaultAction action = FaultAction::kill;
    int node = 0;                   // the node acted on (0: the network as a whole)
    std::vector<std::string> args;  // what follows, for `shoal dev ACTION [NODE] ARGS...`
};

// "kill n2", "partition 1/2,3": the event as the report names it.
std::string describe(const FaultEvent& e);

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
