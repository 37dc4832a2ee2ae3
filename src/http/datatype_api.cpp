// The data-type half of the HTTP API: /ns/{ns}/dt/{key} on a namespace whose datatype
// is set, counter or map (replica/datatypes.h).
//
//   GET    /ns/{ns}/dt/{key}   {"type":"set","value":["apple"],"context":"..."}
//   POST   /ns/{ns}/dt/{key}   one update as JSON:
//            set:     {"add":"apple"} or {"add":["apple","pear"]},
//                     {"remove":"pear","context":"<the context of a read>"} (the
//                     context may come in X-Shoal-Context instead), or both
//            counter: {"increment":2} or {"decrement":1}
//            map:     {"set":{"name":"alice"}, "remove":["theme"], "increment":{"visits":1},
//                      "enable":["vip"], "add":{"items":["apple"]}, "discard":{"items":"pear"},
//                      "update":{"address":{"set":{"city":"Lyon"}}}, "assign":{"note":"hi"},
//                      "context":"..."}
//                     (any of them; registers are set, counters incremented (by a
//                     negative amount to decrement), flags enabled and disabled, set
//                     fields' items added and discarded, multi-value registers
//                     assigned (replacing the values the context saw), nested maps
//                     updated with the
//                     same operations, fields of any kind but a counter removed; a
//                     discard and the remove of a set or map field need the context)
//   DELETE /ns/{ns}/dt/{key}   the whole key, as /kv/ deletes
//
// The POST body is parsed with Boost.JSON (bounded by max_value_bytes, as a value is);
// nothing here touches a socket or a clock.
#include <boost/json.hpp>

#include "core/errc.h"
#include "http/api.h"
#include "http/internal.h"
#include "replica/codec.h"

