#include "core/limits.h"

#include "core/errc.h"

namespace shoal {

std::error_code check_key(const Limits& limits, std::string_view key) {
    if (key.empty()) return errc::bad_request;
    if (key.size() > limits.max_key_bytes) return errc::key_too_large;
    return {};
}

std::error_code check_value(const Limits& limits, std::string_view value) {
    if (value.size() > limits.max_value_bytes) return errc::value_too_large;
    return {};
}

}  // namespace shoal
