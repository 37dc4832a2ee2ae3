#include "net/log.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>

namespace shoal::log {

namespace {
std::atomic<int> g_level{static_cast<int>(Level::info)};

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
    line += '\n';
    // One write(2) per line keeps lines whole when several threads log.
    [[maybe_unused]] auto n = ::write(STDERR_FILENO, line.data(), line.size());
}

}  // namespace shoal::log
