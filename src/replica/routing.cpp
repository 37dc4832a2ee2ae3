// A client request's checks and where it goes: the namespace's defaults and the
// quorum bounds (validate), the preference list with fallbacks standing in for down
// primaries (pick_targets), and the refusal that says why when too few are left.
#include <algorithm>

#include "core/hash.h"
#include "replica/datatypes.h"
#include "replica/node.h"

namespace shoal::replica {

std::error_code Node::validate(const ClientRequest& request, RequestOptions& o) const {
    if (request.op == ClientOp::list) {
        // A page names a position and a prefix, no key; each is bounded like a key.
        if (request.list.done || request.list.partition >= ring_->partition_count() ||
            !valid_list_range(request.list_prefix, request.list.after, request.list_limit,
                              config_.limits.max_key_bytes))
            return errc::bad_request;
    } else if (auto ec = check_key(config_.limits, request.key)) {
        return ec;
    }
    if (request.op == ClientOp::put) {
        if (auto ec = check_value(config_.limits, request.value)) return ec;
        if (auto ec = check_value(config_.limits, request.update)) return ec;
    }
    if (request.content_type.size() > k_max_content_type_bytes) return errc::bad_request;
    // However it arrived (HTTP token, native frame), a client's context is bounded so
    // that joined with a stored one it still decodes.
    if (request.context.entries().size() > k_max_client_context_entries) return errc::bad_context;
    o = request.options;
    // The namespace's properties are the request's defaults.
    const std::string_view ns = o.ns.empty() ? k_default_namespace : std::string_view(o.ns);
    if (!valid_namespace_name(ns)) return errc::bad_request;
    const auto props_it = namespaces_.find(ns);
    if (props_it == namespaces_.end() && ns != k_default_namespace) return errc::no_namespace;
    // A data-type namespace takes updates of its type and no plain values; another
    // takes no updates.
    const std::string_view datatype =
        props_it == namespaces_.end() ? std::string_view{} : std::string_view(props_it->second.datatype);
    if (request.op == ClientOp::put) {
        if (datatype.empty() != request.update.empty()) return errc::wrong_type;
        if (!request.update.empty()) {
            dt::Update update;
            if (auto ec = dt::decode(request.update, update)) return ec;
            if (dt::type_by_name(datatype) != dt::type_of(update)) return errc::wrong_type;
            if (auto ec = dt::check_update(update, config_.limits.max_key_bytes)) return ec;
        }
    }
    if (props_it != namespaces_.end()) {
        const NamespaceProps& p = props_it->second;
        if (p.n != 0 && o.n > p.n) return errc::bad_request;  // more replicas than the namespace keeps
        if (o.n == 0) o.n = std::min(p.n, config_.n);
        for (auto [q, d] : {std::pair{&o.r, p.r}, {&o.w, p.w}, {&o.pr, p.pr}, {&o.pw, p.pw}})
            if (*q == 0) *q = d;
        if (o.ttl_s == 0) o.ttl_s = p.ttl_s;
    }
    if (o.n == 0) o.n = config_.n;
    if (o.n > config_.n) return errc::bad_request;  // more replicas than the cluster keeps
    for (std::uint32_t* q : {&o.r, &o.w, &o.pr, &o.pw, &o.dw}) *q = resolve_quorum(*q, o.n);
    if (o.r == 0) o.r = std::min(config_.r, o.n);
    if (o.w == 0) o.w = std::min(config_.w, o.n);
    if (o.timeout_ms == 0) o.timeout_ms = config_.request_timeout.ms();
    // A delete names what it deletes: "create only" makes no sense, nor does a
    // delete conditional on an empty context.
    if (request.op == ClientOp::del && o.condition != WriteCondition::none &&
        (o.condition == WriteCondition::if_none_match || request.context.empty()))
        return errc::bad_request;
    const bool sane = o.n <= k_max_replicas && o.r <= o.n && o.w <= o.n && o.pr <= o.r && o.pw <= o.w && o.dw <= o.w &&
                      o.timeout_ms > 0 && o.timeout_ms <= config_.max_request_timeout.ms() && o.ttl_s >= 0 &&
                      o.ttl_s <= k_max_ttl_s;
    if (!sane) return errc::bad_request;
    return {};
}

std::uint32_t Node::max_siblings_of(std::string_view key) const {
    if (auto it = namespaces_.find(namespace_of(key)); it != namespaces_.end() && it->second.max_siblings != 0)
        return it->second.max_siblings;
    return static_cast<std::uint32_t>(config_.limits.max_siblings);
}

void Node::note_routed(std::string_view key, ClientOp op, const std::vector<Target>& targets, NodeId leader) {
    std::vector<NodeId> nodes;
    std::size_t fallbacks = 0;
    for (const Target& t : targets) {
        nodes.push_back(t.node);
        fallbacks += t.primary ? 0 : 1;
    }
    events_->routed(key, op, nodes, fallbacks, leader);
}

void Node::fail_unavailable(ClientToken token, const std::vector<Target>& targets, std::uint32_t n,
                            std::uint32_t needed) {
    const auto up = static_cast<std::uint32_t>(
        std::count_if(targets.begin(), targets.end(), [](const Target& t) { return t.primary; }));
    const auto primaries = static_cast<std::uint32_t>(std::min<std::size_t>(n, ring_->members().size()));
    fail(token, errc::unavailable, static_cast<std::uint32_t>(targets.size()), needed);
    ClientReply& reply = out_.replies.back().reply;
    reply.primaries = primaries;
    reply.primaries_down = primaries - std::min(up, primaries);
}

void Node::pick_targets(std::string_view key, std::uint32_t n, std::vector<Target>& out) const {
    out.clear();
    const auto order = ring_->preference_order(ring_->partition_of(hash_key(key)));
    const std::size_t primaries = std::min<std::size_t>(n, order.size());
    NodeId skipped[k_max_replicas];
    std::size_t skipped_count = 0;
    for (std::size_t i = 0; i < primaries; ++i) {
        if (believes_up(order[i])) {
            out.push_back(Target{order[i], NodeId{}, true});
        } else {
            skipped[skipped_count++] = order[i];
        }
    }
    // Sloppy quorum: each down primary is replaced by the next healthy fallback,
    // which holds the write as a hint for it.
    std::size_t next_skipped = 0;
    for (std::size_t i = primaries; i < order.size() && next_skipped < skipped_count; ++i) {
        if (believes_up(order[i])) out.push_back(Target{order[i], skipped[next_skipped++], false});
    }
    // At most one target per primary, each node once, a fallback always for a primary.
    SHOAL_ASSERT(out.size() <= primaries);
    for (std::size_t i = 0; i < out.size(); ++i) {
        SHOAL_ASSERT(out[i].primary != out[i].hint_for.valid());
        for (std::size_t j = 0; j < i; ++j) SHOAL_ASSERT(out[j].node != out[i].node);
    }
}

}  // namespace shoal::replica
