// The simulated workload: cart clients (read, add an item, write back with the
// context), blind writers, deleters and readers, all on a small key set so that
// writes collide. Clients fail over like the real client library: a node that
// failed them is avoided for a while, and an operation is tried up to three times.
#include <algorithm>

#include "core/assert.h"
#include "sim/simulation.h"

namespace shoal::sim {

namespace {
constexpr int k_max_attempts = 3;
constexpr Duration k_client_timeout = Duration::millis(2500);  // node timeout + margin
constexpr Duration k_avoid_for = Duration::seconds(2);
}  // namespace

bool Simulation::in_availability_window(Time t) const {
    return minority_from_.us >= 0 && t >= minority_from_ && t < minority_to_;
}

std::uint32_t Simulation::pick_node(SimClient& client) {
    std::vector<std::uint32_t> healthy;
    for (std::uint32_t i = 0; i < nodes_.size(); ++i) {
        if (client.avoid_until[i] <= now_) healthy.push_back(i);
    }
    if (healthy.empty()) return static_cast<std::uint32_t>(rng_.below(nodes_.size()));
    return healthy[rng_.below(healthy.size())];
}

void Simulation::client_wake(std::uint32_t c) {
    SimClient& client = clients_[c];
    if (client.busy || !workload_on_) return;
    begin_op(client);
}

replica::Namespaces sim_namespaces(const replica::Namespaces& from_view, replica::ConflictMode datatype_conflict) {
    replica::Namespaces out = from_view;
    out.try_emplace(k_sim_namespace, replica::NamespaceProps{});  // dvv, the node's defaults
    replica::NamespaceProps set, counter, map;
    set.datatype = "set";
    counter.datatype = "counter";
    map.datatype = "map";
    set.conflict = counter.conflict = map.conflict = datatype_conflict;
    out.try_emplace(k_sim_set_namespace, set);
    out.try_emplace(k_sim_counter_namespace, counter);
    out.try_emplace(k_sim_map_namespace, map);
    return out;
}

void Simulation::begin_op(SimClient& client) {
    client.busy = true;
    client.writing = false;
    client.attempts = 0;
    client.op_started = now_;
    client.context = {};
    client.update.clear();
    const std::uint64_t k = rng_.below(config_.keys);
    if (config_.datatypes && k % 2 == 1 && begin_datatype_op(client, k)) return;
    client.ns = k % 2 == 1 ? k_sim_namespace : "";
    client.user_key = "cart/" + std::to_string(k);
    client.key = replica::scoped_key(client.ns, client.user_key);
    client.item = "c" + std::to_string(client.id) + "." + std::to_string(++client.seq);
    history_.item_keys.emplace(client.item, client.key);
    const std::uint64_t roll = rng_.below(100);
    const std::uint64_t removes = config_.remove_percent;
    client.kind = roll < 75 - removes ? OpKind::cart_add
                  : roll < 90 - removes ? OpKind::blind_write
                  : roll < 90 ? OpKind::remove
                              : OpKind::read;
    if (client.kind == OpKind::blind_write) {
        client.writing = true;
        client.value = client.item;
    }
    send_attempt(client);
}

// The request of the client's current stage: the read, or the write it prepared.
replica::ClientRequest Simulation::current_request(const SimClient& client) {
    replica::ClientRequest request;
    request.key = client.user_key;
    request.options.ns = client.ns;
    if (!client.writing) {
        request.op = replica::ClientOp::get;
        return request;
    }
    request.context = client.context;
    if (!client.update.empty()) {
        request.op = replica::ClientOp::put;
        request.context = {};
        request.update = client.update;
        return request;
    }
    if (client.kind == OpKind::remove) {
        request.op = replica::ClientOp::del;
    } else {
        request.op = replica::ClientOp::put;
        request.value = client.value;
    }
    return request;
}

void Simulation::send_attempt(SimClient& client) {
    replica::ClientRequest request = current_request(client);
    ++client.attempts;
    // Every attempt of an increment may take effect, acknowledged or not.
    if (client.kind == OpKind::dt_increment) ++history_.counters[client.key].attempted;
    if (client.kind == OpKind::dt_map_increment) ++history_.map_counters[client.key].attempted;
    if (client.kind == OpKind::dt_map_set) history_.map_values[{client.key, client.value}].insert(client.item);
    client.node = pick_node(client);
    client.token = (static_cast<std::uint64_t>(client.id) << 32) | (++client.seq & 0xffffffffULL);
    Event e;
    e.kind = EventKind::client_request;
    e.a = client.id;
    e.b = client.node;
    e.token = client.token;
    e.request = std::make_unique<replica::ClientRequest>(std::move(request));
    schedule(now_ + link_delay(), std::move(e));
    // The client's own deadline: a timeout reply to itself, ignored if a real
    // reply for this attempt came first.
    Event wake;
    wake.kind = EventKind::client_reply;
    wake.a = client.id;
    wake.reply = std::make_unique<replica::ClientReply>();
    wake.reply->token = client.token;
    wake.reply->code = errc::timeout;
    schedule(now_ + k_client_timeout, std::move(wake));
}

void Simulation::client_reply(std::uint32_t c, replica::ClientReply& reply) {
    SimClient& client = clients_[c];
    if (!client.busy || reply.token != client.token) return;  // stale: an earlier attempt
    client.token = 0;
    const bool read_stage = !client.writing;
    if (read_stage && (reply.code == errc::ok || reply.code == errc::not_found)) {
        read_done(client, reply);
        return;
    }
    if (!read_stage && reply.code == errc::ok) {
        ++result_.acked_writes;
        if (client.kind == OpKind::dt_add) {
            history_.dt_adds.push_back({client.key, client.item, reply.dot});
        } else if (client.kind == OpKind::dt_map_add) {
            history_.dt_adds.push_back({map_cart(client.key), client.item, reply.dot});
        } else if (client.kind == OpKind::dt_increment) {
            ++history_.counters[client.key].acked;
        } else if (client.kind == OpKind::dt_map_set) {
            history_.map_acked.push_back({client.key, client.value, client.item});
        } else if (client.kind == OpKind::dt_map_increment) {
            ++history_.map_counters[client.key].acked;
        } else if (client.kind == OpKind::dt_remove || client.kind == OpKind::dt_map_discard) {
            // recorded when it was first sent: it may take effect unacknowledged
        } else if (client.kind != OpKind::remove) {
            history_.acked_adds.push_back({client.key, client.item, reply.dot});
        } else {
            history_.acked_deletes[client.key].join(client.context);
        }
        op_done(client, true);
        return;
    }
    ++result_.failed_requests;
    if (reply.code == errc::timeout || reply.code == errc::quorum_not_met || reply.code == errc::unavailable) {
        client.avoid_until[client.node] = now_ + k_avoid_for;
    }
    attempt_failed(client);
}

void Simulation::read_done(SimClient& client, const replica::ClientReply& reply) {
    if (reply.siblings.size() > 1) ++result_.siblings_seen;
    // What the client saw must hold no dominated version either.
    SiblingSet seen{reply.context, reply.siblings};
    for (const auto& pair : find_dominated(client.key, seen, history_)) {
        (void)pair;
        ++result_.dominated;
        result_.violations.push_back("dominated-siblings: returned for key " + client.key);
    }
    // Nor any item that was never written to this key (a plain key's values are items).
    if (client.ns.empty()) {
        for (const auto& s : reply.siblings) {
            for (const auto& item : parse_items(s.value)) {
                auto it = history_.item_keys.find(item);
                if (it != history_.item_keys.end() && it->second == client.key) continue;
                ++result_.foreign;
                result_.violations.push_back("foreign-value: " + item + " returned for key " + client.key);
            }
        }
    }
    if (client.kind == OpKind::read) {
        op_done(client, true);
        return;
    }
    if (datatype_read_done(client, reply)) return;
    client.context = reply.context;
    if (client.kind == OpKind::remove && client.context.empty()) {
        // Nothing seen, nothing to remove (a delete without a context would remove
        // whatever the node reads by then: writes this client never observed).
        op_done(client, true);
        return;
    }
    if (client.kind == OpKind::remove) {
        history_.deletes.push_back({client.key, client.context});
    } else {
        std::set<std::string> items;
        for (const auto& s : reply.siblings) {
            auto more = parse_items(s.value);
            items.insert(more.begin(), more.end());
        }
        items.insert(client.item);
        client.value = format_items(items);
    }
    client.writing = true;
    client.attempts = 0;
    send_attempt(client);
}

void Simulation::attempt_failed(SimClient& client) {
    if (client.attempts >= k_max_attempts) {
        op_done(client, false);
        return;
    }
    send_attempt(client);
}

void Simulation::op_done(SimClient& client, bool ok) {
    const bool is_write = client.kind != OpKind::read;
    if (is_write && in_availability_window(client.op_started)) {
        ++result_.availability_attempted;
        if (ok) ++result_.availability_succeeded;
    }
    client.busy = false;
    Event wake;
    wake.kind = EventKind::client_wake;
    wake.a = client.id;
    schedule(now_ + Duration{rng_.between(1'000, 40'000)}, std::move(wake));
}

}  // namespace shoal::sim
