// shoal-bench's fault schedule runner: kills, stops, resumes and restarts nodes of a
// `shoal dev` cluster at their times, on a thread of its own, through the shoal CLI.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "fault.h"
#include "runner.h"

namespace shoal::bench {

// Runs a fault schedule on its own thread against a `shoal dev` folder and moves the
// engine's fault phase: `during` from the first disruptive action, `after` once the
// last restoring action (after the last disruptive one) has completed.
class FaultRunner {
public:
    FaultRunner(std::vector<FaultEvent> events, std::string dir, std::atomic<int>& phase,
                std::chrono::steady_clock::time_point t0)
        : events_(std::move(events)), dir_(std::move(dir)), phase_(phase), t0_(t0) {
        if (!events_.empty()) thread_ = std::thread([this] { run(); });
    }
    ~FaultRunner() { stop(); }

    void stop() {
        {
            std::lock_guard lock(mu_);
            stop_ = true;
        }
        cv_.notify_all();
        if (thread_.joinable()) thread_.join();
    }
    std::vector<FaultRecord> records() {
        std::lock_guard lock(mu_);
        return records_;
    }

private:
    void run();

    std::vector<FaultEvent> events_;
    std::string dir_;
    std::atomic<int>& phase_;
    std::chrono::steady_clock::time_point t0_;
    std::mutex mu_;
    std::condition_variable cv_;
    bool stop_ = false;
    std::vector<FaultRecord> records_;
    std::thread thread_;
};

}  // namespace shoal::bench
