// Fuzz target: the HTTP API's router (the pure half: method, target, context header,
// body). The input is four fields separated by newlines. Whatever they hold, the router
// answers with a call for the core or a finished response, and a finished response
// has a status a client understands.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>

#include "http/api.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view in(reinterpret_cast<const char*>(data), size);
    shoal::http::Request request;
    std::string* fields[] = {&request.method, &request.target, &request.context, &request.body};
    for (std::size_t i = 0; i < 4; ++i) {
        const std::size_t nl = i < 3 ? in.find('\n') : std::string_view::npos;
        *fields[i] = std::string(in.substr(0, nl));
        in = nl == std::string_view::npos ? std::string_view() : in.substr(nl + 1);
    }
    shoal::Limits limits;
    limits.max_key_bytes = 64;
    limits.max_value_bytes = 256;
    const shoal::http::Routed routed = shoal::http::route(request, limits);
    if (const auto* r = std::get_if<shoal::http::Response>(&routed)) {
        if (r->status < 200 || r->status > 599) std::abort();
    }
    if (const auto* call = std::get_if<shoal::http::KvCall>(&routed)) {
        if (call->request.key.empty() || call->request.key.size() > limits.max_key_bytes) std::abort();
        if (call->request.value.size() > limits.max_value_bytes) std::abort();
    }
    return 0;
}
