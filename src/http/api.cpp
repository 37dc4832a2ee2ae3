// The HTTP API's pure half: parsing and validating requests (route) and turning the
// core's replies into responses (render). No sockets, no Beast, no clock.
//
// JSON (the 300 body) is written by hand here rather than with Boost.JSON: the only
// document is {"siblings":[{"value":"<base64>"},...]}. One encoding, base64, whatever the
// bytes: the body is 4/3 of the values and a few bytes a sibling, so its size follows
// from the state bound (an escaped copy beside it grew a value up to 7x). Keeping
// Boost.JSON out keeps this file light to compile (datatype_api.cpp, which parses
// data-type updates, is the one file here that uses it); the tests parse the output
// with Boost.JSON to check it.
#include "http/api.h"

#include <charconv>
#include <cstdint>
#include <iterator>
#include <optional>
#include <string_view>
#include <system_error>

#include "core/errc.h"
#include "http/internal.h"
#include "replica/codec.h"

namespace shoal::http {

namespace {

using internal::echo;
using internal::next_param;
using internal::parse_options;
using internal::too_large;
using internal::route_namespace;
using internal::text;
using replica::ClientOp;
using replica::ClientReply;
using replica::ClientRequest;

// Bounds on query parameters. The core checks the values against its configuration
// (r <= n, timeout_ms <= the node's maximum, ...); these only keep nonsense out.
constexpr std::uint64_t k_max_replica_param = k_max_replicas;  // n, r, w, pr, pw, dw
constexpr std::uint64_t k_max_timeout_ms = 60ULL * 60 * 1000;   // one hour
constexpr auto k_max_ttl_param = static_cast<std::uint64_t>(k_max_ttl_s);

constexpr std::string_view k_kv_prefix = "/kv/";
constexpr std::string_view k_ns_prefix = "/ns/";

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Decodes %XX escapes; '+' stays '+' (this is a path, not a form). False on a bad escape.
bool percent_decode(std::string_view in, std::string& out) {
    out.clear();
    out.reserve(in.size());
    for (std::size_t i = 0; i < in.size(); ++i) {
        if (in[i] != '%') {
            out.push_back(in[i]);
            continue;
        }
        if (i + 2 >= in.size()) return false;
        const int hi = hex_value(in[i + 1]);
        const int lo = hex_value(in[i + 2]);
        if (hi < 0 || lo < 0) return false;
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
    }
    return true;
}

// Which parameters each method takes.
bool param_applies(ClientOp op, std::string_view name) {
    if (name == "n" || name == "timeout_ms") return true;
    if (op == ClientOp::get) return name == "r" || name == "pr";
    if (name == "w" || name == "pw" || name == "dw") return true;
    return op == ClientOp::put && name == "ttl_s";
}

struct Param {
    std::string_view name;
    std::uint64_t max;
};
constexpr Param k_params[] = {
    {"n", k_max_replica_param},       {"r", k_max_replica_param},  {"w", k_max_replica_param},
    {"pr", k_max_replica_param},      {"pw", k_max_replica_param}, {"dw", k_max_replica_param},
    {"timeout_ms", k_max_timeout_ms}, {"ttl_s", k_max_ttl_param},
};

void set_option(replica::RequestOptions& o, std::string_view name, std::uint64_t v) {
    if (name == "n")
        o.n = static_cast<std::uint32_t>(v);
    else if (name == "r")
        o.r = static_cast<std::uint32_t>(v);
    else if (name == "w")
        o.w = static_cast<std::uint32_t>(v);
    else if (name == "pr")
        o.pr = static_cast<std::uint32_t>(v);
    else if (name == "pw")
        o.pw = static_cast<std::uint32_t>(v);
    else if (name == "dw")
        o.dw = static_cast<std::uint32_t>(v);
    else if (name == "timeout_ms")
        o.timeout_ms = static_cast<std::int64_t>(v);
    else if (name == "ttl_s")
        o.ttl_s = static_cast<std::int64_t>(v);
}

const char* method_name(ClientOp op) {
    switch (op) {
        case ClientOp::get: return "GET";
        case ClientOp::put: return "PUT";
        case ClientOp::del: return "DELETE";
        case ClientOp::list: return "LIST";
    }
    return "?";
}

}  // namespace

namespace internal {

// Parses "a=1&b=2" into options. Empty segments ("a=1&") are skipped; anything else
// that is not a known, applicable, unrepeated name with a decimal value in bounds is
// a 400 naming the parameter.
std::optional<Response> parse_options(std::string_view query, ClientOp op, replica::RequestOptions& o) {
    unsigned seen = 0;  // bit i: k_params[i] given
    std::string_view name, value;
    while (next_param(query, name, value)) {
        std::size_t index = std::size(k_params);
        for (std::size_t i = 0; i < std::size(k_params); ++i) {
            if (k_params[i].name == name) index = i;
        }
        if (name == "returnbody") {
            if (op != ClientOp::put) return text(400, "parameter returnbody applies to PUT only");
            if (value != "true" && value != "false") return text(400, "parameter returnbody must be true or false");
            o.return_body = value == "true";
            continue;
        }
        if (index == std::size(k_params)) return text(400, "unknown parameter: " + echo(name));
        if (!param_applies(op, name)) {
            return text(400, "parameter " + std::string(name) + " does not apply to " + method_name(op));
        }
        if (seen & (1u << index)) return text(400, "duplicate parameter: " + std::string(name));
        seen |= 1u << index;
        const bool quorum = name == "r" || name == "w" || name == "pr" || name == "pw" || name == "dw";
        if (std::uint32_t named = 0; quorum && replica::quorum_by_name(value, named)) {
            set_option(o, name, named);
            continue;
        }
        std::uint64_t v = 0;
        const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
        const bool digits = !value.empty() && value.front() >= '0' && value.front() <= '9';
        if (!digits || ec == std::errc::invalid_argument || end != value.data() + value.size()) {
            return text(400, "parameter " + std::string(name) +
                                 (quorum ? " must be a non-negative integer, one, quorum or all"
                                         : " must be a non-negative integer"));
        }
        if (ec == std::errc::result_out_of_range || v > k_params[index].max) {
            return text(400, "parameter " + std::string(name) + " out of range (at most " +
                                 std::to_string(k_params[index].max) + ")");
        }
        if (v == 0 && (name == "n" || name == "r" || name == "w")) {
            return text(400, "parameter " + std::string(name) + " must be at least 1 (leave it out for the default)");
        }
        set_option(o, name, v);
    }
    return std::nullopt;
}

Response too_large(std::string_view what, std::size_t size, std::size_t limit) {
    return text(413,
                std::string(what) + " too large: " + std::to_string(size) + " bytes, limit " + std::to_string(limit));
}

std::optional<Response> parse_key(std::string_view raw, const Limits& limits, std::string& key) {
    if (!percent_decode(raw, key)) return text(400, "invalid percent-encoding in key");
    if (const auto ec = check_key(limits, key)) {
        if (ec == errc::key_too_large) return too_large("key", key.size(), limits.max_key_bytes);
        return text(400, key.empty() ? "empty key" : "a key may not begin with a NUL byte (%00)");
    }
    return std::nullopt;
}

}  // namespace internal

namespace {

Routed route_admin(const Request& request, std::string_view path, std::string_view query, Admin admin) {
    if (request.method != "GET" && request.method != "HEAD") {
        Response r = text(405, "method " + echo(request.method) + " not allowed on " + std::string(path));
        r.headers.emplace_back("Allow", "GET, HEAD");
        return r;
    }
    if (!query.empty()) return text(400, std::string(path) + " takes no parameters");
    return admin;
}

Routed route_membership(const Request& request, std::string_view path, std::string_view query) {
    if (request.method != "POST") {
        Response r = text(405, "method " + echo(request.method) + " not allowed on " + std::string(path));
        r.headers.emplace_back("Allow", "POST");
        return r;
    }
    MembershipCall call;
    call.op = path == "/cluster/join"    ? MembershipCall::Op::join
              : path == "/cluster/leave" ? MembershipCall::Op::leave
                                         : MembershipCall::Op::remove;
    bool node_given = false;
    std::string_view name, value;
    while (next_param(query, name, value)) {
        if (name == "seed" && call.op == MembershipCall::Op::join) {
            if (value.empty() || value.size() > gossip::k_max_address_bytes) {
                return text(400, "parameter seed must be HOST:PORT");
            }
            if (call.seeds.size() >= k_max_seeds)
                return text(400, "too many seeds (at most " + std::to_string(k_max_seeds) + ")");
            call.seeds.emplace_back(value);
        } else if (name == "node" && call.op != MembershipCall::Op::join && !node_given) {
            const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), call.node);
            if (value.empty() || ec != std::errc{} || end != value.data() + value.size() || call.node == 0)
                return text(400, "parameter node must be a node id (1..4294967295)");
            node_given = true;
        } else if (name == "force" && call.op == MembershipCall::Op::remove && !call.force) {
            if (value != "true") return text(400, "parameter force takes only true");
            call.force = true;
        } else {
            return text(400, "unknown or repeated parameter for " + std::string(path) + ": " + echo(name));
        }
    }
    if (call.op == MembershipCall::Op::join && call.seeds.empty())
        return text(400, "join needs at least one seed=HOST:PORT (a member's peer address)");
    if (call.op == MembershipCall::Op::remove && !node_given) return text(400, "remove needs node=ID");
    return call;
}

