// Helpers the HTTP API's pure files share (api.cpp, namespace_api.cpp): plain-text
// responses, quoting client input, query items. Not part of the API.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "http/api.h"

namespace shoal::http::internal {

inline constexpr std::size_t k_max_echo_bytes = 64;  // of client input in messages

// Client input quoted in an error message: bounded, printable ASCII only.
inline std::string echo(std::string_view text) {
    std::string out;
    for (char c : text.substr(0, k_max_echo_bytes)) {
        const auto u = static_cast<unsigned char>(c);
        out.push_back(u >= 0x20 && u < 0x7f ? c : '?');
    }
    if (text.size() > k_max_echo_bytes) out += "...";
    return out;
}

inline Response text(unsigned status, std::string body) {
    Response r;
    r.status = status;
    r.body = std::move(body);
    r.body.push_back('\n');
    return r;
}

// Takes the next "name=value" item off `query` ("a=1&b=2"), skipping empty ones.
// False when none is left.
inline bool next_param(std::string_view& query, std::string_view& name, std::string_view& value) {
    while (!query.empty()) {
        const std::size_t amp = query.find('&');
        const std::string_view item = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
        if (item.empty()) continue;
        const std::size_t eq = item.find('=');
        name = item.substr(0, eq);
        value = eq == std::string_view::npos ? std::string_view{} : item.substr(eq + 1);
        return true;
    }
    return false;
}

// A request's query parameters as options for `op` (api.cpp); a 400 naming the bad one.
std::optional<Response> parse_options(std::string_view query, replica::ClientOp op, replica::RequestOptions& o);
// A percent-encoded key from the path, checked against the limits; a 400 or 413 if not.
std::optional<Response> parse_key(std::string_view raw, const Limits& limits, std::string& key);
// 413 naming what was too large, its size and the limit.
Response too_large(std::string_view what, std::size_t size, std::size_t limit);

// /ns/{ns}/dt/{key} (datatype_api.cpp): `path` is "/dt/{key}", `props` the namespace's
// (nullptr when not known).
Routed route_dt(const Request& request, std::string_view path, std::string_view query, const Limits& limits,
                const RequestDefaults& defaults, std::string_view ns, const replica::NamespaceProps* props);

// /ns and /ns/{name} (namespace_api.cpp); `name` is valid or empty (/ns).
Routed route_namespace(const Request& request, std::string_view name, std::string_view query);

}  // namespace shoal::http::internal
