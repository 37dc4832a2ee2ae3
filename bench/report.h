// What a run prints and writes: the final table (per operation and, with faults, per
// phase), the CSV time series, the JSON summary and the gnuplot figure.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "runner.h"

namespace shoal::bench {

struct SweepStep {
    StepResult result;
    bool passed = false;
    std::string why;  // when it failed: which bound it broke
};

struct RunReport {
    RunSettings settings;
    std::string command_line;
    LoadResult load;
    bool loaded = false;
    std::vector<StepResult> steps;  // one, or a sweep's steps
    std::vector<SweepStep> sweep;   // filled in sweep mode
    double sweep_bound_ms = 0;
    double sweep_best_rate = 0;
};

// How long each fault phase lasted, from the fault records' times (as the engine moves
// the phase): before until the first disruptive action was issued; during until the
// last restoring action after the last disruptive one completed (else to the end);
// after, the rest. Without disruptive actions everything is `before`.
double phase_seconds(const StepResult& r, FaultPhase p);

void print_table(std::FILE* out, const StepResult& r);
void print_sweep(std::FILE* out, const RunReport& r);
// Time series, one row per second: t_s,ops_per_s,errors_per_s,p50_ms,p99_ms,p999_ms,max_ms,phase,server_cpu_pct.
bool write_csv(const std::string& path, const StepResult& r, std::string& error);
std::string summary_json(const RunReport& r);
// Renders throughput and latency over time, with fault events marked, to a PNG via gnuplot.
bool write_plot(const std::string& png, const std::string& csv, const StepResult& r, const std::string& title,
                std::string& error);

std::string git_revision();

// `shoal-bench --table FILE.json...`: one Markdown table, a row per summary file
// (label: the file name), for bench/README.md. False (with `error`) when a file is unreadable.
bool print_markdown_table(std::FILE* out, const std::vector<std::string>& files, std::string& error);

}  // namespace shoal::bench
