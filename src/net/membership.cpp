#include "net/membership.h"

#include <cstdio>
#include <optional>

#include "core/hash.h"
#include "gossip/claim.h"
#include "net/address.h"
#include "net/log.h"
#include "net/metrics.h"
#include "core/json.h"
#include "store/keys.h"

namespace shoal::net {

namespace {

http::Response answer(unsigned status, std::string body) {
    http::Response r;
    r.status = status;
    r.body = std::move(body) + "\n";
    return r;
}

std::string id_text(NodeId id) { return std::to_string(id.value); }

}  // namespace

Membership::Membership(gossip::Gossiper& gossiper, replica::Node& node, health::Detector& detector,
                       store::Store& store)
    : gossiper_(gossiper), node_(node), detector_(detector), store_(store) {}

bool Membership::sync(Instant now) {
    const bool was_joined = glue_.joined();
    const membership::SyncReport report = glue_.sync(now, gossiper_, node_);
    for (const auto& f : report.finished) {
        log::info("handoff stream finished", "partition=" + std::to_string(f.move.slot.value) +
                                                 " to=" + id_text(f.move.to) + (f.taken ? "" : " stale=true"));
    }
    if (!report.view_changed) return false;
    // One log line whenever the membership summary changes (not on every merge).
    std::string summary;
    for (const auto& [id, m] : gossiper_.view().members)
        summary += " " + id_text(id) + ":" + std::string(gossip::status_name(m.status));
    const std::size_t moving = gossip::moves(gossiper_.view()).size();
    summary = "members=" + log::quoted(summary.empty() ? summary : summary.substr(1)) +
              " claimant=" + id_text(gossip::claimant(gossiper_.view())) + (moving ? " handoffs=running" : "");
    if (summary != last_summary_) {
        log::info("cluster view", summary + " moving=" + std::to_string(moving));
        last_summary_ = std::move(summary);
    }
    if (report.ring_installed && !was_joined)
        log::info("joined the cluster", "members=" + std::to_string(gossiper_.ring()->members().size()));
    return true;
}

std::vector<NodeId> Membership::tick(Instant now) {
    return glue_.tick(now, gossiper_, detector_);
}

bool holds_data(store::Store& store) {
    bool any = false;
    const std::string begin = store::data_range(PartitionId{0}).begin;
    const std::string end = store::data_range(PartitionId{ring::k_max_partitions}).begin;
    const auto ec = store.scan(begin, end, [&](std::string_view, std::string_view) {
        any = true;
        return false;
    });
    return any || ec;  // unreadable: assume it does
}

http::Response Membership::command(Instant now, const http::MembershipCall& call) {
    using Op = http::MembershipCall::Op;
    const NodeId self = gossiper_.config().id;
    if (call.op == Op::join) {
        for (const auto& seed : call.seeds) {
            std::string host;
            std::uint16_t port = 0;
            if (!parse_host_port(seed, host, port) || port == 0)
                return answer(400, "seed " + seed + " is not HOST:PORT (a member's peer address)");
        }
        if (gossiper_.view().members.size() != 1)
            return answer(409, "this node is already a member of a cluster with other members");
        if (holds_data(store_))
            return answer(409, "this node holds data; only an empty node may join another cluster");
        if (auto ec = gossiper_.join(now, call.seeds)) {
            return ec == errc::store_error ? answer(500, "cannot save the seeds: store error")
                                           : answer(400, "bad seed address");
        }
        log::info("joining through seeds", "seeds=" + std::to_string(call.seeds.size()));
        return answer(202, "joining: watch `shoal cluster status` for the handoffs to finish");
    }
    const NodeId target = call.node == 0 ? self : NodeId{call.node};
    const gossip::MemberRecord* m = gossip::find_member(gossiper_.view(), target);
    if (m == nullptr) return answer(404, "no member with id " + id_text(target));
    if (target != self && !gossiper_.may_rule(now, target)) return misdirected(now, target);
    if (call.op == Op::leave) {
        if (gossiper_.leave(now, target))
            return answer(409, "node " + id_text(target) + " cannot leave: it is " +
                                   std::string(gossip::status_name(m->status)));
        log::info("leave requested", "member=" + id_text(target));
        return answer(202, "node " + id_text(target) + " is leaving: it hands off its partitions, then exits");
    }
    if (call.op == Op::remove && !call.force && target != self && gossiper_.believes_up(target, now))
        return answer(409, "node " + id_text(target) +
                               " is up as far as this node can tell: removing it drops its partitions without a "
                               "handoff. Use leave to move its data off, stop it first, or force it (force=true, "
                               "shoal cluster remove --force)");
    if (gossiper_.remove(now, target))
        return answer(409, "node " + id_text(target) + " cannot be removed (it is " +
                               std::string(gossip::status_name(m->status)) +
                               (target == self ? ", and a node cannot remove itself: use leave" : "") + ")");
    log::warn("member removed", "member=" + id_text(target));
    return answer(202, "node " + id_text(target) + " removed: its partitions were reassigned");
}

// Another member's status changes only through the ruler (gossip/authority.h): the
// others would not take it from this node. The answer names where to send it; the CLI
// follows it.
http::Response Membership::misdirected(Instant now, NodeId target) const {
    const NodeId ruler = gossiper_.ruler(now);
    const gossip::MemberRecord* r = gossip::find_member(gossiper_.view(), ruler);
    http::Response res;
    res.status = 421;
    res.content_type = "application/json";
    std::string why = "node " + id_text(gossiper_.config().id) + " may not change the status of node " +
                      id_text(target) + ": ";
    why += r ? "send it to node " + id_text(ruler) + " (the claimant, or the first valid member that is up)"
             : "no valid member is up as far as this node can tell";
    res.body = "{\"error\":" + json_string(why) + ",\"ruler\":" + id_text(ruler) +
               ",\"ruler_http\":" + json_string(r ? r->http_address : std::string{}) + "}\n";
    return res;
}

http::Response Membership::namespaces(Instant now, const http::NamespaceCall& call) {
    using Op = http::NamespaceCall::Op;
    const auto& all = gossiper_.view().namespaces;
    const auto json = [](std::string body) {
        http::Response r;
        r.content_type = "application/json";
        r.body = std::move(body) + "\n";
        return r;
    };
    // `default` always exists: with the node's own defaults until it is set.
    const auto record_of = [&](std::string_view name) -> std::optional<gossip::NamespaceRecord> {
        if (auto it = all.find(name); it != all.end()) return it->second;
        if (name != replica::k_default_namespace) return std::nullopt;
        gossip::NamespaceRecord d;
        d.props.conflict = node_.config().conflict;
        return d;
    };
    if (call.op == Op::list) {
        std::string j = "{\"namespaces\":[" + http::namespace_json(replica::k_default_namespace,
                                                                    *record_of(replica::k_default_namespace));
        for (const auto& [name, record] : all)
            if (name != replica::k_default_namespace) j += "," + http::namespace_json(name, record);
        return json(j + "]}");
    }
    const std::optional<gossip::NamespaceRecord> current = record_of(call.name);
    if (call.op == Op::show) {
        if (!current) return answer(404, "no such namespace: " + call.name);
        return json(http::namespace_json(call.name, *current));
    }
    if (!glue_.joined()) return answer(503, "this node has not joined a cluster yet");
    const replica::NamespaceProps props = http::apply_props(call, current ? current->props : replica::NamespaceProps{});
    if (auto problem = replica::props_problem(props); !problem.empty()) return answer(400, problem);
    // Stored values are of their namespace's type: plain values do not read as sets.
    if (current && current->props.datatype != props.datatype)
        return answer(409, "namespace " + call.name + " keeps its datatype (" +
                               (current->props.datatype.empty() ? std::string("none") : current->props.datatype) +
                               "): make a new namespace for another");
    // Every request of the namespace must pass the core's checks with these defaults.
    const auto& cfg = node_.config();
    if (props.n > cfg.n) return answer(400, "n=" + std::to_string(props.n) + " exceeds the node's n=" + std::to_string(cfg.n));
    // A request that gives nothing of its own, read and write, checked as the router does.
    const http::RequestDefaults d{cfg.n, std::min(cfg.r, cfg.n), std::min(cfg.w, cfg.n), cfg.max_request_timeout.ms()};
    for (auto op : {replica::ClientOp::get, replica::ClientOp::put})
        if (auto refused = http::check_bounds(op, {}, d, &props)) return *refused;
    const bool create = call.op == Op::create;
    if (auto ec = gossiper_.put_namespace(now, call.name, props, create)) {
        if (ec == errc::precondition_failed) return answer(409, "namespace " + call.name + " exists: change it with PUT");
        if (ec == errc::no_namespace) return answer(404, "no such namespace: " + call.name + " (create it with POST)");
        if (ec == errc::overloaded)
            return answer(409, "no room: a cluster holds at most " + std::to_string(k_max_namespaces) + " namespaces");
        return answer(400, "bad namespace");
    }
    glue_.install_namespaces(gossiper_, node_);
    log::info(create ? "namespace created" : "namespace changed", "namespace=" + call.name);
    http::Response done = json(http::namespace_json(call.name, gossiper_.view().namespaces.at(call.name)));
    done.status = create ? 201 : 200;
    return done;
}

std::string Membership::cluster_json(Instant now, std::string_view sync_mode) {
    const gossip::ClusterView& view = gossiper_.view();
    const auto& cfg = node_.config();
    std::string j = "{\"node\":" + id_text(cfg.id) + ",\"status\":" +
                    json_string(gossip::status_name(gossiper_.self_status())) +
                    ",\"claimant\":" + id_text(gossip::claimant(view)) +
                    ",\"ruler\":" + id_text(gossiper_.ruler(now)) +
                    // A string: 64 bits do not fit a JSON number everywhere.
                    ",\"cluster_id\":\"" + std::to_string(view.cluster_id) + "\"" +
                    ",\"joined\":" + (glue_.joined() ? "true" : "false") +
                    ",\"settled\":" + (gossip::settled(view) ? "true" : "false") +
                    ",\"epoch\":" + std::to_string(gossiper_.view_epoch()) + ",\"members\":[";
    bool first = true;
    for (const auto& [id, m] : view.members) {
        if (!first) j += ',';
        first = false;
        const bool up = id == cfg.id || (gossip::is_active(m.status) && gossiper_.believes_up(id, now));
        j += "{\"id\":" + id_text(id) + ",\"status\":" + json_string(gossip::status_name(m.status)) +
             ",\"zone\":" + json_string(m.zone) + ",\"peer\":" + json_string(m.peer_address) +
             ",\"client\":" + json_string(m.client_address) + ",\"http\":" + json_string(m.http_address) +
             ",\"incarnation\":" + std::to_string(m.incarnation) + ",\"up\":" + (up ? "true" : "false") +
             ",\"routable\":" + (id == cfg.id || detector_.up(id, now) ? "true" : "false") + "}";
    }
    j += "],\"n\":" + std::to_string(cfg.n) + ",\"r\":" + std::to_string(cfg.r) + ",\"w\":" + std::to_string(cfg.w);
    j += ",\"sync\":" + json_string(sync_mode);
    // One digest of every partition's anti-entropy root here: replicas that hold the
    // same partitions agree exactly when their digests are equal.
    std::uint64_t digest = 0;
    for (std::uint32_t p = 0; p < node_.ring()->partition_count(); ++p) digest = hash_combine(digest, node_.merkle_root(PartitionId{p}));
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(digest));
    j += ",\"data_digest\":\"" + std::string(hex) + "\"";
    j += ",\"transfers\":[";
    first = true;
    for (const ring::Move& t : gossip::moves(view)) {
        if (!first) j += ',';
        first = false;
        j += "{\"partition\":" + std::to_string(t.slot.value) + ",\"from\":" + id_text(t.from) +
             ",\"to\":" + id_text(t.to) + ",\"done\":" + (t.done ? "true" : "false") + "}";
    }
    j += "],\"streams\":[";
    first = true;
    for (const replica::HandoffProgress& h : node_.handoff_progress()) {
        if (!first) j += ',';
        first = false;
        j += "{\"partition\":" + std::to_string(h.move.slot.value) + ",\"to\":" + id_text(h.move.to) +
             ",\"key_partitions\":" + std::to_string(h.partitions) +
             ",\"key_partitions_done\":" + std::to_string(h.partitions_done) +
             ",\"keys_sent\":" + std::to_string(h.keys_sent) + ",\"bytes_sent\":" + std::to_string(h.bytes_sent) +
             ",\"finished\":" + (h.finished ? "true" : "false") + "}";
    }
    j += "],\"partition_count\":" + std::to_string(view.partition_count) + ",\"partitions\":[";
    const auto& ring = *node_.ring();
    for (std::uint32_t p = 0; p < view.claim.size(); ++p) {
        if (p != 0) j += ',';
        const gossip::PartitionClaim& c = view.claim[p];
        j += "{\"id\":" + std::to_string(p) + ",\"owner\":" + id_text(c.owner);
        if (c.moving()) j += ",\"next\":" + id_text(c.next);
        j += ",\"replicas\":[";
        if (glue_.joined()) {
            const auto order = ring.preference_order(PartitionId{p});
            for (std::size_t i = 0; i < std::min<std::size_t>(cfg.n, order.size()); ++i) {
                if (i != 0) j += ',';
                j += id_text(order[i]);
            }
        }
        j += "]}";
    }
    return j + "]}";
}

