// The load engine: worker threads, each with its own io_context and connections, run a
// workload in a closed loop (C clients, each with one request outstanding) or an open
// loop (a target rate: request i is due at start + i/rate and its latency counts from
// that intended time, so a stalled server cannot hide its stall by slowing the client
// down — no coordinated omission).
//
// A run is: load (write every key once), warm-up (run, record nothing), then one or more
// measure steps. The caller's thread prints a live line each second and samples CPU.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "driver.h"
#include "check.h"
#include "fault.h"
#include "histogram.h"
#include "workload.h"

namespace shoal::bench {

struct RunSettings {
    DriverKind driver = DriverKind::native;
    std::vector<std::string> nodes;  // client addresses of the store
    Knobs knobs;
    WorkloadSpec workload;
    int clients = 50;      // closed loop: concurrent clients; open loop: connections
    int threads = 1;       // worker threads (each owns clients/threads connections)
    double rate = 0;       // ops/s; 0 = closed loop
    double duration_s = 10;
    std::uint64_t max_ops = 0;  // measure: stop after this many operations (0 = by duration)
    double warmup_s = 2;
    bool load = true;
    double load_max_s = 300;
    bool context_cache = true;  // updates carry the context of this process's last read of the key
    std::uint64_t max_outstanding = 20000;  // open loop: beyond this, a due request fails as "bench_backlog"
    std::uint64_t seed = 1;
    std::vector<FaultEvent> faults;
    std::string dev_dir;         // a `shoal dev` cluster: faults act on it, its shoald pids are costed
    std::vector<int> cost_pids;  // further server pids to cost (redis-server)
    bool live = true;            // print a line each second
    bool check = false;          // record cart adds for CartCheck (check.h): unique items, none dropped
    // RESP: carts are sets (a cart add is one SADD, a read SMEMBERS), in logical
    // database resp_db (-1: none selected). Only read and cart operations then.
    bool sets = false;
    int resp_db = -1;
    tls::Files tls;              // TLS to the nodes (from the dev cluster's folder, or --cacert/--cert/--key)
};

struct OpStats {
    Histogram latency_ns;  // successful operations only
    std::uint64_t ok = 0, not_found = 0, errors = 0;
    std::map<std::string, std::uint64_t> error_kinds;
    // Siblings each successful read saw (reads, and the read of a cart or rmw update).
    std::uint64_t reads_seen = 0, siblings_seen = 0, reads_with_siblings = 0, max_siblings = 0;
    void note_siblings(std::uint64_t n);
    void merge(const OpStats& o);
};

struct PhaseStats {
    std::array<OpStats, k_op_kinds> ops;
    void merge(const PhaseStats& o);
    OpStats all() const;
    OpStats writes() const;
};

struct SeriesRow {
    double t_s = 0;  // end of the interval, from the start of the measure step
    double ops_per_s = 0, errors_per_s = 0;
    double p50_ms = 0, p99_ms = 0, p999_ms = 0, max_ms = 0;
    FaultPhase phase = FaultPhase::before;
    double server_cpu_pct = 0;  // of one core, summed over the costed processes
};

struct FaultRecord {
    FaultEvent event;
    double issued_s = 0, done_s = 0;  // from the start of the measure step
    int exit_code = 0;
};

struct ProcessCost {
    int pid = 0;
    std::string name;
    double cpu_s = 0;
};

struct CostReport {
    double server_cpu_s = 0;  // utime + stime of the costed processes during the step
    double bench_cpu_s = 0;   // this process
    std::vector<ProcessCost> processes;
};

struct StepResult {
    double target_rate = 0;  // 0: closed loop
    double elapsed_s = 0;
    std::array<PhaseStats, k_fault_phases> phases;
    PhaseStats total;
    std::vector<SeriesRow> series;
    std::vector<FaultRecord> faults;
    CostReport cost;
    double ops_per_s() const;
};

struct LoadResult {
    std::uint64_t ok = 0, errors = 0;
    double elapsed_s = 0;
};

class Engine {
public:
    explicit Engine(RunSettings settings);
    ~Engine();
    Engine(const Engine&) = delete;
    Engine& operator=(const Engine&) = delete;

    LoadResult load();
    void warmup(double seconds, double rate);
    StepResult measure(double rate, double duration_s, std::uint64_t max_ops, const std::vector<FaultEvent>& faults);
    // What --check recorded (nullptr without it).
    CartCheck* check();

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace shoal::bench
