#include "fault_runner.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>

namespace shoal::bench {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_between(Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double>(b - a).count();
}

std::string self_exe() {
    char buf[4096];
    const auto n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string("shoal-bench");
}

// Runs `shoal --dir DIR dev ACTION N` (the CLI beside this executable) in a child that
// closes every inherited descriptor first: a node restarted by it must not inherit our
// sockets or a lock file descriptor (e.g. from `flock LOCK shoal-bench`), which it
// would otherwise hold for its whole life. Returns the exit code (127: no CLI).
int run_dev_action(const std::string& dir, const FaultEvent& ev) {
    const std::string shoal = (std::filesystem::path(self_exe()).parent_path() / "shoal").string();
    std::vector<std::string> argv{"shoal", "--dir", dir, "dev", std::string(fault_action_name(ev.action))};
    if (ev.node != 0) argv.push_back(std::to_string(ev.node));
    argv.insert(argv.end(), ev.args.begin(), ev.args.end());
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    const pid_t pid = ::fork();
    if (pid < 0) return 127;
    if (pid == 0) {
        ::close_range(3, ~0U, 0);
        ::execv(shoal.c_str(), args.data());
        ::_exit(127);
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

}  // namespace

void FaultRunner::run() {
    std::size_t last_disrupt = 0, last_restore = 0;
    for (std::size_t i = 0; i < events_.size(); ++i)
        (fault_disrupts(events_[i]) ? last_disrupt : last_restore) = i + 1;
    for (std::size_t i = 0; i < events_.size(); ++i) {
        const auto& ev = events_[i];
        {
            std::unique_lock lock(mu_);
            if (cv_.wait_until(lock, t0_ + std::chrono::milliseconds(ev.at_ms), [this] { return stop_; })) return;
        }
        FaultRecord rec{ev, seconds_between(t0_, Clock::now()), 0, 0};
        if (fault_disrupts(ev) && phase_.load() == 0) phase_ = static_cast<int>(FaultPhase::during);
        std::printf("[%6.1fs] fault: %s\n", rec.issued_s, describe(ev).c_str());
        std::fflush(stdout);
        rec.exit_code = run_dev_action(dir_, ev);
        rec.done_s = seconds_between(t0_, Clock::now());
        if (i + 1 == last_restore && last_restore > last_disrupt) phase_ = static_cast<int>(FaultPhase::after);
        std::lock_guard lock(mu_);
        records_.push_back(rec);
    }
}

}  // namespace shoal::bench
