// Command-line number and seed-range parsing shared by shoal-sim's two front ends
// (the replication simulator and `shoal-sim gossip`).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace shoal::sim {

// A decimal number of at most 18 digits, nothing else.
inline std::optional<std::uint64_t> parse_u64(std::string_view s) {
    if (s.empty() || s.size() > 18) return std::nullopt;
    std::uint64_t v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return std::nullopt;
        v = v * 10 + static_cast<std::uint64_t>(c - '0');
    }
    return v;
}

// "A-B" with A <= B and at most `max_span` seeds apart.
inline bool parse_seed_range(std::string_view range, std::uint64_t max_span, std::uint64_t& first,
                             std::uint64_t& last) {
    const auto dash = range.find('-');
    if (dash == std::string_view::npos) return false;
    const auto a = parse_u64(range.substr(0, dash)), b = parse_u64(range.substr(dash + 1));
    if (!a || !b || *a > *b || *b - *a > max_span) return false;
    first = *a;
    last = *b;
    return true;
}

}  // namespace shoal::sim
