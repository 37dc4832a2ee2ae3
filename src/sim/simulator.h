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
    chaos,          // every fault kind, at random
    minority,       // one node crashed or partitioned away for the middle of the run
    hints,          // one replica down during writes, then back: hinted handoff
    wipe,           // after the writes, one replica's disk is wiped: anti-entropy refills it
    divergence,     // a partition for the middle of the run, both sides writing
    missed_delete,  // a replica down through deletes and longer than the tombstone grace
    corruption,     // stored values damaged on some replicas, found by checksum
    clock,          // the only faults are wall-clock steps of up to 30 s: no request may fail
    // Membership with data (membership.cpp): every node runs a gossiper beside its
    // replica Node; the ring comes from gossip and partitions move by handoff streams.
    grow,             // 3 nodes, then 4, 5, 6 join one by one during the workload
    shrink,           // 6 nodes, then 3 of them leave one after another
    replace,          // 4 nodes; one dies for good, is removed, and a new node joins
    crash_handoff,    // 3 -> 4 -> 5 with a stream's source or receiver crashed mid-handoff
    partition_join,   // joins on both sides of a network partition, healed later
    concurrent_join,  // 3 nodes, then 3 join at the same instant through different seeds
};

// The repair scenarios, in the order the "repair" mix cycles through them.
inline constexpr Scenario k_repair_scenarios[] = {Scenario::hints, Scenario::wipe, Scenario::divergence,
                                                  Scenario::missed_delete, Scenario::corruption};
// The membership scenarios, in the order the "membership" mix cycles through them.
inline constexpr Scenario k_membership_scenarios[] = {Scenario::grow,           Scenario::shrink,
                                                      Scenario::replace,        Scenario::crash_handoff,
                                                      Scenario::partition_join, Scenario::concurrent_join};
bool is_membership(Scenario s);
const char* scenario_name(Scenario s);

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
    std::uint32_t remove_percent = 5;
    std::uint32_t preload_keys = 0;  // bulk keys on every primary's disk at start
    std::uint32_t preload_value_bytes = 200;  // of operations: read, then delete with the context
    Duration duration = Duration::seconds(20);
    Duration settle = Duration::seconds(10);  // healed, no workload: repair finishes
    std::uint32_t n = 3, r = 2, w = 2;
    replica::ConflictMode conflict = replica::ConflictMode::dvv;
    bool read_all = false;  // reads ask every replica at once (replica::ReadFanout::all)
    // The teeth of the clock scenario: a clock jump moves a node's monotonic clock as
    // well, as on a node that times everything by its one wall clock.
    bool one_clock = false;
    store::SyncMode sync = store::SyncMode::batch;
    // A synced batch takes between these to reach the disk (as an fsync does), while
    // the node goes on; 0 max: at once.
    Duration commit_delay_min = Duration::micros(100);
    Duration commit_delay_max = Duration::micros(3000);
    FaultConfig faults;
    // Repair: on by default; turned off to show what the convergence checker catches.
    bool hinted_handoff = true;
    bool anti_entropy = true;
    Duration tombstone_grace = Duration::seconds(2);
    // Membership scenarios: the gossip round, and whether partitions move by the
    // replica's handoff streams. Off (a test of the checkers' teeth) reports every
    // move complete at once without streaming anything.
    Duration gossip_interval = Duration::millis(200);
    bool ownership_handoff = true;
    // Half of the odd keys are sets and half counters (replica/datatypes.h) in
    // namespaces of those data types: clients add items, remove what they read, and
    // increment. Their namespaces keep `conflict` like the default one (lww there is
    // the teeth: concurrent updates are lost).
    bool datatypes = false;
};

// Derives a run's config from its seed: cluster size, workload and faults vary.
SimConfig config_for_seed(std::uint64_t seed, Scenario scenario);

