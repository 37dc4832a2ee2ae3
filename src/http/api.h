// The HTTP API's pure half: a request in, either a call to make on the core, an
// admin query, or a finished response out; and a core reply rendered as a response.
// No sockets, no Beast: tested without a network (test/unit/test_http_api.cpp).
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "core/limits.h"
#include "gossip/view.h"
#include "replica/datatypes.h"
#include "replica/namespaces.h"
#include "replica/messages.h"

namespace shoal::http {

inline constexpr const char* k_context_header = "X-Shoal-Context";

struct Request {
    std::string method;   // "GET", "PUT", ...
    std::string target;   // "/kv/cart%2Falice?r=2", as received
    std::string context;  // the X-Shoal-Context header, if any
    std::string body;
    std::string if_none_match;  // the If-None-Match header ("*": create only)
    std::string if_match;       // the If-Match header: a context token (write only if nothing unseen is stored)
    std::string content_type;   // the Content-Type header: a PUT stores it with the value
};

struct Response {
    unsigned status = 200;
    std::string content_type = "text/plain; charset=utf-8";
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
};

// A key-value request to hand to the core.
struct KvCall {
    replica::ClientRequest request;
    // Under /ns/{ns}/dt/: the namespace's data type, and the reply is rendered by
    // render_datatype. nullopt: a plain key.
    std::optional<replica::dt::Type> datatype;
};

enum class Admin { cluster, metrics, health };

// A membership command, answered by the node's membership layer:
//   POST /cluster/join?seed=HOST:PORT[&seed=...]   this (empty, alone) node joins a cluster
//   POST /cluster/leave[?node=ID]                  this node (or ID) hands off and exits
//   POST /cluster/remove?node=ID[&force=true]      forced removal of a dead member (one
//                                                  believed up only with force=true)
struct MembershipCall {
    enum class Op { join, leave, remove };
    Op op = Op::join;
    std::vector<std::string> seeds;  // join: peer addresses, at most k_max_seeds
    std::uint32_t node = 0;          // leave/remove: the member (0: this node, leave only)
    bool force = false;              // remove: even a member the failure detector believes up
};
inline constexpr std::size_t k_max_seeds = gossip::k_max_seeds;

// A namespace command, answered by the node's membership layer (the namespaces live
// in the gossiped view):
//   GET  /ns                     every namespace and its properties (JSON)
//   GET  /ns/{name}              one
//   POST /ns/{name}?prop=value   creates it (409 when it exists)
//   PUT  /ns/{name}?prop=value   changes the properties given, keeps the others (404
//                                when it does not exist)
// Properties: n, r, w, pr, pw (a number, or one|quorum|all), conflict (dvv|lww),
// max_siblings, ttl_s, datatype.
struct NamespaceCall {
    enum class Op { list, show, create, set };
    Op op = Op::list;
    std::string name;
    replica::NamespaceProps props;  // the properties given; the others as a new namespace has them
    unsigned given = 0;             // bit i: property k_namespace_props[i] given
};
inline constexpr const char* k_namespace_props[] = {"n",  "r", "w", "pr", "pw", "conflict", "max_siblings",
                                                    "ttl_s", "datatype"};
// The properties `call` gives, over `base` (a namespace's current ones, or a new one's).
replica::NamespaceProps apply_props(const NamespaceCall& call, replica::NamespaceProps base);
// A namespace as JSON: {"name":..., "n":..., "r":"quorum", "conflict":"lww", ...}
// (0: the node's default), with its version and the node that last set it.
std::string namespace_json(std::string_view name, const gossip::NamespaceRecord& record);

using Routed = std::variant<KvCall, Admin, MembershipCall, NamespaceCall, Response>;

// Parses and validates a request. Bad input comes back as a finished Response
// (400 with a message, 404 for an unknown path, 405 for a wrong method, 413 for
// an over-limit key or value).
// The node's request defaults, so that a 400 can name the bound a request broke
// ("r=4 exceeds n=3") instead of a generic refusal (the core checks them again).
struct RequestDefaults {
    std::uint32_t n = 3, r = 2, w = 2;
    std::int64_t max_timeout_ms = 60000;
};
// A key-value call under /ns/{name}/kv/ takes that namespace's defaults from
// `namespaces` (a name not there is a 404; nullptr: not checked here, the core does).
Routed route(const Request& request, const Limits& limits, const RequestDefaults& defaults = {},
             const replica::Namespaces* namespaces = nullptr);

// The first bound a request's options break, with the values that broke it ("r=4
// exceeds n=3"), counting `ns`'s properties (when given) and then the node's defaults
// for what the request leaves out, as the core's Node::validate does. nullopt: none.
std::optional<Response> check_bounds(replica::ClientOp op, const replica::RequestOptions& o, const RequestDefaults& d,
                                     const replica::NamespaceProps* ns);

// Renders the core's reply to a key-value call: 200 (one sibling: its bytes), 300
// (several: a JSON list), 204 (put/delete done), 404, 409, 503 with the replies
// counted, and so on. The causal context goes in X-Shoal-Context.
// `now` (wall time) gives the seconds left of an expiring value; {0}: not shown.
Response render(replica::ClientOp op, const replica::ClientReply& reply, Time now = {});

// Renders the core's reply to a data-type call (/ns/{ns}/dt/{key}): a read is
// {"type":"set","value":["apple","pear"],"context":"..."} (a counter's value is a
// number), the merge of the key's siblings; writes and errors as render() does.
Response render_datatype(replica::dt::Type type, replica::ClientOp op, const replica::ClientReply& reply, Time now = {});

}  // namespace shoal::http
