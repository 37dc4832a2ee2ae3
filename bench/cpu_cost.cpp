#include "cpu_cost.h"

#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "client/dev_cluster.h"

namespace shoal::bench {

std::optional<double> process_cpu_s(int pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string text;
    if (!in || !std::getline(in, text)) return std::nullopt;
    const auto close = text.rfind(')');
    if (close == std::string::npos) return std::nullopt;
    std::istringstream fields(text.substr(close + 2));
    std::string state;
    fields >> state;
    if (state == "Z" || state == "X") return std::nullopt;  // dead, not yet reaped
    std::string skip;
    for (int i = 4; i <= 13; ++i) fields >> skip;  // fields 4..13
    unsigned long long utime = 0, stime = 0;       // fields 14 and 15, in clock ticks
    if (!(fields >> utime >> stime)) return std::nullopt;
    return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

double self_cpu_s() {
    rusage u{};
    ::getrusage(RUSAGE_SELF, &u);
    auto s = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
    return s(u.ru_utime) + s(u.ru_stime);
}

CpuSampler::CpuSampler(std::string dev_dir, std::vector<int> pids) : dev_dir_(std::move(dev_dir)), fixed_(std::move(pids)) {
    reset();
}

void CpuSampler::reset() {
    seen_.clear();
    self_first_ = self_last_ = self_cpu_s();
    sample();
}

void CpuSampler::sample() {
    std::vector<std::pair<int, std::string>> pids;
    for (int p : fixed_) pids.emplace_back(p, "pid " + std::to_string(p));
    if (!dev_dir_.empty()) {
        for (const auto& n : client::dev_nodes(dev_dir_)) {
            std::ifstream in(dev_dir_ + "/n" + std::to_string(n.id) + ".pid");
            int pid = 0;
            if (in >> pid && pid > 0) pids.emplace_back(pid, "n" + std::to_string(n.id));
        }
    }
    for (const auto& [pid, name] : pids) {
        const auto cpu = process_cpu_s(pid);
        if (!cpu) continue;
        auto [it, fresh] = seen_.try_emplace(pid, Seen{name, *cpu, *cpu});
        it->second.last = *cpu;
    }
    self_last_ = self_cpu_s();
}

double CpuSampler::total_s() const {
    double sum = 0;
    for (const auto& [pid, s] : seen_) sum += s.last - s.first;
    return sum;
}

CostReport CpuSampler::report() const {
    CostReport r;
    r.server_cpu_s = total_s();
    r.bench_cpu_s = self_last_ - self_first_;
    for (const auto& [pid, s] : seen_) r.processes.push_back(ProcessCost{pid, s.name, s.last - s.first});
    return r;
}

}  // namespace shoal::bench
