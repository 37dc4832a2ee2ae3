// Bounds on everything a client can make the node hold. Exceeding one is a clear
// error (errc::key_too_large, ...), never an allocation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <system_error>

namespace shoal {

struct Limits {
    std::size_t max_key_bytes = 1024;           // 1 KiB
    std::size_t max_value_bytes = 1024 * 1024;  // 1 MiB
    std::size_t max_siblings = 64;              // per key, checked when a write is admitted
    std::size_t max_inflight_requests = 10000;  // per coordinator node
};

// Checks a client key and value against the limits; an empty key is bad_request.
std::error_code check_key(const Limits& limits, std::string_view key);
std::error_code check_value(const Limits& limits, std::string_view value);

}  // namespace shoal
