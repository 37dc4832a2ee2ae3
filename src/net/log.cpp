#include "net/log.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <string>
#include <utility>

namespace shoal::log {

namespace {
std::atomic<int> g_level{static_cast<int>(Level::info)};
std::mutex g_throttle_mutex;
Throttle g_throttle;  // guarded by g_throttle_mutex

const char* name(Level level) {
    switch (level) {
        case Level::debug: return "debug";
        case Level::info: return "info";
        case Level::warn: return "warn";
        case Level::error: return "error";
    }
    return "info";
}
}  // namespace

Throttle::Throttle(std::uint32_t burst, std::int64_t refill_ms) : burst_(burst), refill_ms_(refill_ms) {}

bool Throttle::admit(std::string_view kind, std::int64_t now_ms, std::uint64_t& dropped) {
    auto it = buckets_.find(kind);
    if (it == buckets_.end()) {
        if (buckets_.size() >= k_max_kinds) kind = "";  // the shared bucket
        it = buckets_.find(kind);
        if (it == buckets_.end()) {
            it = buckets_.emplace(std::string(kind), Bucket{}).first;
            it->second.credit_ms = static_cast<std::int64_t>(burst_) * refill_ms_;
            it->second.last_ms = now_ms;
        }
    }
    Bucket& b = it->second;
    const std::int64_t full = static_cast<std::int64_t>(burst_) * refill_ms_;
    if (now_ms > b.last_ms) {
        b.credit_ms = std::min(full, b.credit_ms + (now_ms - b.last_ms));
        b.last_ms = now_ms;
    }
    if (b.credit_ms < refill_ms_) {
        ++b.dropped;
        ++dropped_total_;
        return false;
    }
    b.credit_ms -= refill_ms_;
    dropped = std::exchange(b.dropped, 0);
    return true;
}

std::uint64_t suppressed_total() {
    std::lock_guard lock(g_throttle_mutex);
    return g_throttle.dropped_total();
}

std::string quoted(std::string_view text) {
    std::string out = "\"";
    for (char c : text.substr(0, 200)) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') out.push_back('\\');
        out.push_back(u >= 0x20 && u < 0x7f ? c : '?');
    }
    out.push_back('"');
    return out;
}

void set_level(Level level) {
    g_level.store(static_cast<int>(level));
}

void log_exception(std::string_view what, const std::exception_ptr& e) {
    if (!e) return;
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& ex) {
        error(what, "error=" + quoted(ex.what()));
    } catch (...) {
        error(what, "error=unknown");
    }
}

bool enabled(Level level) {
    return static_cast<int>(level) >= g_level.load(std::memory_order_relaxed);
}

bool parse_level(std::string_view text, Level& out) {
    if (text == "debug")
        out = Level::debug;
    else if (text == "info")
        out = Level::info;
    else if (text == "warn")
        out = Level::warn;
    else if (text == "error")
        out = Level::error;
    else
        return false;
    return true;
}

void write(Level level, std::string_view msg, std::string_view fields) {
    if (!enabled(level)) return;
    std::uint64_t dropped = 0;
    {
        const auto mono = std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::steady_clock::now().time_since_epoch())
                              .count();
        std::lock_guard lock(g_throttle_mutex);
        if (!g_throttle.admit(msg, mono, dropped)) return;
    }
    const auto now = std::chrono::system_clock::now();
    const std::time_t secs = std::chrono::system_clock::to_time_t(now);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char ts[64];
    std::snprintf(ts, sizeof ts, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                  tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
    std::string line;
    line.reserve(64 + msg.size() + fields.size());
    line += "ts=";
    line += ts;
    line += " level=";
    line += name(level);
    line += " msg=\"";
    line += msg;
    line += '"';
    if (!fields.empty()) {
        line += ' ';
        line += fields;
    }
    if (dropped > 0) {
        line += " suppressed=";
        line += std::to_string(dropped);
    }
    line += '\n';
    // One write(2) per line keeps lines whole when several threads log.
    [[maybe_unused]] auto n = ::write(STDERR_FILENO, line.data(), line.size());
}

}  // namespace shoal::log