// The quorum a parameter names, resolved as the core will (0: the default `fallback`).
std::uint32_t effective(std::uint32_t given, std::uint32_t n, std::uint32_t fallback) {
    const std::uint32_t q = replica::resolve_quorum(given, n);
    return q == 0 ? fallback : q;
}

}  // namespace

// Each bound a request's options break, named with the values that broke it.
// A namespace's properties (`ns`, when it has any) stand before the node's defaults,
// as in the core's Node::validate.
std::optional<Response> check_bounds(replica::ClientOp op, const replica::RequestOptions& o, const RequestDefaults& d,
                                     const replica::NamespaceProps* ns) {
    const auto say = [](std::string_view a, std::uint64_t av, std::string_view b, std::uint64_t bv) {
        return text(400, std::string(a) + "=" + std::to_string(av) + " exceeds " + std::string(b) + "=" +
                             std::to_string(bv));
    };
    const replica::NamespaceProps none;
    const replica::NamespaceProps& p = ns ? *ns : none;
    const auto or_ns = [](std::uint32_t given, std::uint32_t from_ns) { return given ? given : from_ns; };
    if (o.n > d.n) return say("n", o.n, "the node's n", d.n);
    if (p.n != 0 && o.n > p.n) return say("n", o.n, "the namespace's n", p.n);
    const std::uint32_t n = o.n ? o.n : p.n ? std::min(p.n, d.n) : d.n;
    if (op == ClientOp::get) {
        const std::uint32_t r = effective(or_ns(o.r, p.r), n, std::min(d.r, n));
        if (r > n) return say("r", r, "n", n);
        if (const std::uint32_t pr = effective(or_ns(o.pr, p.pr), n, 0); pr > r) return say("pr", pr, "r", r);
    } else {
        const std::uint32_t w = effective(or_ns(o.w, p.w), n, std::min(d.w, n));
        if (w > n) return say("w", w, "n", n);
        if (const std::uint32_t pw = effective(or_ns(o.pw, p.pw), n, 0); pw > w) return say("pw", pw, "w", w);
        if (const std::uint32_t dw = effective(o.dw, n, 0); dw > w) return say("dw", dw, "w", w);
    }
    if (o.timeout_ms > d.max_timeout_ms)
        return text(400, "timeout_ms=" + std::to_string(o.timeout_ms) + " exceeds the node's limit of " +
                             std::to_string(d.max_timeout_ms));
    return std::nullopt;
}

