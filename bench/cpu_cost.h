// CPU cost of server processes, read from /proc/PID/stat (utime + stime). Processes
// can come and go (a node killed and restarted gets a new pid); each pid counts from
// its first sample to its last.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "runner.h"

namespace shoal::bench {

// utime + stime of a process in seconds; nullopt when it is gone.
std::optional<double> process_cpu_s(int pid);
// This process's user + system CPU in seconds.
double self_cpu_s();

class CpuSampler {
public:
    // `dev_dir`: a `shoal dev` folder whose nX.pid files name the nodes (re-read each sample).
    CpuSampler(std::string dev_dir, std::vector<int> pids);
    void sample();
    // Server CPU since the last reset (or construction), summed over processes.
    double total_s() const;
    void reset();  // forget history; the next sample is the new baseline
    CostReport report() const;
    bool empty() const { return dev_dir_.empty() && fixed_.empty(); }

private:
    struct Seen {
        std::string name;
        double first = 0, last = 0;
    };
    std::string dev_dir_;
    std::vector<int> fixed_;
    std::map<int, Seen> seen_;
    double self_first_ = 0, self_last_ = 0;
};

}  // namespace shoal::bench
