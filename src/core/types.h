// Vocabulary types shared by every layer: node and partition ids, time.
// Pure: no clocks here. Both clocks are read by the shell or the simulator and handed in.
#pragma once

#include <compare>
#include <cstdint>
#include <functional>

namespace shoal {

// Identifies a node in the cluster. 0 is never a valid node id.
struct NodeId {
    std::uint32_t value = 0;
    constexpr bool valid() const { return value != 0; }
    friend constexpr auto operator<=>(NodeId, NodeId) = default;
};

// One of the Q equal slices of the 64-bit hash space.
struct PartitionId {
    std::uint32_t value = 0;
    friend constexpr auto operator<=>(PartitionId, PartitionId) = default;
};

// A span of time in microseconds.
struct Duration {
    std::int64_t us = 0;
    static constexpr Duration micros(std::int64_t n) { return {n}; }
    static constexpr Duration millis(std::int64_t n) { return {n * 1000}; }
    static constexpr Duration seconds(std::int64_t n) { return {n * 1000 * 1000}; }
    constexpr std::int64_t ms() const { return us / 1000; }
    friend constexpr auto operator<=>(Duration, Duration) = default;
    friend constexpr Duration operator+(Duration a, Duration b) { return {a.us + b.us}; }
    friend constexpr Duration operator-(Duration a, Duration b) { return {a.us - b.us}; }
    friend constexpr Duration operator*(Duration a, std::int64_t k) { return {a.us * k}; }
    friend constexpr Duration operator/(Duration a, std::int64_t k) { return {a.us / k}; }
};

// A reading of a node's monotonic clock: microseconds since an origin of the clock's
// own (the host's boot under shoald, the start of the run under shoal-sim). It never
// steps, so it is what intervals are measured on: request deadlines, the failure
// detector, periodic work. A reading means nothing to another node and is never
// stored or sent.
struct Instant {
    std::int64_t us = 0;
    friend constexpr auto operator<=>(Instant, Instant) = default;
    friend constexpr Instant operator+(Instant t, Duration d) { return {t.us + d.us}; }
    friend constexpr Instant operator-(Instant t, Duration d) { return {t.us - d.us}; }
    friend constexpr Duration operator-(Instant a, Instant b) { return {a.us - b.us}; }
};

// A point in wall (calendar) time: microseconds since the Unix epoch under shoald,
// since the start of the run under shoal-sim. It is what is stored and compared
// between nodes: sibling timestamps (last-writer-wins), TTL expiry, a write's
// apply-by. It can step (an NTP correction, a host set wrong), so nothing that
// measures an interval reads it.
struct Time {
    std::int64_t us = 0;
    friend constexpr auto operator<=>(Time, Time) = default;
    friend constexpr Time operator+(Time t, Duration d) { return {t.us + d.us}; }
    friend constexpr Time operator-(Time t, Duration d) { return {t.us - d.us}; }
    friend constexpr Duration operator-(Time a, Time b) { return {a.us - b.us}; }
};

// Both clocks, read once for each call into the core (as TigerBeetle's Time hands
// out a monotonic and a realtime reading).
struct Now {
    Instant mono;
    Time wall;
    // `d` passes on both clocks.
    friend constexpr Now operator+(Now n, Duration d) { return {n.mono + d, n.wall + d}; }
};

// One more than v, or v itself at the type's maximum: versions saturate instead of
// wrapping to 0 (which would make the newest record look like the oldest).
template <class T>
constexpr T saturating_next(T v) {
    return v == static_cast<T>(~T{0}) ? v : static_cast<T>(v + 1);
}

}  // namespace shoal

template <>
struct std::hash<shoal::NodeId> {
    std::size_t operator()(shoal::NodeId n) const noexcept { return n.value; }
};
