// This node's wall and monotonic clocks, as the core and the front ends read them (shell.h).
#include <atomic>
#include <chrono>

#include "net/shell.h"

namespace shoal::net {

namespace {
std::atomic<std::int64_t> g_clock_offset_us{0};  // clock_offset_ms: a chaos test's knob
}  // namespace

void set_clock_offset(Duration d) { g_clock_offset_us = d.us; }

Time wall_now() {
    const auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
    return Time{std::chrono::duration_cast<std::chrono::microseconds>(since_epoch).count() +
                g_clock_offset_us.load(std::memory_order_relaxed)};
}

Instant mono_now() {
    const auto since_boot = std::chrono::steady_clock::now().time_since_epoch();
    return Instant{std::chrono::duration_cast<std::chrono::microseconds>(since_boot).count()};
}

Now clocks_now() { return Now{mono_now(), wall_now()}; }

}  // namespace shoal::net
