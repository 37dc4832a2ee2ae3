// The process_* families every Prometheus exporter offers, read from the kernel, and
// shoal_build_info.
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "core/build_info.h"
#include "net/metrics.h"

namespace shoal::net {

namespace {

// Seconds since the epoch at which this process started (from /proc: its start tick
// after boot, and the boot time).
double start_time_seconds() {
    std::ifstream stat("/proc/self/stat");
    std::string line;
    std::getline(stat, line);
    const auto paren = line.rfind(')');
    if (paren == std::string::npos) return 0;
    std::istringstream fields(line.substr(paren + 2));
    std::string field;
    unsigned long long start_ticks = 0;
    for (int i = 3; i <= 22 && fields >> field; ++i) {
        if (i == 22) start_ticks = std::stoull(field);
    }
    std::ifstream kstat("/proc/stat");
    unsigned long long btime = 0;
    for (std::string key; kstat >> key;) {
        if (key == "btime") {
            kstat >> btime;
            break;
        }
    }
    const long hz = ::sysconf(_SC_CLK_TCK);
    return hz > 0 ? static_cast<double>(btime) + static_cast<double>(start_ticks) / static_cast<double>(hz) : 0;
}

void sample(std::string& out, const char* name, const char* type, double value) {
    render_family(out, name, type);
    char line[160];
    std::snprintf(line, sizeof line, "%s %.6f\n", name, value);
    out += line;
}

}  // namespace

void render_process_metrics(std::string& out) {
    rusage ru{};
    ::getrusage(RUSAGE_SELF, &ru);
    const double cpu = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                       static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
    sample(out, "process_cpu_seconds_total", "counter", cpu);
    long pages = 0, resident = 0;
    if (std::FILE* f = std::fopen("/proc/self/statm", "r")) {
        if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
        std::fclose(f);
    }
    sample(out, "process_resident_memory_bytes", "gauge", static_cast<double>(resident) * ::sysconf(_SC_PAGESIZE));
    std::error_code ec;
    std::size_t fds = 0;
    for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
         !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
        ++fds;
    sample(out, "process_open_fds", "gauge", static_cast<double>(fds));
    rlimit rl{};
    ::getrlimit(RLIMIT_NOFILE, &rl);
    sample(out, "process_max_fds", "gauge", static_cast<double>(rl.rlim_cur));
    sample(out, "process_start_time_seconds", "gauge", start_time_seconds());
    render_family(out, "shoal_build_info", "gauge");
    out += std::string("shoal_build_info{version=\"") + std::string(build_version()) + "\",revision=\"" +
           std::string(build_revision()) + "\"} 1\n";
}

}  // namespace shoal::net
