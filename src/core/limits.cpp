#include "core/limits.h"

#include <string>

#include "core/errc.h"

namespace shoal {

std::string limits_problem(const Limits& l) {
    // One sibling's encoding overhead, and the client's context (16 bytes an entry).
    const std::size_t least = l.max_value_bytes + max_stored_key_bytes(l) + k_max_client_context_entries * 16 + 64;
    if (l.max_state_bytes < least) {
        return "max_state_bytes (" + std::to_string(l.max_state_bytes) + ") must hold one largest value with a full context: at least " +
               std::to_string(least);
    }
    if (l.max_state_bytes > k_max_state_bytes_limit) {
        return "max_state_bytes (" + std::to_string(l.max_state_bytes) + ") is over " +
               std::to_string(k_max_state_bytes_limit);
    }
    return "";
}

std::error_code check_key(const Limits& limits, std::string_view key) {
    if (key.empty() || key.front() == '\0') return errc::bad_request;
    if (key.size() > limits.max_key_bytes) return errc::key_too_large;
    return {};
}

bool valid_namespace_name(std::string_view name) {
    if (name.empty() || name.size() > k_max_namespace_bytes) return false;
    for (char c : name) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
        if (!ok) return false;
    }
    return true;
}

std::error_code check_stored_key(const Limits& limits, std::string_view key) {
    if (key.empty() || key.front() != '\0') return check_key(limits, key);
    const std::size_t end = key.find('\0', 1);
    if (end == std::string_view::npos || !valid_namespace_name(key.substr(1, end - 1))) return errc::bad_request;
    return check_key(limits, key.substr(end + 1));
}

std::error_code check_value(const Limits& limits, std::string_view value) {
    if (value.size() > limits.max_value_bytes) return errc::value_too_large;
    return {};
}

}  // namespace shoal