namespace shoal::http {

namespace {

namespace json = boost::json;
namespace dt = replica::dt;
using internal::echo;
using internal::text;
using replica::ClientOp;
using replica::ClientReply;

// The strings of a JSON string or array of strings, into `out`; false for anything else.
bool strings_of(const json::value& v, std::vector<std::string>& out) {
    if (const auto* s = v.if_string()) {
        out.emplace_back(s->data(), s->size());
        return true;
    }
    const auto* a = v.if_array();
    if (a == nullptr) return false;
    for (const auto& item : *a) {
        const auto* s = item.if_string();
        if (s == nullptr) return false;
        out.emplace_back(s->data(), s->size());
    }
    return true;
}

// The operations of a map's update (any depth) from `obj`, into `u`; the 400 saying
// what is wrong, or nothing. The context is the caller's (the outermost update's).
std::optional<Response> parse_map_ops(const json::object& obj, dt::MapUpdate& u, std::size_t depth) {
    // {"field": "item"} or {"field": ["a", "b"]}, for add and discard.
    const auto named_lists = [](const json::value& value, auto& out) {
        const auto* fields = value.if_object();
        if (fields == nullptr) return false;
        for (const auto& [field, v] : *fields) {
            std::vector<std::string> items;
            if (!strings_of(v, items)) return false;
            out.emplace_back(std::string(field), std::move(items));
        }
        return true;
    };
    for (const auto& [name, value] : obj) {
        if (name == "set") {
            const auto* fields = value.if_object();
            if (fields == nullptr) return text(400, "set takes an object of field names and string values");
            for (const auto& [field, v] : *fields) {
                const auto* str = v.if_string();
                if (str == nullptr) return text(400, "set takes string values (field " + echo(field) + ")");
                u.set.emplace_back(std::string(field), std::string(str->data(), str->size()));
            }
        } else if (name == "remove") {
            if (!strings_of(value, u.remove)) return text(400, "remove takes a field name or an array of them");
        } else if (name == "increment") {
            const auto* fields = value.if_object();
            if (fields == nullptr) return text(400, "increment takes an object of field names and integers");
            for (const auto& [field, v] : *fields) {
                if (!v.is_int64()) return text(400, "increment takes 64-bit integers (field " + echo(field) + ")");
                u.increment.emplace_back(std::string(field), v.as_int64());
            }
        } else if (name == "enable" || name == "disable") {
            std::vector<std::string> names;
            if (!strings_of(value, names))
                return text(400, std::string(name) + " takes a field name or an array of them");
            for (auto& n : names) u.flag.emplace_back(std::move(n), name == "enable");
        } else if (name == "assign") {
            const auto* fields = value.if_object();
            if (fields == nullptr) return text(400, "assign takes an object of field names and string values");
            for (const auto& [field, v] : *fields) {
                const auto* str = v.if_string();
                if (str == nullptr) return text(400, "assign takes string values (field " + echo(field) + ")");
                u.assign.emplace_back(std::string(field), std::string(str->data(), str->size()));
            }
        } else if (name == "add" || name == "discard") {
            if (!named_lists(value, name == "add" ? u.add : u.discard))
                return text(400, std::string(name) +
                                     " takes an object of set field names and an item or an array of them");
        } else if (name == "update") {
            const auto* fields = value.if_object();
            if (fields == nullptr) return text(400, "update takes an object of map field names and their updates");
            if (depth >= dt::k_max_map_depth)
                return text(400, "maps nest at most " + std::to_string(dt::k_max_map_depth) + " deep");
            for (const auto& [field, v] : *fields) {
                const auto* nested = v.if_object();
                if (nested == nullptr || nested->empty())
                    return text(400, "update takes an update object for each map field (field " + echo(field) + ")");
                dt::NestedMapUpdate n{std::string(field), {}};
                if (auto bad = parse_map_ops(*nested, n.update, depth + 1)) return bad;
                u.update.push_back(std::move(n));
            }
        } else if (name == "context" && depth == 1) {
            continue;  // the caller's
        } else {
            return text(400, "unknown operation for a map: " + echo(name) +
                                 " (set, assign, remove, increment, enable, disable, add, discard, update; and "
                                 "context, in the outermost update only)");
        }
    }
    return std::nullopt;
}

// A map's update: registers set and removed, counters incremented, flags enabled and
// disabled, set fields' items added and discarded, multi-value registers assigned,
// nested maps updated.
std::variant<dt::Update, Response> parse_map_update(const json::object& obj, std::string_view header_context,
                                                    const Limits& limits, const char* shape) {
    dt::MapUpdate u;
    if (auto bad = parse_map_ops(obj, u, 1)) return std::move(*bad);
    std::string context(header_context);
    if (const auto* c = obj.if_contains("context")) {
        const auto* s = c->if_string();
        if (s == nullptr) return text(400, "context takes the X-Shoal-Context of a read, as a string");
        if (!header_context.empty() && *s != header_context)
            return text(400, "the body's context and X-Shoal-Context differ");
        context.assign(s->data(), s->size());
    }
    if (replica::context_from_token(context, u.context)) return text(400, "invalid context");
    if (!u.discard.empty() && u.context.empty())
        return text(412, "a discard needs the context of a read that saw the items (GET this key, send its context): "
                         "an item the writer never saw is not removed");
    const dt::Update update{std::move(u)};
    if (const auto bad = dt::check_update(update, limits.max_key_bytes)) {
        if (bad == errc::value_too_large)
            return text(413, "a field name or item is longer than " + std::to_string(limits.max_key_bytes) +
                                 " bytes (max_key_bytes)");
        if (bad == errc::bad_context) return text(400, "the context names too many actors");
        return text(400, std::string("the body must be ") + shape + ", naming 1 to " +
                             std::to_string(dt::k_max_update_elements) + " fields and items, no field name empty");
    }
    return update;
}

// The update a POST body asks for, or the 400 saying why not.
std::variant<dt::Update, Response> parse_update(dt::Type type, std::string_view body, std::string_view header_context,
                                                const Limits& limits) {
    json::error_code ec;
    const json::value doc = json::parse(body, ec);
    const json::object* obj = ec ? nullptr : doc.if_object();
    const char* shape = type == dt::Type::set
                            ? R"(a JSON object: {"add":"item"}, {"add":["a","b"]} or {"remove":"item","context":"..."})"
                            : R"(a JSON object: {"increment":N} or {"decrement":N})";
    if (type == dt::Type::map)
        shape = R"(a JSON object: {"set":{"field":"value"}, "remove":["field"], "increment":{"field":N}, )"
                R"("enable":["flag"], "add":{"set_field":["item"]}, "discard":{"set_field":["item"]}, )"
                R"("assign":{"field":"value"}, "update":{"map_field":{...}}, "context":"..."})";
    if (obj == nullptr || obj->empty()) return text(400, std::string("the body must be ") + shape);
    if (type == dt::Type::map) return parse_map_update(*obj, header_context, limits, shape);
    if (type == dt::Type::counter) {
        dt::CounterUpdate u;
        if (obj->size() != 1) return text(400, std::string("the body must be ") + shape);
        const auto& [name, value] = *obj->begin();
        if (name != "increment" && name != "decrement") return text(400, "unknown operation for a counter: " + echo(name));
        if (!value.is_int64() || (name == "decrement" && value.as_int64() == INT64_MIN))
            return text(400, std::string(name) + " takes a 64-bit integer");
        u.delta = name == "increment" ? value.as_int64() : -value.as_int64();
        return dt::Update{u};
    }
    dt::SetUpdate u;
    std::string context = std::string(header_context);
    for (const auto& [name, value] : *obj) {
        if (name == "add" || name == "remove") {
            if (!strings_of(value, name == "add" ? u.add : u.remove))
                return text(400, std::string(name) + " takes a string or an array of strings");
        } else if (name == "context") {
            const auto* s = value.if_string();
            if (s == nullptr) return text(400, "context takes the X-Shoal-Context of a read, as a string");
            if (!header_context.empty() && *s != header_context)
                return text(400, "the body's context and X-Shoal-Context differ");
            context.assign(s->data(), s->size());
        } else {
            return text(400, "unknown operation for a set: " + echo(name) + " (add, remove, context)");
        }
    }
    if (replica::context_from_token(context, u.context)) return text(400, "invalid context");
    if (!u.remove.empty() && u.context.empty())
        return text(412, "a remove needs the context of a read that saw the item (GET this key, send its context): "
                         "an item the writer never saw is not removed");
    const dt::Update update{std::move(u)};
    if (const auto bad = dt::check_update(update, limits.max_key_bytes)) {
        if (bad == errc::value_too_large)
            return text(413, "an item is longer than " + std::to_string(limits.max_key_bytes) + " bytes (max_key_bytes)");
        if (bad == errc::bad_context) return text(400, "the context names too many actors");
        return text(400, "an update adds or removes 1 to " + std::to_string(dt::k_max_update_elements) + " items");
    }
    return update;
}

}  // namespace

namespace internal {

Routed route_dt(const Request& request, std::string_view path, std::string_view query, const Limits& limits,
                const RequestDefaults& defaults, std::string_view ns, const replica::NamespaceProps* props) {
    const auto type = props == nullptr ? std::nullopt : dt::type_by_name(props->datatype);
    if (!type) {
        return text(409, "namespace " + std::string(ns) +
                             " holds plain values (use /ns/" + std::string(ns) +
                             "/kv/); a data type needs a namespace made with datatype=set, counter or map");
    }
    KvCall call;
    call.datatype = type;
    auto& q = call.request;
    if (request.method == "GET" || request.method == "HEAD") {
        q.op = ClientOp::get;
    } else if (request.method == "POST") {
        q.op = ClientOp::put;
    } else if (request.method == "DELETE") {
        q.op = ClientOp::del;
    } else {
        Response r = text(405, "method " + echo(request.method) + " not allowed on /dt/{key}");
        r.headers.emplace_back("Allow", "GET, HEAD, POST, DELETE");
        return r;
    }
    if (auto bad = parse_options(query, q.op, q.options)) return std::move(*bad);
    if (q.options.return_body) return text(400, "returnbody does not apply to data types: read the key");
    if (auto bad = check_bounds(q.op, q.options, defaults, props)) return std::move(*bad);
    q.options.ns = ns;
    constexpr std::string_view prefix = "/dt/";
    if (auto bad = parse_key(path.size() > prefix.size() ? path.substr(prefix.size()) : "", limits, q.key))
        return std::move(*bad);
    if (!request.if_match.empty() || !request.if_none_match.empty())
        return text(400, "data types merge concurrent updates: If-Match and If-None-Match do not apply");
    if (q.op == ClientOp::put) {
        if (request.body.size() > limits.max_value_bytes)
            return too_large("update", request.body.size(), limits.max_value_bytes);
        auto parsed = parse_update(*type, request.body, request.context, limits);
        if (auto* refused = std::get_if<Response>(&parsed)) return std::move(*refused);
        q.update = dt::encode(std::get<dt::Update>(parsed));
        if (q.update.size() > limits.max_value_bytes)
            return too_large("update", q.update.size(), limits.max_value_bytes);
        return call;
    }
    if (!request.body.empty()) return text(400, std::string(request.method) + " takes no body");
    if (replica::context_from_token(request.context, q.context)) return text(400, "invalid X-Shoal-Context");
    if (q.op == ClientOp::get) q.context = {};
    return call;
}

}  // namespace internal

Response render_datatype(dt::Type type, ClientOp op, const ClientReply& reply, Time now) {
    if (op == ClientOp::put && reply.code != errc::ok) {
        // What an update refused by the leader's data type means, in its own words.
        switch (reply.code) {
            case errc::wrong_type:
                return text(409, "wrong type: the update writes a field as another kind than it holds, or "
                                 "removes a counter field (or a map holding one); nothing was changed");
            case errc::precondition_failed:
                return text(412, "this remove needs the context of a read that saw what it removes (GET the key, "
                                 "send its context)");
            case errc::bad_request:
                return text(400, "the update would take a counter past the 64-bit range, or nest maps deeper "
                                 "than " + std::to_string(dt::k_max_map_depth));
            default:
                break;
        }
    }
    if (op != ClientOp::get) {
        // No context after a write: it would name what the leader holds, adds this
        // client never read among them, and a remove made with it would take those.
        ClientReply written = reply;
        written.context = {};
        return render(op, written, now);
    }
    if (reply.code != errc::ok || reply.siblings.empty()) return render(op, reply, now);
    dt::State state;
    if (const auto ec = dt::merge_siblings(type, reply.siblings, now, state)) {
        ClientReply failed = reply;
        failed.code = to_errc(ec, errc::corrupt);
        return render(op, failed, now);
    }
    Response r;
    r.content_type = "application/json";
    const std::string context = replica::context_to_token(reply.context);
    r.body = "{\"type\":\"" + std::string(dt::type_name(type)) + "\",\"value\":" + dt::to_json(state) +
             ",\"context\":\"" + context + "\"}\n";
    if (!context.empty()) r.headers.emplace_back(k_context_header, context);
    r.headers.emplace_back("X-Shoal-Replies", std::to_string(reply.replies));
    return r;
}

}  // namespace shoal::http
