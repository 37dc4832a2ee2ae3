// The engine of `shoal-sim gossip`: many gossip::Gossiper instances (the real
// membership core) over a seeded simulated network, with simulated disks, a stand-in
// for the node's ownership handoff, and the per-event handoff checker.
#include "sim/gossip_world.h"

#include <algorithm>
#include <cstdlib>

#include "core/assert.h"
#include "core/hash.h"
#include "gossip/claim.h"

namespace shoal::sim::gossip_world {

namespace {

NodeId parse_address(const std::string& a) {
    if (a.rfind("sim:", 0) != 0) return NodeId{};
    return NodeId{static_cast<std::uint32_t>(std::stoul(a.substr(4)))};
}

// Every view in flight goes through the real codec, as it will on the wire.
ClusterView through_codec(const ClusterView& v) {
    std::string bytes;
    gossip::encode(v, bytes);
    ClusterView out;
    const std::error_code ec = gossip::decode(bytes, out);
    SHOAL_ASSERT_MSG(!ec, "a gossiped view failed to decode");
    return out;
}

GossipMessage transit(const GossipMessage& m) {
    GossipMessage copy = m;
    if (auto* syn = std::get_if<gossip::GossipSyn>(&copy); syn && syn->view) syn->view = through_codec(*syn->view);
    if (auto* ack = std::get_if<gossip::GossipAck>(&copy); ack && ack->view) ack->view = through_codec(*ack->view);
    if (auto* ack2 = std::get_if<gossip::GossipAck2>(&copy)) ack2->view = through_codec(ack2->view);
    return copy;
}

}  // namespace

std::string address_of(NodeId id) {
    return "sim:" + std::to_string(id.value);
}

void World::start(NodeId id, std::vector<std::string> seeds) {
    SimNode& n = nodes_[id];
    n.id = id;
    if (!n.disk) {
        n.disk = std::make_unique<store::MemStore>();
        n.seeds = std::move(seeds);
        n.zone = zones_ ? "z" + std::to_string(id.value % 3) : "";
    }
    n.starts += 1;
    n.rng = std::make_unique<Rng>(hash_combine(seed_, (std::uint64_t{id.value} << 16) | n.starts));
    gossip::GossipConfig c;
    c.id = id;
    c.peer_address = address_of(id);
    c.client_address = "client:" + std::to_string(id.value);
    c.http_address = "http:" + std::to_string(id.value) + "/" + std::to_string(n.starts);
    c.zone = n.zone;
    c.partition_count = k_q;
    c.seeds = n.seeds;
    c.interval = k_interval;
    c.heartbeat_interval = heartbeats_ ? k_interval : Duration{};
    n.g.reset();
    n.detector = std::make_unique<health::Detector>();
    n.g = std::make_unique<gossip::Gossiper>(c, *n.rng, *n.disk, *n.detector);
    if (n.g->load_error())
        violations_.push_back("restart: node " + std::to_string(id.value) + " could not load its view");
    observe(n);
}

void World::prepare(NodeId id, std::vector<std::string> seeds, const ClusterView& view) {
    SimNode& n = nodes_[id];
    SHOAL_ASSERT(!n.disk);
    n.id = id;
    n.disk = std::make_unique<store::MemStore>();
    n.seeds = std::move(seeds);
    n.zone = zones_ ? "z" + std::to_string(id.value % 3) : "";
    const std::error_code ec = gossip::save_view(*n.disk, view, true);
    SHOAL_ASSERT(!ec);
}

void World::crash(NodeId id) {
    SimNode& n = node(id);
    n.g.reset();
    n.disk->crash();
    n.handoffs.clear();
}

void World::split(const std::set<NodeId>& side) {
    for (auto& [id, n] : nodes_) n.group = side.contains(id) ? 1 : 0;
}

void World::heal() {
    for (auto& [id, n] : nodes_) n.group = 0;
}

NodeId World::pick_live(NodeId except) {
    std::vector<NodeId> ids;
    for (auto& [id, n] : nodes_)
        if (n.live() && id != except && n.g->self_status() == MemberStatus::valid) ids.push_back(id);
    SHOAL_ASSERT(!ids.empty());
    return ids[rng_.below(ids.size())];
}

NodeId World::pick_ruler(NodeId target, bool target_too) {
    std::vector<NodeId> ids;
    for (auto& [id, n] : nodes_)
        if (n.live() && n.g->self_status() == MemberStatus::valid &&
            (id == target ? target_too && n.g->is_claimant() : n.g->may_rule(now_, target)))
            ids.push_back(id);
    if (ids.empty()) return NodeId{};
    return ids[rng_.below(ids.size())];
}

void World::run_until(Instant end, const std::function<bool()>& stop) {
    while (now_ < end) {
        const Instant step_end = now_ + k_tick;
        while (!queue_.empty() && queue_.begin()->first.first <= step_end) {
            auto item = queue_.extract(queue_.begin());
            now_ = item.key().first;
            deliver(item.mapped());
        }
        now_ = step_end;
        for (auto& [id, n] : nodes_) {
            if (!n.live()) continue;
            n.g->tick(now_);
            drive_handoffs(n);
            flush(n);
            observe(n);
            if (n.g && n.g->stopped() && n.g->self_status() == MemberStatus::exiting) n.exited = true;
        }
        if (stop && stop()) return;
    }
}

bool World::converged(const std::map<NodeId, MemberStatus>& expected, std::string& why) {
    const ClusterView* first = nullptr;
    std::uint64_t d = 0;
    for (auto& [id, n] : nodes_) {
        if (!n.live()) continue;
        if (!first) {
            first = &n.g->view();
            d = gossip::digest(*first);
        } else if (gossip::digest(n.g->view()) != d) {
            why = "views differ (node " + std::to_string(id.value) + ")";
            if (std::getenv("GOSSIP_DEBUG")) dump();
            return false;
        }
    }
    if (!first) return why = "no live node", false;
    if (!gossip::settled(*first)) {
        why = "claim not settled: " + std::to_string(gossip::moves(*first).size()) + " partitions moving";
        for (const ring::Move& t : gossip::moves(*first))
            why += " " + std::to_string(t.slot.value) + ":" + std::to_string(t.from.value) + "->" +
                   std::to_string(t.to.value) + (t.done ? "(done)" : "");
        return false;
    }
    for (const auto& [id, status] : expected) {
        if (gossip::status_of(*first, id) != status) {
            why = "node " + std::to_string(id.value) + " is " +
                  std::string(gossip::status_name(gossip::status_of(*first, id))) + ", expected " +
                  std::string(gossip::status_name(status));
            return false;
        }
    }
    return true;
}

void World::check_placement(const ClusterView& v) {
    const auto ring = gossip::make_ring(v);
    if (!ring) return violations_.push_back("placement: not founded");
    std::set<std::string> zones;
    std::set<NodeId> valid;
    for (const auto& [id, m] : v.members) {
        if (m.status != MemberStatus::valid) continue;
        valid.insert(id);
        zones.insert(m.zone);
    }
    if (valid.size() < k_replicas) return;
    for (std::uint32_t p = 0; p < k_q; ++p) {
        const auto order = ring->preference_order(PartitionId{p});
        std::set<NodeId> ids;
        std::set<std::string> zs;
        for (std::size_t i = 0; i < k_replicas; ++i) {
            ids.insert(order[i]);
            zs.insert(ring->zone_of(order[i]));
            if (!valid.contains(order[i])) {
                violations_.push_back("placement: partition " + std::to_string(p) + " lists non-valid node " +
                                      std::to_string(order[i].value) + " as a primary");
            }
        }
        if (ids.size() != k_replicas)
            violations_.push_back("placement: partition " + std::to_string(p) + " has fewer than N distinct owners");
        if (zones.size() >= k_replicas && zs.size() != k_replicas)
            violations_.push_back("placement: partition " + std::to_string(p) + " primaries share a zone");
    }
}

void World::dump() {
    std::printf("t=%lld\n", (long long)now_.us / 1000);
    for (auto& [id, n] : nodes_) {
        if (!n.live()) continue;
        const ClusterView& v = n.g->view();
        std::printf(" node %u digest %016llx:", id.value, (unsigned long long)gossip::digest(v));
        for (auto& [mid, m] : v.members)
            std::printf(" [%u v%llu i%u %s]", mid.value, (unsigned long long)m.version, m.incarnation,
                        std::string(gossip::status_name(m.status)).c_str());
        std::printf("\n   claim:");
        for (std::uint32_t p = 0; p < 8; ++p)
            std::printf(" %u>%u@%llu%s", v.claim[p].owner.value, v.claim[p].next.value,
                        (unsigned long long)v.claim[p].version, v.claim[p].handoff_done ? "d" : "");
        for (std::uint32_t p = 8; p < v.claim.size(); ++p)
            if (!(v.claim[p] == any_live_view()->claim[p]))
                std::printf(" DIFF p%u %u>%u@%llu%s", p, v.claim[p].owner.value, v.claim[p].next.value,
                            (unsigned long long)v.claim[p].version, v.claim[p].handoff_done ? "d" : "");
        std::printf(" fd:");
        for (auto& [mid, m] : v.members) std::printf(" %u:%.1f", mid.value, n.g->phi(mid, now_));
        std::printf("\n");
    }
}

const ClusterView* World::any_live_view() {
    for (auto& [id, n] : nodes_)
        if (n.live()) return &n.g->view();
    return nullptr;
}

std::uint64_t World::trace_hash() {
    std::uint64_t h = trace_;
    for (auto& [id, n] : nodes_) h = hash_combine(h, n.live() ? gossip::digest(n.g->view()) : 0);
    return h;
}

void World::flush(SimNode& n) {
    if (!n.g) return;
    gossip::GossipOutbox out;
    n.g->take_output(out);
    for (auto& e : out.messages) send(n, e);
}

void World::send(SimNode& from, gossip::GossipEnvelope& e) {
    const NodeId to = e.to.valid() ? e.to : parse_address(e.address);
    if (!to.valid() || !nodes_.contains(to) || rng_.chance(faults_.drop) || nodes_.at(to).group != from.group) {
        dropped_ += 1;
        return;
    }
    const int copies = rng_.chance(faults_.duplicate) ? 2 : 1;
    for (int i = 0; i < copies; ++i) {
        Duration delay{rng_.between(faults_.delay_min.us, faults_.delay_max.us)};
        if (rng_.chance(faults_.slow)) delay = delay + Duration{rng_.between(0, faults_.slow_max.us)};
        queue_.emplace(Key{now_ + delay, next_seq_++}, InFlight{from.id, to, transit(e.message)});
    }
}

void World::deliver(InFlight& m) {
    SimNode& to = nodes_.at(m.to);
    const SimNode& from = nodes_.at(m.from);
    if (!to.live() || to.group != from.group) {
        dropped_ += 1;
        return;
    }
    delivered_ += 1;
    trace_ = hash_combine(trace_, static_cast<std::uint64_t>(now_.us));
    trace_ = hash_combine(trace_, (std::uint64_t{m.from.value} << 32) | m.to.value);
    trace_ = hash_combine(trace_, m.message.index());
    to.g->step(now_, m.from, m.message);
    drive_handoffs(to);
    flush(to);
    observe(to);
}

// The stand-in for the node's ownership handoff: a transfer takes 1-4 s while both
// ends are up and can talk, then the source marks it complete.
void World::drive_handoffs(SimNode& n) {
    if (!n.g) return;
    std::set<std::uint32_t> current;
    for (const ring::Move& t : n.g->outgoing_moves()) {
        if (t.done) continue;
        current.insert(t.slot.value);
        auto it = n.handoffs.find(t.slot.value);
        if (it == n.handoffs.end() || it->second.first != t.to) {
            n.handoffs[t.slot.value] = {t.to, now_ + Duration::millis(rng_.between(1000, 4000))};
            continue;
        }
        if (now_ < it->second.second) continue;
        const SimNode& target = nodes_.at(t.to);
        if (!target.live() || target.group != n.group) {
            it->second.second = now_ + Duration::seconds(1);  // retry later
            continue;
        }
        completed_.insert({t.slot.value, t.from, t.to});
        n.g->complete_handoff(now_, t.slot, t.from, t.to);
    }
    std::erase_if(n.handoffs, [&](const auto& kv) { return !current.contains(kv.first); });
}

// Checker, after every event of a node. Claim records are only created by a
// claimant's reconcile, each from a base record one or two versions older; merges only copy
// them. So every record seen for the first time is judged against the bases known
// at those versions: the owner may change only to the base's `next` once that
// handoff was marked done, or away from an owner that cannot serve (removed, or
// nobody before founding). And a done mark must come from a completed transfer.
void World::observe(SimNode& n) {
    if (!n.g) return;
    const ClusterView& v = n.g->view();
    for (std::uint32_t p = 0; p < k_q; ++p) {
        const gossip::PartitionClaim& c = v.claim[p];
        if (c.handoff_done && !completed_.contains({p, c.owner, c.next}))
            violation(n, p, "marked done without a completed transfer");
        auto& known = records_[{p, c.version}];
        auto same = [&](const Seen& s) { return s.owner == c.owner && s.next == c.next; };
        auto it = std::find_if(known.begin(), known.end(), same);
        if (it != known.end()) {
            it->done |= c.handoff_done;
            continue;
        }
        known.push_back({c.owner, c.next, c.handoff_done});
        if (c.version == 0) continue;
        // One reconcile may write twice (finalize, then start the next move), so
        // the base may be two versions back.
        bool justified = false;
        for (std::uint64_t back = 1; back <= 2 && back <= c.version; ++back) {
            const auto bases = records_.find({p, c.version - back});
            if (bases == records_.end()) continue;
            for (const Seen& b : bases->second) {
                const bool kept = b.owner == c.owner;
                const bool handed = b.next == c.owner && (b.done || completed_.contains({p, b.owner, b.next}));
                const bool forced = !b.owner.valid() || gossip::status_of(v, b.owner) == MemberStatus::removed;
                justified |= kept || handed || forced;
            }
        }
        if (!justified)
            violation(n, p,
                      "owner " + std::to_string(c.owner.value) + " at version " + std::to_string(c.version) +
                          " has no base that justifies it");
    }
}

void World::violation(const SimNode& n, std::uint32_t p, const std::string& what) {
    violations_.push_back("handoff: node " + std::to_string(n.id.value) + " partition " + std::to_string(p) + ": " +
                          what);
}

}  // namespace shoal::sim::gossip_world