namespace {

Routed route_kv(const Request& request, std::string_view path, std::string_view query, const Limits& limits,
                const RequestDefaults& defaults, std::string_view ns, const replica::NamespaceProps* props) {
    ClientRequest call;
    if (request.method == "GET" || request.method == "HEAD")  // HEAD: the server drops the body
        call.op = ClientOp::get;
    else if (request.method == "PUT")
        call.op = ClientOp::put;
    else if (request.method == "DELETE")
        call.op = ClientOp::del;
    else {
        Response r = text(405, "method " + echo(request.method) + " not allowed on /kv/{key}");
        r.headers.emplace_back("Allow", "GET, HEAD, PUT, DELETE");
        return r;
    }
    if (auto bad = parse_options(query, call.op, call.options)) return std::move(*bad);
    if (auto bad = check_bounds(call.op, call.options, defaults, props)) return std::move(*bad);
    call.options.ns = ns;

    const std::string_view raw_key = path.size() > k_kv_prefix.size() ? path.substr(k_kv_prefix.size()) : "";
    if (auto bad = internal::parse_key(raw_key, limits, call.key)) return std::move(*bad);

    if (call.op == ClientOp::put) {
        if (const auto ec = check_value(limits, request.body)) {
            return too_large("value", request.body.size(), limits.max_value_bytes);
        }
        call.value = request.body;
        // Stored with the value and given back on reads: printable ASCII, no quotes or
        // backslashes (so the sibling JSON needs no escaping), bounded.
        if (request.content_type.size() > k_max_content_type_bytes)
            return text(400, "Content-Type is longer than " + std::to_string(k_max_content_type_bytes) + " bytes");
        for (char c : request.content_type) {
            if (c < 0x20 || c > 0x7e || c == '"' || c == '\\')
                return text(400, "Content-Type may hold printable ASCII only, without quotes or backslashes");
        }
        call.content_type = request.content_type;
    } else if (!request.body.empty()) {
        return text(400, std::string(method_name(call.op)) + " takes no body");
    }

    // Checked on every method so that a mangled context is reported, not ignored;
    // only writes carry it to the core.
    replica::VersionVector context;
    if (replica::context_from_token(request.context, context)) return text(400, "invalid X-Shoal-Context");
    if (call.op != ClientOp::get) call.context = std::move(context);

    // Conditional writes (a GET ignores them: there are no entity tags to match).
    if (call.op != ClientOp::get && !request.if_none_match.empty()) {
        if (request.if_none_match != "*") return text(400, "If-None-Match takes only *: create if nothing is stored");
        if (call.op != ClientOp::put) return text(400, "If-None-Match: * applies to PUT only");
        call.options.condition = replica::WriteCondition::if_none_match;
    }
    if (call.op != ClientOp::get && !request.if_match.empty()) {
        if (call.options.condition != replica::WriteCondition::none)
            return text(400, "If-Match and If-None-Match exclude each other");
        std::string_view token = request.if_match;
        if (token.size() >= 2 && token.front() == '"' && token.back() == '"') token = token.substr(1, token.size() - 2);
        replica::VersionVector expected;
        if (replica::context_from_token(token, expected) || expected.empty())
            return text(400, "If-Match takes the X-Shoal-Context of a read");
        if (!request.context.empty() && !(expected == call.context))
            return text(400, "If-Match and X-Shoal-Context name different contexts");
        call.context = std::move(expected);
        call.options.condition = replica::WriteCondition::if_match;
    }
    return KvCall{std::move(call)};
}

// ---- rendering -----------------------------------------------------------------------

constexpr char k_b64_std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void append_base64(std::string_view in, std::string& out) {
    std::size_t i = 0;
    for (; i + 3 <= in.size(); i += 3) {
        const std::uint32_t v = (static_cast<unsigned char>(in[i]) << 16) |
                                (static_cast<unsigned char>(in[i + 1]) << 8) | static_cast<unsigned char>(in[i + 2]);
        out.push_back(k_b64_std[(v >> 18) & 63]);
        out.push_back(k_b64_std[(v >> 12) & 63]);
        out.push_back(k_b64_std[(v >> 6) & 63]);
        out.push_back(k_b64_std[v & 63]);
    }
    const std::size_t rest = in.size() - i;
    if (rest == 0) return;
    std::uint32_t v = static_cast<unsigned char>(in[i]) << 16;
    if (rest == 2) v |= static_cast<unsigned char>(in[i + 1]) << 8;
    out.push_back(k_b64_std[(v >> 18) & 63]);
    out.push_back(k_b64_std[(v >> 12) & 63]);
    out.push_back(rest == 2 ? k_b64_std[(v >> 6) & 63] : '=');
    out.push_back('=');
}

// Whole seconds until an expiring sibling reads as absent, rounded up (at least 0).
std::int64_t seconds_left(const replica::Sibling& s, Time now) {
    const std::int64_t us = s.expires.us - now.us;
    return us <= 0 ? 0 : (us + 999'999) / 1'000'000;
}

// {"siblings":[{"value":"<base64>","last_modified_ms":N[,"content_type":T][,"expires_in_s":S]},...]}
std::string siblings_json(const std::vector<replica::Sibling>& siblings, Time now) {
    std::string out = "{\"siblings\":[";
    for (std::size_t i = 0; i < siblings.size(); ++i) {
        const replica::Sibling& s = siblings[i];
        if (i > 0) out.push_back(',');
        out += "{\"value\":\"";
        append_base64(s.value, out);
        out += "\",\"last_modified_ms\":" + std::to_string(s.written.us / 1000);
        if (!s.content_type.empty()) out += ",\"content_type\":\"" + s.content_type + "\"";  // checked on the PUT
        if (s.expires.us != 0 && now.us != 0) out += ",\"expires_in_s\":" + std::to_string(seconds_left(s, now));
        out += "}";
    }
    out += "]}";
    return out;
}

std::string counted(std::string_view what, const ClientReply& reply) {
    return std::string(what) + ": " + std::to_string(reply.replies) + " of " + std::to_string(reply.required) +
           " replicas replied";
}

Response render_error(const ClientReply& reply) {
    using replica::unavailable_text;
    switch (reply.code) {
        case errc::not_found: return text(404, "not found");
        case errc::bad_request:
            return text(400,
                        "bad request: options out of range (n at most the node's n; r, w at most n; pr at most r; "
                        "pw, dw at most w; timeout_ms at most the node's limit), or an empty key");
        case errc::bad_context: return text(400, "invalid X-Shoal-Context");
        case errc::key_too_large: return text(413, "key too large");
        case errc::value_too_large: return text(413, "value too large");
        case errc::state_too_large:
            return text(413,
                        "state too large: this write would make the key's stored state (its siblings and context) "
                        "larger than max_state_bytes; resolve its siblings by writing with their context, or store "
                        "less");
        case errc::too_many_siblings:
            return text(409, "too many siblings: read the key and write with its context to resolve them");
        case errc::quorum_not_met: return text(503, counted("quorum not met", reply));
        case errc::timeout: return text(503, counted("timeout", reply));
        case errc::unavailable: return text(503, unavailable_text(reply.replies, reply.required, reply.primaries,
                                                                 reply.primaries_down));
        case errc::overloaded: return text(503, "overloaded: try again later");
        case errc::shutting_down: return text(503, "shutting down");
        case errc::store_error: return text(500, "store error");
        case errc::store_full: return text(507, "store full: the disk of every replica that could take the write is full");
        case errc::precondition_failed:
            return text(412, "precondition failed: the key holds a value (If-None-Match: *) or was written since the "
                             "read whose context you sent (If-Match)");
        case errc::corrupt: return text(500, "corrupt stored data");
        case errc::no_namespace: return text(404, "no such namespace (create it: shoal ns create NAME)");
        case errc::forbidden: return text(403, "forbidden: this client's role does not allow it");
        case errc::wrong_type:
            return text(409, "wrong type: the key holds plain values and this namespace a data type, or the other "
                             "way round (GET /ns/{ns} names its datatype)");
        case errc::ok: break;
    }
    return text(500, "internal error: unexpected reply code " + std::string(errc_name(reply.code)));
}

}  // namespace

// /ns, /ns/{name} and /ns/{name}/kv/{key}.
Routed route_ns(const Request& request, std::string_view path, std::string_view query, const Limits& limits,
                const RequestDefaults& defaults, const replica::Namespaces* namespaces) {
    if (path == "/ns" || path == "/ns/") return route_namespace(request, "", query);
    const std::string_view rest = path.substr(k_ns_prefix.size());
    const std::size_t slash = rest.find('/');
    const std::string_view name = rest.substr(0, slash);
    if (!replica::valid_namespace_name(name))
        return text(400, "bad namespace name '" + echo(name) + "': 1 to " + std::to_string(k_max_namespace_bytes) +
                             " of a-z, 0-9, _ and -");
    if (slash == std::string_view::npos) return route_namespace(request, name, query);
    const std::string_view sub = rest.substr(slash);
    const bool dt = sub == "/dt" || sub.starts_with("/dt/");
    if (!dt && sub != "/kv" && !sub.starts_with(k_kv_prefix)) return text(404, "no such path: " + echo(path));
    const replica::NamespaceProps* props = nullptr;
    if (namespaces != nullptr) {
        auto it = namespaces->find(name);
        if (it == namespaces->end() && name != replica::k_default_namespace)
            return text(404, "no such namespace: " + std::string(name) + " (create it: shoal ns create " +
                                 std::string(name) + ")");
        if (it != namespaces->end()) props = &it->second;
    }
    if (dt) return internal::route_dt(request, sub, query, limits, defaults, name, props);
    return route_kv(request, sub, query, limits, defaults, name, props);
}

Routed route(const Request& request, const Limits& limits, const RequestDefaults& defaults,
             const replica::Namespaces* namespaces) {
    const std::size_t q = request.target.find('?');
    const std::string_view target = request.target;
    const std::string_view path = target.substr(0, q);
    const std::string_view query = q == std::string_view::npos ? std::string_view{} : target.substr(q + 1);

    if (path == "/cluster") return route_admin(request, path, query, Admin::cluster);
    if (path == "/cluster/join" || path == "/cluster/leave" || path == "/cluster/remove")
        return route_membership(request, path, query);
    if (path == "/metrics") return route_admin(request, path, query, Admin::metrics);
    if (path == "/health") return route_admin(request, path, query, Admin::health);
    if (path == "/kv" || path.starts_with(k_kv_prefix)) {
        const replica::NamespaceProps* props = nullptr;
        if (namespaces != nullptr) {
            if (auto it = namespaces->find(replica::k_default_namespace); it != namespaces->end()) props = &it->second;
        }
        return route_kv(request, path, query, limits, defaults, "", props);
    }
    if (path == "/ns" || path.starts_with(k_ns_prefix)) return route_ns(request, path, query, limits, defaults, namespaces);
    return text(404, "no such path: " + echo(path));
}

Response render(ClientOp op, const ClientReply& reply, Time now) {
    Response r;
    // A GET's value, or a PUT's stored siblings when it asked for them (returnbody).
    const bool get_ok = op != ClientOp::del && reply.code == errc::ok && !reply.siblings.empty();
    if (get_ok && reply.siblings.size() == 1) {
        r.status = 200;
        r.content_type = reply.siblings.front().content_type.empty() ? std::string("application/octet-stream")
                                                                     : reply.siblings.front().content_type;
        r.body = reply.siblings.front().value;
        const replica::Sibling& s = reply.siblings.front();
        r.headers.emplace_back("X-Shoal-Last-Modified-Ms", std::to_string(s.written.us / 1000));
        if (s.expires.us != 0 && now.us != 0)
            r.headers.emplace_back("X-Shoal-Expires-In-S", std::to_string(seconds_left(s, now)));
    } else if (get_ok) {
        r.status = 300;
        r.content_type = "application/json";
        r.body = siblings_json(reply.siblings, now);
    } else if (reply.code == errc::ok && op != ClientOp::get) {
        r.status = 204;
        r.content_type.clear();
    } else if (reply.code == errc::ok) {
        r = text(404, "not found");  // ok with no live sibling: nothing to show
    } else {
        r = render_error(reply);
    }
    if (!reply.context.empty()) r.headers.emplace_back(k_context_header, replica::context_to_token(reply.context));
    r.headers.emplace_back("X-Shoal-Replies", std::to_string(reply.replies));
    if (reply.code == errc::overloaded || reply.code == errc::shutting_down) r.headers.emplace_back("Retry-After", "1");
    return r;
}

}  // namespace shoal::http
