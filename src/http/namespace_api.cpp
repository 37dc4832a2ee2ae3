// The namespace routes of the HTTP API (api.h: NamespaceCall): parsing their
// properties, and a namespace as JSON. Pure.
#include <charconv>
#include <cstdint>
#include <iterator>

#include "http/api.h"
#include "http/internal.h"

namespace shoal::http {

namespace {

using internal::echo;
using internal::text;

constexpr std::size_t k_prop_count = std::size(k_namespace_props);

std::size_t prop_index(std::string_view name) {
    for (std::size_t i = 0; i < k_prop_count; ++i)
        if (name == k_namespace_props[i]) return i;
    return k_prop_count;
}

bool number(std::string_view value, std::uint64_t max, std::uint64_t& out) {
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), out);
    return !value.empty() && ec == std::errc{} && end == value.data() + value.size() && out <= max;
}

// Sets property `i` of `p` from its text; "" when it parsed, else why not.
std::string set_prop(replica::NamespaceProps& p, std::size_t i, std::string_view value) {
    const std::string name = k_namespace_props[i];
    std::uint64_t v = 0;
    if (i <= 4) {  // n r w pr pw
        std::uint32_t* fields[] = {&p.n, &p.r, &p.w, &p.pr, &p.pw};
        if (i > 0 && replica::quorum_by_name(value, *fields[i])) return "";
        if (!number(value, k_max_replicas, v))
            return name + " must be 0 (the node's default) to " + std::to_string(k_max_replicas) +
                   (i > 0 ? ", one, quorum or all" : "");
        *fields[i] = static_cast<std::uint32_t>(v);
        return "";
    }
    if (name == "conflict") {
        if (value == "dvv")
            p.conflict = replica::ConflictMode::dvv;
        else if (value == "lww")
            p.conflict = replica::ConflictMode::lww;
        else
            return "conflict must be dvv (siblings) or lww (last writer wins)";
        return "";
    }
    if (name == "max_siblings") {
        if (!number(value, k_max_stored_siblings, v))
            return "max_siblings must be 0 (the node's limit) to " + std::to_string(k_max_stored_siblings);
        p.max_siblings = static_cast<std::uint32_t>(v);
        return "";
    }
    if (name == "ttl_s") {
        if (!number(value, static_cast<std::uint64_t>(k_max_ttl_s), v))
            return "ttl_s must be 0 (no expiry) to " + std::to_string(k_max_ttl_s);
        p.ttl_s = static_cast<std::int64_t>(v);
        return "";
    }
    if (value.size() > k_max_namespace_bytes) return "datatype is too long";
    p.datatype = value == "none" ? "" : std::string(value);
    return "";
}

std::string quorum_text(std::uint32_t q) {
    if (q == replica::k_quorum_one) return "\"one\"";
    if (q == replica::k_quorum_majority) return "\"quorum\"";
    if (q == replica::k_quorum_all) return "\"all\"";
    return std::to_string(q);
}

}  // namespace

namespace internal {

Routed route_namespace(const Request& request, std::string_view name, std::string_view query) {
    NamespaceCall call;
    call.name = name;
    const bool get = request.method == "GET" || request.method == "HEAD";
    if (name.empty() || get) {
        if (!get) {
            Response r = text(405, "method " + echo(request.method) + " not allowed on /ns");
            r.headers.emplace_back("Allow", "GET, HEAD");
            return r;
        }
        if (!query.empty()) return text(400, "GET /ns takes no parameters");
        call.op = name.empty() ? NamespaceCall::Op::list : NamespaceCall::Op::show;
        return call;
    }
    if (request.method != "POST" && request.method != "PUT") {
        Response r = text(405, "method " + echo(request.method) + " not allowed on /ns/{name}");
        r.headers.emplace_back("Allow", "GET, HEAD, POST, PUT");
        return r;
    }
    if (!request.body.empty()) return text(400, "namespace properties go in the query, not the body");
    call.op = request.method == "POST" ? NamespaceCall::Op::create : NamespaceCall::Op::set;
    std::string_view prop, value;
    while (next_param(query, prop, value)) {
        const std::size_t i = prop_index(prop);
        if (i == k_prop_count) return text(400, "unknown namespace property: " + echo(prop));
        if (call.given & (1u << i)) return text(400, "duplicate namespace property: " + std::string(prop));
        call.given |= 1u << i;
        if (auto problem = set_prop(call.props, i, value); !problem.empty()) return text(400, problem);
    }
    if (call.op == NamespaceCall::Op::set && call.given == 0)
        return text(400, "PUT /ns/{name} changes the properties given: give at least one");
    return call;
}

}  // namespace internal

replica::NamespaceProps apply_props(const NamespaceCall& call, replica::NamespaceProps base) {
    const replica::NamespaceProps& p = call.props;
    const auto take = [&](std::size_t i, auto& field, const auto& from) {
        if (call.given & (1u << i)) field = from;
    };
    take(0, base.n, p.n);
    take(1, base.r, p.r);
    take(2, base.w, p.w);
    take(3, base.pr, p.pr);
    take(4, base.pw, p.pw);
    take(5, base.conflict, p.conflict);
    take(6, base.max_siblings, p.max_siblings);
    take(7, base.ttl_s, p.ttl_s);
    take(8, base.datatype, p.datatype);
    return base;
}

std::string namespace_json(std::string_view name, const gossip::NamespaceRecord& record) {
    const replica::NamespaceProps& p = record.props;
    std::string j = "{\"name\":\"" + std::string(name) + "\"";  // names are [a-z0-9_-]
    j += ",\"n\":" + std::to_string(p.n);
    j += ",\"r\":" + quorum_text(p.r) + ",\"w\":" + quorum_text(p.w);
    j += ",\"pr\":" + quorum_text(p.pr) + ",\"pw\":" + quorum_text(p.pw);
    j += std::string(",\"conflict\":\"") + (p.conflict == replica::ConflictMode::lww ? "lww" : "dvv") + "\"";
    j += ",\"max_siblings\":" + std::to_string(p.max_siblings);
    j += ",\"ttl_s\":" + std::to_string(p.ttl_s);
    j += ",\"datatype\":" + (p.datatype.empty() ? std::string("null") : "\"" + p.datatype + "\"");
    j += ",\"version\":" + std::to_string(record.version) + ",\"set_by\":" + std::to_string(record.set_by.value) + "}";
    return j;
}

}  // namespace shoal::http
