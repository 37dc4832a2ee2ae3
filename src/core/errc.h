// Expected failures are values: shoal::errc inside a std::error_code.
// Each code exists because some caller reacts to it differently.
#pragma once

#include <string_view>
#include <system_error>

namespace shoal {

enum class errc {
    ok = 0,
    bad_request,        // malformed input: the client must fix the request (HTTP 400)
    key_too_large,      // key over limits.max_key_bytes (HTTP 413)
    value_too_large,    // value over limits.max_value_bytes (HTTP 413)
    too_many_siblings,  // the key holds limits.max_siblings; resolve before writing (HTTP 409)
    bad_context,        // the causal context does not decode (HTTP 400)
    quorum_not_met,     // fewer than the required replicas answered in time (HTTP 503)
    timeout,            // the request's deadline passed (HTTP 503)
    unavailable,        // not enough nodes known to form the preference list (HTTP 503)
    overloaded,         // a bounded queue is full; try later (HTTP 503)
    store_error,        // the local store failed a read or write (HTTP 500)
    corrupt,            // stored bytes fail to decode (HTTP 500)
    not_found,          // no such key (HTTP 404); a normal outcome of get
    shutting_down,      // the node is stopping (HTTP 503)
    state_too_large,    // the key's stored state would pass limits.max_state_bytes (HTTP 413)
    store_full,         // the local store's disk is full (HTTP 507)
    precondition_failed,  // a conditional write's condition does not hold (HTTP 412)
    no_namespace,       // the request names a namespace the cluster does not have (HTTP 404)
    forbidden,          // the caller's role does not allow it, or it did not authenticate (HTTP 403/401)
    wrong_type,         // a data-type operation on a key or namespace of another type (HTTP 409)
};

// The last code: a wire code past it is refused.
inline constexpr errc k_last_errc = errc::wrong_type;

const std::error_category& shoal_category() noexcept;

inline std::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), shoal_category()};
}

// A short stable name for metrics and logs: "quorum_not_met".
std::string_view errc_name(errc e) noexcept;

// The shoal::errc an error code stands for: itself when it is one (and ok for none);
// `otherwise` for a code of any other category (an errno from a store, say), whose
// value means nothing as an errc.
errc to_errc(std::error_code ec, errc otherwise = errc::store_error) noexcept;

}  // namespace shoal

template <>
struct std::is_error_code_enum<shoal::errc> : std::true_type {};
