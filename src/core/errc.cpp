#include "core/errc.h"

#include <string>

namespace shoal {

namespace {

class Category final : public std::error_category {
public:
    const char* name() const noexcept override { return "shoal"; }
    std::string message(int code) const override {
        switch (static_cast<errc>(code)) {
            case errc::ok: return "ok";
            case errc::bad_request: return "bad request";
            case errc::key_too_large: return "key too large";
            case errc::value_too_large: return "value too large";
            case errc::too_many_siblings: return "too many siblings: read and resolve first";
            case errc::bad_context: return "causal context does not decode";
            case errc::quorum_not_met: return "quorum not met";
            case errc::timeout: return "request timed out";
            case errc::unavailable: return "not enough nodes to serve the key";
            case errc::overloaded: return "overloaded";
            case errc::store_error: return "local store error";
            case errc::corrupt: return "stored data is corrupt";
            case errc::not_found: return "not found";
            case errc::shutting_down: return "node is shutting down";
            case errc::state_too_large: return "the key's stored state would be too large";
            case errc::store_full: return "the local store's disk is full";
            case errc::precondition_failed: return "the write's condition does not hold";
            case errc::no_namespace: return "no such namespace";
            case errc::forbidden: return "not allowed for this client's role";
            case errc::wrong_type: return "the key or namespace holds another type of value";
        }
        return "unknown shoal error " + std::to_string(code);
    }
};

}  // namespace

const std::error_category& shoal_category() noexcept {
    static const Category category;
    return category;
}

std::string_view errc_name(errc e) noexcept {
    switch (e) {
        case errc::ok: return "ok";
        case errc::bad_request: return "bad_request";
        case errc::key_too_large: return "key_too_large";
        case errc::value_too_large: return "value_too_large";
        case errc::too_many_siblings: return "too_many_siblings";
        case errc::bad_context: return "bad_context";
        case errc::quorum_not_met: return "quorum_not_met";
        case errc::timeout: return "timeout";
        case errc::unavailable: return "unavailable";
        case errc::overloaded: return "overloaded";
        case errc::store_error: return "store_error";
        case errc::corrupt: return "corrupt";
        case errc::not_found: return "not_found";
        case errc::shutting_down: return "shutting_down";
        case errc::state_too_large: return "state_too_large";
        case errc::store_full: return "store_full";
        case errc::precondition_failed: return "precondition_failed";
        case errc::no_namespace: return "no_namespace";
        case errc::forbidden: return "forbidden";
        case errc::wrong_type: return "wrong_type";
    }
    return "unknown";
}

errc to_errc(std::error_code ec, errc otherwise) noexcept {
    if (!ec) return errc::ok;
    if (ec.category() != shoal_category()) return otherwise;
    if (ec.value() < 0 || ec.value() > static_cast<int>(k_last_errc)) return otherwise;
    return static_cast<errc>(ec.value());
}

}  // namespace shoal
