// Membership scenarios with data. Every simulated node runs a gossip::Gossiper beside
// its replica::Node, glued as shoald glues them (src/net/membership.cpp): the ring
// comes from gossip, partitions move by the Node's handoff streams, and the scripted
// joins, leaves, removals and crashes happen while the client workload runs. Gossip
// travels over the same simulated links as the replicas' messages (cuts, loss,
// delays), and every view in flight goes through the real codec.
#include <algorithm>
#include <optional>
#include <set>

#include "core/assert.h"
#include "core/hash.h"
#include "gossip/claim.h"
#include "sim/simulation.h"
#include "store/keys.h"

namespace shoal::sim {

namespace {

using gossip::MemberStatus;

constexpr Duration k_ready_poll = Duration::millis(100);
constexpr Duration k_ready_bound = Duration::seconds(15);  // for the first nodes to form a cluster
constexpr std::size_t k_shown = 3;                         // violations spelled out per checker and run

std::string address_of(std::uint32_t i) {
    return "n" + std::to_string(i + 1);
}

// The node index of a peer address "n<id>", or `nodes` when it names none.
std::uint32_t index_of(const std::string& address, std::size_t nodes) {
    if (address.size() < 2 || address.size() > 6 || address[0] != 'n') return static_cast<std::uint32_t>(nodes);
    std::uint32_t id = 0;
    for (std::size_t k = 1; k < address.size(); ++k) {
        if (address[k] < '0' || address[k] > '9') return static_cast<std::uint32_t>(nodes);
        id = id * 10 + static_cast<std::uint32_t>(address[k] - '0');
    }
    return id >= 1 && id <= nodes ? id - 1 : static_cast<std::uint32_t>(nodes);
}


gossip::ClusterView through_codec(const gossip::ClusterView& v) {
    std::string bytes;
    gossip::encode(v, bytes);
    gossip::ClusterView out;
    const std::error_code ec = gossip::decode(bytes, out);
    SHOAL_ASSERT_MSG(!ec, "a gossiped view failed to decode");
    return out;
}

gossip::GossipMessage transit(const gossip::GossipMessage& m) {
    gossip::GossipMessage copy = m;
    if (auto* syn = std::get_if<gossip::GossipSyn>(&copy); syn && syn->view) syn->view = through_codec(*syn->view);
    if (auto* ack = std::get_if<gossip::GossipAck>(&copy); ack && ack->view) ack->view = through_codec(*ack->view);
    if (auto* ack2 = std::get_if<gossip::GossipAck2>(&copy)) ack2->view = through_codec(ack2->view);
    return copy;
}

std::uint32_t initial_nodes(Scenario s) {
    switch (s) {
        case Scenario::shrink: return 6;
        case Scenario::replace:
        case Scenario::partition_join: return 4;
        default: return 3;
    }
}

}  // namespace

// ---- the script ----------------------------------------------------------------------

// Node 1 founds the cluster at once; the other first nodes join through it. The
// workload and the scripted changes wait until they have settled (member_ready).
void Simulation::plan_bootstrap() {
    for (auto& n : nodes_) n->started = n->up = false;
    start_node(0);
    expected_[0] = MemberStatus::valid;
    for (std::uint32_t i = 1; i < initial_nodes(config_.scenario); ++i) {
        schedule(Time{rng_.between(50'000, 500'000)}, fault_event(FaultAction::member_join, i, 1));
        expected_[i] = MemberStatus::valid;
    }
    stop_work_ = Time{INT64_MAX / 4};
    schedule(Time{} + k_ready_poll * 2, fault_event(FaultAction::member_ready));
}

void Simulation::member_ready() {
    const std::uint32_t first = initial_nodes(config_.scenario);
    bool ready = true;
    std::uint64_t digest = 0;
    for (std::uint32_t i = 0; i < first && ready; ++i) {
        const SimNode& n = *nodes_[i];
        ready = n.up && n.joined() && n.gossip->self_status() == MemberStatus::valid && gossip::settled(n.gossip->view());
        const std::uint64_t d = ready ? gossip::digest(n.gossip->view()) : 0;
        ready = ready && (i == 0 || d == digest);
        digest = d;
    }
    if (!ready && now_ < Time{} + k_ready_bound) {
        schedule(now_ + k_ready_poll, fault_event(FaultAction::member_ready));
        return;
    }
    if (!ready) {
        ++result_.agreement_failures;
        result_.violations.push_back("membership-agreement: the first " + std::to_string(first) +
                                     " nodes formed no settled cluster within " +
                                     std::to_string(k_ready_bound.ms() / 1000) + " s");
    }
    stop_work_ = now_ + config_.duration;
    for (std::uint32_t c = 0; c < config_.clients; ++c) {
        Event wake;
        wake.kind = EventKind::client_wake;
        wake.a = c;
        schedule(now_ + Duration{rng_.between(0, 50'000)}, std::move(wake));
    }
    plan_membership(now_);
}

// The scenario's changes, at times drawn from the seed, all within the workload.
void Simulation::plan_membership(Time t0) {
    auto after = [&](Time t, std::int64_t lo_ms, std::int64_t hi_ms) {
        return t + Duration::millis(rng_.between(lo_ms, hi_ms));
    };
    auto valid = [&](std::uint32_t i) { expected_[i] = MemberStatus::valid; };
    switch (config_.scenario) {
        case Scenario::grow: {
            Time t = t0;
            for (std::uint32_t i = 3; i < 6; ++i) {
                t = after(t, 1500, 3500);
                schedule(t, fault_event(FaultAction::member_join, i, 0));  // through any member
                valid(i);
            }
            return;
        }
        case Scenario::shrink: {
            std::vector<std::uint32_t> ids{0, 1, 2, 3, 4, 5};
            Time t = t0;
            for (std::uint32_t k = 0; k < 3; ++k) {
                std::swap(ids[k], ids[k + rng_.below(ids.size() - k)]);
                t = after(t, 1500, 3500);
                const std::uint32_t through_other = rng_.chance(0.5) ? 1 : 0;
                schedule(t, fault_event(FaultAction::member_leave, ids[k], through_other));
                expected_[ids[k]] = MemberStatus::exiting;
            }
            return;
        }
        case Scenario::replace: {
            const auto victim = static_cast<std::uint32_t>(rng_.below(4));
            const Time died = after(t0, 500, 2000);
            schedule(died, fault_event(FaultAction::member_kill, victim));
            schedule(after(died, 2000, 5000), fault_event(FaultAction::member_remove, victim));
            schedule(after(died, 0, 6000), fault_event(FaultAction::member_join, 4, 0));
            expected_[victim] = MemberStatus::removed;
            valid(4);
            return;
        }
        case Scenario::crash_handoff: {
            const Time first = after(t0, 500, 2000);
            const Time second = after(first, 4000, 7000);
            schedule(first, fault_event(FaultAction::member_join, 3, 0));
            schedule(second, fault_event(FaultAction::member_join, 4, 0));
            schedule(after(rng_.chance(0.5) ? first : second, 300, 2500),
                     fault_event(FaultAction::member_crash_mover));
            valid(3);
            valid(4);
            return;
        }
        case Scenario::partition_join: {
            // One or two of the four on one side; a joiner through a seed on each side,
            // sitting on its seed's side.
            split_side_.assign(nodes_.size(), false);
            const auto in_side = static_cast<std::uint32_t>(rng_.below(4));
            split_side_[in_side] = true;
            if (rng_.chance(0.5)) split_side_[rng_.below(4)] = true;
            std::vector<std::uint32_t> out_side;
            for (std::uint32_t i = 0; i < 4; ++i)
                if (!split_side_[i]) out_side.push_back(i);
            split_side_[4] = true;
            schedule(after(t0, 0, 300), fault_event(FaultAction::member_split));
            schedule(after(t0, 500, 2500), fault_event(FaultAction::member_join, 4, in_side + 1));
            const std::uint32_t seed = out_side[rng_.below(out_side.size())];
            schedule(after(t0, 500, 2500), fault_event(FaultAction::member_join, 5, seed + 1));
            schedule(after(t0, 6000, 11000), fault_event(FaultAction::heal));
            valid(4);
            valid(5);
            return;
        }
        case Scenario::concurrent_join: {
            std::vector<std::uint32_t> seeds{0, 1, 2};
            for (std::size_t k = 0; k < 2; ++k) std::swap(seeds[k], seeds[k + rng_.below(3 - k)]);
            const Time same = after(t0, 500, 2000);
            for (std::uint32_t k = 0; k < 3; ++k) {
                schedule(same, fault_event(FaultAction::member_join, 3 + k, seeds[k] + 1));
                valid(3 + k);
            }
            return;
        }
        default: SHOAL_UNREACHABLE("not a membership scenario");
    }
}

std::vector<std::uint32_t> Simulation::valid_members() const {
    std::vector<std::uint32_t> out;
    for (std::uint32_t i = 0; i < nodes_.size(); ++i) {
        const SimNode& n = *nodes_[i];
        if (n.up && n.gossip && n.gossip->self_status() == MemberStatus::valid) out.push_back(i);
    }
    return out;
}

void Simulation::apply_membership(const Event& e) {
    auto command_failed = [&](const std::string& what) {
        ++result_.agreement_failures;
        result_.violations.push_back("membership-agreement: " + what);
    };
    // A live valid member other than `except` to issue an operator's command through.
    auto pick_other = [&](std::uint32_t except) -> std::optional<std::uint32_t> {
        auto members = valid_members();
        std::erase(members, except);
        if (members.empty()) return std::nullopt;
        // Through a member that may rule (gossip/authority.h) when there is one.
        std::vector<std::uint32_t> rulers;
        for (std::uint32_t m : members)
            if (nodes_[m]->gossip->may_rule(node_now(m).mono, NodeId{except + 1})) rulers.push_back(m);
        if (!rulers.empty()) return rulers[rng_.below(rulers.size())];
        return members[rng_.below(members.size())];
    };
    switch (e.fault) {
        case FaultAction::member_ready: member_ready(); return;
        case FaultAction::member_join: member_join(e.a, e.b); return;
        case FaultAction::member_leave: {
            auto via = e.b == 0 && nodes_[e.a]->up ? std::optional<std::uint32_t>(e.a) : pick_other(e.a);
            // The ruler itself leaving: only it may say so (the CLI is sent there too).
            if (via && *via != e.a && nodes_[e.a]->up && nodes_[e.a]->gossip->is_claimant() &&
                !nodes_[*via]->gossip->may_rule(node_now(*via).mono, NodeId{e.a + 1}))
                via = e.a;
            if (!via) return command_failed("no live member to ask node " + std::to_string(e.a + 1) + " to leave");
            gossip::Gossiper& g = *nodes_[*via]->gossip;
            const auto ec = *via == e.a ? g.leave(node_now(*via).mono) : g.leave(node_now(*via).mono, NodeId{e.a + 1});
            if (ec) return command_failed("leave of node " + std::to_string(e.a + 1) + " refused: " + ec.message());
            ++result_.leaves;
            after_node_turn(*via);
            return;
        }
        case FaultAction::member_kill:
            ++result_.faults.crashes;
            crash_node(e.a);
            nodes_[e.a]->gone = true;
            return;
        case FaultAction::member_remove: {
            auto via = pick_other(e.a);
            if (!via) return command_failed("no live member to remove node " + std::to_string(e.a + 1) + " through");
            if (auto ec = nodes_[*via]->gossip->remove(node_now(*via).mono, NodeId{e.a + 1}))
                return command_failed("removal of node " + std::to_string(e.a + 1) + " refused: " + ec.message());
            ++result_.removes;
            after_node_turn(*via);
            return;
        }
        case FaultAction::member_crash_mover: crash_mover(); return;
        case FaultAction::member_split:
            ++result_.faults.partitions;
            for (std::uint32_t i = 0; i < nodes_.size(); ++i)
                for (std::uint32_t j = 0; j < nodes_.size(); ++j) blocked_[i][j] = split_side_[i] != split_side_[j];
            return;
        default: SHOAL_UNREACHABLE("not a membership action");
    }
}

// Node i starts with an empty disk and joins through one seed: the given node, or
// else any live valid member.
void Simulation::member_join(std::uint32_t i, std::uint32_t seed_plus_one) {
    SimNode& n = *nodes_[i];
    if (n.started) return;
    if (seed_plus_one != 0) {
        n.seeds = {address_of(seed_plus_one - 1)};
    } else {
        const auto members = valid_members();
        if (members.empty()) {
            ++result_.agreement_failures;
            result_.violations.push_back("membership-agreement: no live member for node " + std::to_string(i + 1) +
                                         " to join through");
            return;
        }
        n.seeds = {address_of(members[rng_.below(members.size())])};
    }
    ++result_.joins;
    start_node(i);
}

// Crashes the source or the receiver of a partition still moving (as a live member
// sees it), or else the newest node; it restarts from its disk a few seconds later.
void Simulation::crash_mover() {
    std::vector<std::uint32_t> movers;
    for (const auto& n : nodes_) {
        if (!n->up || !n->gossip) continue;
        for (const ring::Move& t : gossip::moves(n->gossip->view())) {
            if (t.done) continue;
            for (NodeId id : {t.from, t.to})
                if (id.value >= 1 && id.value <= nodes_.size() && nodes_[id.value - 1]->up)
                    movers.push_back(id.value - 1);
        }
        break;
    }
    if (movers.empty()) {
        for (std::uint32_t i = 0; i < nodes_.size(); ++i)
            if (nodes_[i]->up) movers.assign(1, i);
    }
    if (movers.empty()) return;
    const std::uint32_t victim = movers[rng_.below(movers.size())];
    ++result_.faults.crashes;
    crash_node(victim);
    schedule(now_ + Duration::millis(rng_.between(2000, 5000)), fault_event(FaultAction::restart, victim));
}

// ---- the node's gossiper and its glue to the core -------------------------------------

void Simulation::start_gossip(std::uint32_t i) {
    SimNode& n = *nodes_[i];
    n.gossip.reset();
    gossip::GossipConfig gc;
    gc.id = n.id;
    gc.peer_address = address_of(i);
    gc.client_address = "client:" + std::to_string(i + 1);
    gc.http_address = "http:" + std::to_string(i + 1);
    gc.zone = "z" + std::to_string(i % 3);
    gc.partition_count = config_.partitions;
    gc.seeds = n.seeds;  // empty for node 1 only: it founds the cluster
    gc.interval = config_.gossip_interval;
    gc.heartbeat_interval = gc.interval;
    n.gossip_rng = std::make_unique<Rng>(hash_combine(config_.seed, (std::uint64_t{n.id.value} << 32) | n.epoch));
    n.gossip = std::make_unique<gossip::Gossiper>(std::move(gc), *n.gossip_rng, n.disk, *n.detector);
    membership::GlueOptions glue;
    glue.ownership_handoff = config_.ownership_handoff;
    glue.extra_namespaces = sim_namespaces({}, config_.conflict);
    n.glue = std::make_unique<membership::Glue>(std::move(glue));
    if (n.gossip->load_error()) {
        ++result_.agreement_failures;
        result_.violations.push_back("membership-agreement: node " + std::to_string(i + 1) +
                                     " could not load its saved view");
    }
}

// As shoald's placeholder: the node alone. It never serves clients (refuse_client).
std::shared_ptr<const ring::Ring> Simulation::placeholder_ring(std::uint32_t i) const {
    std::vector<ring::Member> members{{nodes_[i]->id, "z" + std::to_string(i % 3)}};
    std::vector<NodeId> owners(config_.partitions, nodes_[i]->id);
    return std::make_shared<const ring::Ring>(config_.partitions, std::move(members), std::move(owners));
}

void Simulation::membership_sync(std::uint32_t i) {
    SimNode& n = *nodes_[i];
    (void)n.glue->sync(node_now(i).mono, *n.gossip, *n.core);  // (with handoff off, the teeth)
}

void Simulation::send_gossip(std::uint32_t from, gossip::GossipEnvelope& envelope) {
    const std::uint32_t to = envelope.to.valid() && envelope.to.value <= nodes_.size()
                                 ? envelope.to.value - 1
                                 : index_of(envelope.address, nodes_.size());
    if (to >= nodes_.size() || blocked_[from][to] || !link_delivers(from, to)) return;
    const int copies = link_copies();
    for (int k = 0; k < copies; ++k) {
        Event e;
        e.kind = EventKind::gossip_message;
        e.a = from;
        e.b = to;
        e.gossip = std::make_unique<gossip::GossipMessage>(transit(envelope.message));
        schedule(now_ + link_delay(), std::move(e));
    }
}

void Simulation::deliver_gossip(Event& e) {
    SimNode& n = *nodes_[e.b];
    if (!n.up) return;
    trace(e.gossip->index());
    const Instant now = node_now(e.b).mono;
    n.gossip->step(now, NodeId{e.a + 1}, *e.gossip);
    after_node_turn(e.b);
}

void Simulation::exit_node(std::uint32_t i) {
    SimNode& n = *nodes_[i];
    collect_stats(n.core->stats());
    ++result_.exits;
    settle_commits(i);  // a clean exit: what it wrote reaches its disk
    n.up = false;
    n.gone = true;
    detach_driver(i);
    n.core.reset();
    n.buffered.reset();
    n.gossip.reset();
    n.glue.reset();
    n.detector.reset();
    ++n.epoch;
}

void Simulation::refuse_client(const Event& request) {
    Event e;
    e.kind = EventKind::client_reply;
    e.a = request.a;
    e.reply = std::make_unique<replica::ClientReply>();
    e.reply->token = request.token;
    e.reply->code = errc::unavailable;
    schedule(now_ + link_delay(), std::move(e));
}

// ---- the end checks ---------------------------------------------------------------------

void Simulation::finish_membership_checks() {
    result_.membership_checked = true;
    std::vector<std::uint32_t> live;  // running members that have not left
    for (std::uint32_t i = 0; i < nodes_.size(); ++i) {
        if (nodes_[i]->up && nodes_[i]->gossip && !nodes_[i]->gossip->stopped()) live.push_back(i);
    }
    if (live.empty()) {
        ++result_.agreement_failures;
        result_.violations.push_back("membership-agreement: no live member at the end");
        return;
    }
    check_agreement(live);
    const gossip::ClusterView& view = nodes_[live[0]]->gossip->view();
    auto ring = gossip::make_ring(view);
    if (ring == nullptr) {
        ++result_.agreement_failures;
        result_.violations.push_back("membership-agreement: the final view is not founded");
        return;
    }
    ring_ = ring;  // the convergence checker judges the final primaries
    check_owners(view, *ring);
    check_owner_holds(view, *ring);
}

// Every live member holds the same view, settled (nothing moving, balanced), no
// stream still running, and the scripted statuses.
void Simulation::check_agreement(const std::vector<std::uint32_t>& live) {
    auto fail = [&](const std::string& what) {
        ++result_.agreement_failures;
        result_.violations.push_back("membership-agreement: " + what);
    };
    const gossip::ClusterView& view = nodes_[live[0]]->gossip->view();
    const std::uint64_t digest = gossip::digest(view);
    for (std::uint32_t i : live) {
        if (gossip::digest(nodes_[i]->gossip->view()) != digest)
            fail("node " + std::to_string(i + 1) + "'s view differs from node " + std::to_string(live[0] + 1) + "'s");
        for (const replica::HandoffProgress& h : nodes_[i]->core->handoff_progress()) {
            if (!h.finished)
                fail("node " + std::to_string(i + 1) + " still streams slot " + std::to_string(h.move.slot.value) +
                     " to node " + std::to_string(h.move.to.value));
        }
    }
    if (!gossip::settled(view)) {
        fail("the claim is not settled (" + std::to_string(gossip::moves(view).size()) + " partitions moving)");
    }
    std::uint32_t valid = 0, want = 0;
    for (const auto& [id, m] : view.members) valid += m.status == MemberStatus::valid ? 1 : 0;
    for (const auto& [i, status] : expected_) {
        want += status == MemberStatus::valid ? 1 : 0;
        const MemberStatus is = gossip::status_of(view, NodeId{i + 1});
        if (is != status)
            fail("node " + std::to_string(i + 1) + " is " + std::string(gossip::status_name(is)) + ", expected " +
                 std::string(gossip::status_name(status)));
    }
    result_.members_final = valid;
    if (valid != want) fail(std::to_string(valid) + " valid members, expected " + std::to_string(want));
}

// Each partition's first N preference entries are N distinct valid members.
void Simulation::check_owners(const gossip::ClusterView& view, const ring::Ring& ring) {
    std::uint32_t valid = 0;
    for (const auto& [id, m] : view.members) valid += m.status == MemberStatus::valid ? 1 : 0;
    if (valid < config_.n) return;
    for (std::uint32_t p = 0; p < ring.partition_count(); ++p) {
        const auto order = ring.preference_order(PartitionId{p});
        std::set<NodeId> distinct;
        bool ok = order.size() >= config_.n;
        for (std::size_t k = 0; ok && k < config_.n; ++k) {
            ok = gossip::status_of(view, order[k]) == MemberStatus::valid && distinct.insert(order[k]).second;
        }
        if (ok) continue;
        if (result_.owners_failures++ < k_shown)
            result_.violations.push_back("owners: partition " + std::to_string(p) + " has no " +
                                         std::to_string(config_.n) + " distinct valid primaries");
    }
    if (result_.owners_failures > k_shown)
        result_.violations.push_back("owners: " + std::to_string(result_.owners_failures - k_shown) +
                                     " more partitions");
}

// The final claim owner of every key's partition, and each of its N final primaries,
// holds every acknowledged add of the key on its own disk (find_lost_adds on that
// node's copies alone).
void Simulation::check_owner_holds(const gossip::ClusterView& view, const ring::Ring& ring) {
    std::uint64_t unused = 0;
    const auto stored = stored_objects(unused, 0);
    std::vector<History> must(nodes_.size());
    std::vector<std::map<std::string, SiblingSet>> holds(nodes_.size());
    for (const AckedAdd& add : history_.acked_adds) {
        const PartitionId p = ring.partition_of(hash_key(add.key));
        const auto order = ring.preference_order(p);
        std::set<std::uint32_t> who;
        if (view.claim[p.value].owner.valid()) who.insert(view.claim[p.value].owner.value - 1);
        for (std::size_t k = 0; k < std::min<std::size_t>(config_.n, order.size()); ++k) who.insert(order[k].value - 1);
        for (std::uint32_t x : who) {
            must[x].acked_adds.push_back(add);
            if (holds[x].contains(add.key)) continue;
            auto it = stored.find(add.key);
            const bool has = it != stored.end() && x < it->second.size() && it->second[x] != nullptr;
            holds[x].emplace(add.key, has ? *it->second[x] : SiblingSet{});
        }
    }
    for (std::uint32_t x = 0; x < nodes_.size(); ++x) {
        if (must[x].acked_adds.empty()) continue;
        must[x].deletes = history_.deletes;
        for (const AckedAdd& add : find_lost_adds(must[x], holds[x])) {
            if (result_.owner_missing++ >= k_shown) continue;
            const PartitionId p = ring.partition_of(hash_key(add.key));
            result_.violations.push_back("owner-holds: node " + std::to_string(x + 1) +
                                         ", a final primary of partition " + std::to_string(p.value) + ", lacks item " +
                                         add.item + " of key " + add.key);
        }
    }
    if (result_.owner_missing > k_shown)
        result_.violations.push_back("owner-holds: " + std::to_string(result_.owner_missing - k_shown) +
                                     " more acknowledged adds missing on final primaries");
}

// " for node 3 (removed)": whom the hints left on node i are for, and their status.
std::string Simulation::hint_targets(std::uint32_t i) {
    std::set<std::uint32_t> targets;
    (void)nodes_[i]->disk.scan(store::all_hints_range().begin, store::all_hints_range().end,
                               [&](std::string_view stored, std::string_view) {
                                   NodeId target;
                                   std::uint64_t seq = 0;
                                   if (store::parse_hint_key(stored, target, seq)) targets.insert(target.value);
                                   return true;
                               });
    std::string out;
    for (std::uint32_t t : targets) {
        out += out.empty() ? " for node " : ", ";
        out += std::to_string(t);
        if (const auto& g = nodes_[i]->gossip)
            out += " (" + std::string(gossip::status_name(gossip::status_of(g->view(), NodeId{t}))) + ")";
    }
    return out;
}

}  // namespace shoal::sim
