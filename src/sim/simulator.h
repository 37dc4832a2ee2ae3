// shoal-sim's engine: many nodes of the real replication core in one process, on
// simulated time, over a simulated network and simulated disks, with faults chosen
// by a seeded RNG. The same config (seed included) gives the same run, event for
// event: its trace hash proves it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/types.h"
#include "replica/version.h"
#include "store/store.h"

namespace shoal::sim {

enum class Scenario {
    chaos,     // every fault kind, at random
    minority,  // one node crashed or partitioned away for the middle of the run
};

struct FaultConfig {
    Duration delay_min = Duration::micros(100);
    Duration delay_max = Duration::millis(2);
    double slow_probability = 0.01;  // a message takes up to slow_max extra: reordering
    Duration slow_max = Duration::millis(80);
    double drop = 0.0;
    double duplicate = 0.0;
    bool partitions = false;   // symmetric splits and asymmetric one-way cuts
    bool crashes = false;      // crash (losing unsynced writes) and later restart
    bool clock_skew = false;   // per-node clock offsets that jump
    bool disk_errors = false;  // failed commits (the turn's writes and acks are lost)
    Duration mean_fault_gap = Duration::seconds(2);
};

struct SimConfig {
    std::uint64_t seed = 1;
    Scenario scenario = Scenario::chaos;
    std::uint32_t nodes = 5;
    std::uint32_t partitions = 64;
    std::uint32_t clients = 6;
    std::uint32_t keys = 8;
    Duration duration = Duration::seconds(20);
    Duration settle = Duration::seconds(5);
    std::uint32_t n = 3, r = 2, w = 2;
    replica::ConflictMode conflict = replica::ConflictMode::dvv;
    store::SyncMode sync = store::SyncMode::batch;
    FaultConfig faults;
    // Repair: on by default; turned off to show what the convergence checker catches.
    bool hinted_handoff = true;
    bool anti_entropy = true;
    Duration tombstone_grace = Duration::seconds(2);
};

// Derives a run's config from its seed: cluster size, workload and faults vary.
SimConfig config_for_seed(std::uint64_t seed, Scenario scenario);

struct FaultCounts {
    std::uint64_t dropped = 0;
    std::uint64_t duplicated = 0;
    std::uint64_t delayed = 0;  // messages that took the slow path (reordering)
    std::uint64_t partitions = 0;
    std::uint64_t asymmetric_cuts = 0;
    std::uint64_t crashes = 0;
    std::uint64_t restarts = 0;
    std::uint64_t clock_jumps = 0;
    std::uint64_t disk_errors = 0;
    void add(const FaultCounts& o);
};

struct RunResult {
    std::uint64_t seed = 0;
    std::uint64_t trace_hash = 0;
    std::uint64_t events = 0;
    std::uint64_t ops = 0;  // client requests submitted to nodes
    std::uint64_t acked_writes = 0;
    std::uint64_t failed_requests = 0;
    std::uint64_t siblings_seen = 0;  // reads that returned more than one sibling
    std::uint64_t lost_acked = 0;
    std::uint64_t dominated = 0;
    std::uint64_t availability_attempted = 0;
    std::uint64_t availability_succeeded = 0;
    bool availability_checked = false;
    FaultCounts faults;
    std::vector<std::string> violations;  // "checker: detail"
};

RunResult run_simulation(const SimConfig& config);

// The one command that replays a run.
std::string replay_command(const SimConfig& config);

}  // namespace shoal::sim