struct FaultCounts {
    std::uint64_t dropped = 0;
    std::uint64_t duplicated = 0;
    std::uint64_t delayed = 0;  // messages that took the slow path (reordering)
    std::uint64_t held_for_restart = 0;  // messages to a down node delivered to its next life
    std::uint64_t partitions = 0;
    std::uint64_t asymmetric_cuts = 0;
    std::uint64_t crashes = 0;
    std::uint64_t restarts = 0;
    std::uint64_t clock_jumps = 0;
    std::uint64_t disk_errors = 0;
    std::uint64_t wipes = 0;
    std::uint64_t corruptions = 0;
    std::uint64_t link_stalls = 0;
    std::uint64_t stalls_reopened_on_suspicion = 0;
    std::uint64_t stalls_reopened_by_watchdog = 0;
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
    // Writes acknowledged while fewer than W disks held them durably (sync != none).
    std::uint64_t acked_not_durable = 0;
    std::uint64_t dominated = 0;
    std::uint64_t foreign = 0;  // items reads returned that were written to another key
    std::uint64_t availability_attempted = 0;
    std::uint64_t availability_succeeded = 0;
    bool availability_checked = false;
    FaultCounts faults;
    // Repair, at the end: keys whose primaries disagree, deleted siblings live again,
    // hints never delivered; and what the repair paths did.
    std::uint64_t divergent_keys = 0;
    std::uint64_t resurrected = 0;
    std::uint64_t hints_left = 0;
    std::uint64_t hints_delivered = 0;
    // The turn drivers: batches persisted, the turns they carried, batches lost and
    // the replies those failed.
    std::uint64_t commits = 0;
    std::uint64_t commit_turns = 0;
    std::uint64_t commits_lost = 0;
    std::uint64_t commit_failed_replies = 0;
    std::uint64_t ae_exchanges = 0;
    std::uint64_t ae_keys_repaired = 0;
    std::uint64_t corrupt_repaired = 0;
    std::uint64_t tombstones_reaped = 0;
    // The wipe scenario: time from the empty restart until every key's primaries
    // agree (-1: never), the anti-entropy bytes sent meanwhile, and the data bytes
    // the wiped node holds once refilled.
    std::int64_t converge_us = -1;
    std::uint64_t refill_ae_bytes = 0;
    std::uint64_t refill_data_bytes = 0;
    // Then one key lost on the wiped node: time and anti-entropy bytes to restore it.
    std::int64_t one_key_us = -1;
    std::uint64_t one_key_ae_bytes = 0;
    // Membership scenarios: the scripted changes, what the handoff streams carried,
    // and the end checks (views agree and settle, N distinct primaries, every final
    // primary holds every acknowledged add).
    bool membership_checked = false;
    std::uint64_t joins = 0, leaves = 0, removes = 0, exits = 0;
    std::uint64_t handoff_keys_sent = 0;
    std::uint64_t handoff_keys_received = 0;
    std::uint64_t writes_forwarded = 0;
    std::uint64_t handoffs_completed = 0;
    std::uint32_t members_final = 0;
    std::uint64_t agreement_failures = 0;  // membership-agreement violations
    std::uint64_t owners_failures = 0;     // partitions without N distinct valid primaries
    std::uint64_t owner_missing = 0;       // (final primary, acknowledged add) pairs missing
    // Keys still held by a live node that is not one of their final primaries (a copy
    // that should have been handed over and dropped): stale-copy violations.
    std::uint64_t left_behind = 0;
    // Data types (--datatypes): acknowledged set adds and increments, the set adds
    // lost (also counted in lost_acked), counters outside [acknowledged, attempted].
    std::uint64_t dt_adds_acked = 0;
    std::uint64_t dt_increments_acked = 0;
    std::uint64_t dt_lost_adds = 0;
    std::uint64_t dt_counter_violations = 0;  // counters below their acknowledged increments
    std::uint64_t dt_overcount = 0;           // increments counted beyond those sent
    std::uint64_t deltas_sent = 0, deltas_refused = 0;  // data-type writes replicated as updates
    std::vector<std::string> violations;  // "checker: detail"
};

RunResult run_simulation(const SimConfig& config);

// The one command that replays a run.
std::string replay_command(const SimConfig& config);

}  // namespace shoal::sim