void Membership::render_metrics(std::string& out) const {
    const gossip::GossipStats& s = gossiper_.stats();
    render_counter(out, "shoal_gossip_rounds_total", s.rounds);
    render_counter(out, "shoal_gossip_views_merged_total", s.views_merged);
    render_counter(out, "shoal_gossip_full_views_sent_total", s.full_views_sent);
    render_counter(out, "shoal_gossip_rejected_total", s.rejected);
    render_counter(out, "shoal_gossip_hearsay_dropped_total", s.hearsay_dropped);
    render_counter(out, "shoal_gossip_pulls_total", s.pulls);
    render_counter(out, "shoal_gossip_claim_changes_total", s.reconciles);
    render_counter(out, "shoal_gossip_store_errors_total", s.store_errors);
    std::uint64_t counts[gossip::k_max_status + 1] = {};
    for (const auto& [id, m] : gossiper_.view().members) counts[static_cast<std::size_t>(m.status)] += 1;
    render_family(out, "shoal_members", "gauge");
    for (std::uint8_t st = 0; st <= gossip::k_max_status; ++st) {
        out += "shoal_members{status=\"" + std::string(gossip::status_name(static_cast<gossip::MemberStatus>(st))) +
               "\"} " + std::to_string(counts[st]) + "\n";
    }
    const auto moving = gossip::moves(gossiper_.view());
    render_gauge(out, "shoal_partitions_moving", moving.size());
    std::uint64_t streams = 0;
    for (const auto& h : node_.handoff_progress()) streams += h.finished ? 0 : 1;
    render_gauge(out, "shoal_handoff_streams_active", streams);
}

}  // namespace shoal::net
