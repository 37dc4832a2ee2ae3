// The HTTP API's pure half: a request in, either a call to make on the core, an
// admin query, or a finished response out; and a core reply rendered as a response.
// No sockets, no Beast: tested without a network (test/unit/test_http_api.cpp).
#pragma once

#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "core/limits.h"
#include "gossip/view.h"
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
};

enum class Admin { cluster, metrics, health };

// A membership command, answered by the node's membership layer:
//   POST /cluster/join?seed=HOST:PORT[&seed=...]   this (empty, alone) node joins a cluster
//   POST /cluster/leave[?node=ID]                  this node (or ID) hands off and exits
//   POST /cluster/remove?node=ID                   forced removal of a dead member
struct MembershipCall {
    enum class Op { join, leave, remove };
    Op op = Op::join;
    std::vector<std::string> seeds;  // join: peer addresses, at most k_max_seeds
    std::uint32_t node = 0;          // leave/remove: the member (0: this node, leave only)
};
inline constexpr std::size_t k_max_seeds = gossip::k_max_seeds;

using Routed = std::variant<KvCall, Admin, MembershipCall, Response>;

// Parses and validates a request. Bad input comes back as a finished Response
// (400 with a message, 404 for an unknown path, 405 for a wrong method, 413 for
// an over-limit key or value).
// The node's request defaults, so that a 400 can name the bound a request broke
// ("r=4 exceeds n=3") instead of a generic refusal (the core checks them again).
struct RequestDefaults {
    std::uint32_t n = 3, r = 2, w = 2;
    std::int64_t max_timeout_ms = 60000;
};
Routed route(const Request& request, const Limits& limits, const RequestDefaults& defaults = {});

// Renders the core's reply to a key-value call: 200 (one sibling: its bytes), 300
// (several: a JSON list), 204 (put/delete done), 404, 409, 503 with the replies
// counted, and so on. The causal context goes in X-Shoal-Context.
// `now` (wall time) gives the seconds left of an expiring value; {0}: not shown.
Response render(replica::ClientOp op, const replica::ClientReply& reply, Time now = {});

}  // namespace shoal::http
