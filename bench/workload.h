// Workloads: a mix of operation kinds over a key space, with a key distribution and a
// value size. Presets follow YCSB where YCSB has one (a, b, c, f) and add two from
// Shoal's users (cart, session).
//
//   a        50% read, 50% update                       zipfian
//   b        95% read,  5% update                       zipfian
//   c       100% read                                   zipfian
//   f        50% read, 50% read-modify-write            zipfian
//   cart     80% cart (read, add an item, write back with the read's context), 20% read
//                                                       zipfian (always)
//   session  70% read, 20% update, 10% insert; writes carry a TTL     latest
//
// An operation kind is what one entry of the final table measures; rmw and cart are two
// requests each (a get, then a put with its context) and are timed as one.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/rng.h"
#include "keygen.h"

namespace shoal::bench {

enum class OpKind : std::uint8_t { read, update, insert, rmw, cart, count_ };
constexpr std::size_t k_op_kinds = static_cast<std::size_t>(OpKind::count_);

std::string_view op_name(OpKind k);
// True for kinds that write (their success counts towards write availability).
bool op_writes(OpKind k);

struct Mix {
    std::array<double, k_op_kinds> weight{};  // by OpKind; need not sum to 1
};

struct WorkloadSpec {
    std::string preset = "a";
    Mix mix;
    KeyDist dist = KeyDist::zipfian;
    double theta = 0.99;
    std::uint64_t key_count = 100000;
    std::uint32_t value_min_bytes = 100;
    std::uint32_t value_max_bytes = 100;
    std::int64_t ttl_s = 0;  // writes of the session preset; 0 = no expiry
};

// Fills mix, dist and ttl_s from a preset name; false for an unknown name.
bool apply_preset(std::string_view name, WorkloadSpec& spec);
// Parses "100" (fixed) or "64-1024" (uniform range) into min/max; false when malformed.
bool parse_value_size(std::string_view text, std::uint32_t& min_bytes, std::uint32_t& max_bytes);

// Draws operation kinds by weight. Cheap: a cumulative table of k_op_kinds doubles.
class OpChooser {
public:
    explicit OpChooser(const Mix& mix);
    OpKind next(Rng& rng) const;

private:
    std::array<double, k_op_kinds> cumulative_{};
};

}  // namespace shoal::bench
