#include "sim/gossip_sim.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <utility>

#include "core/assert.h"
#include "core/hash.h"
#include "core/rng.h"
#include "gossip/claim.h"
#include "gossip/gossiper.h"
#include "sim/args.h"
#include "store/memory_store.h"

namespace shoal::sim {

namespace {

using gossip::ClusterView;
using gossip::GossipMessage;
using gossip::MemberStatus;

constexpr std::uint32_t k_q = 64;
constexpr std::uint32_t k_replicas = 3;  // N for the preference-list checker
constexpr Duration k_interval = Duration::seconds(1);
constexpr Duration k_tick = Duration::millis(100);

std::string address_of(NodeId id) { return "sim:" + std::to_string(id.value); }

NodeId parse_address(const std::string& a) {
    if (a.rfind("sim:", 0) != 0) return NodeId{};
    return NodeId{static_cast<std::uint32_t>(std::stoul(a.substr(4)))};
}

struct NetFaults {
    double drop = 0;
    double duplicate = 0;
    double slow = 0;  // probability of a slow path (reordering)
    Duration delay_min = Duration::millis(1);
    Duration delay_max = Duration::millis(30);
    Duration slow_max = Duration::millis(600);
};

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

struct SimNode {
    NodeId id;
    std::string zone;
    std::vector<std::string> seeds;
    std::unique_ptr<store::MemStore> disk;
    std::unique_ptr<Rng> rng;
    std::unique_ptr<gossip::Gossiper> g;  // null while down
    bool exited = false;                  // left the cluster and shut down
    bool dead = false;                    // crashed for good
    int group = 0;                        // network side
    std::uint32_t starts = 0;
    std::map<std::uint32_t, std::pair<NodeId, Time>> handoffs;  // partition -> (to, done at)
    bool live() const { return g != nullptr && !exited; }
};

// One world: nodes, network, the scripted actions, the checkers.
class World {
public:
    World(std::uint64_t seed, NetFaults faults, bool heartbeats, bool zones)
        : seed_(seed), rng_(seed * 0x9e3779b97f4a7c15ull + 1), faults_(faults), heartbeats_(heartbeats), zones_(zones) {}

    Time now() const { return now_; }
    Rng& rng() { return rng_; }
    SimNode& node(NodeId id) { return nodes_.at(id); }
    bool has(NodeId id) const { return nodes_.contains(id); }
    std::vector<std::string>& violations() { return violations_; }

    // Starts (or restarts, from its disk) node `id` joining through `seeds`.
    void start(NodeId id, std::vector<std::string> seeds) {
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
        n.g = std::make_unique<gossip::Gossiper>(c, *n.rng, *n.disk);
        if (n.g->load_error()) violations_.push_back("restart: node " + std::to_string(id.value) + " could not load its view");
        observe(n);
    }
    // Gives node `id` a disk holding `view` (and its seeds) before its first start.
    void prepare(NodeId id, std::vector<std::string> seeds, const ClusterView& view) {
        SimNode& n = nodes_[id];
        SHOAL_ASSERT(!n.disk);
        n.id = id;
        n.disk = std::make_unique<store::MemStore>();
        n.seeds = std::move(seeds);
        n.zone = zones_ ? "z" + std::to_string(id.value % 3) : "";
        const std::error_code ec = gossip::save_view(*n.disk, view, true);
        SHOAL_ASSERT(!ec);
    }
    // Power loss: unsynced writes are lost; the transfers it ran start over.
    void crash(NodeId id) {
        SimNode& n = node(id);
        n.g.reset();
        n.disk->crash();
        n.handoffs.clear();
    }
    void split(const std::set<NodeId>& side) {
        for (auto& [id, n] : nodes_) n.group = side.contains(id) ? 1 : 0;
    }
    void heal() {
        for (auto& [id, n] : nodes_) n.group = 0;
    }
    // A node an operator's command can be issued through: live, a valid member (so its
    // view knows the cluster), not `except`.
    NodeId pick_live(NodeId except = NodeId{}) {
        std::vector<NodeId> ids;
        for (auto& [id, n] : nodes_)
            if (n.live() && id != except && n.g->self_status() == MemberStatus::valid) ids.push_back(id);
        SHOAL_ASSERT(!ids.empty());
        return ids[rng_.below(ids.size())];
    }

    // Runs simulated time forward to `end` (in ticks of 100 ms).
    void run_until(Time end, const std::function<bool()>& stop = {}) {
        while (now_ < end) {
            const Time step_end = now_ + k_tick;
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

    // All live nodes hold one view, the claim is settled and healthy, statuses are as
    // expected. `why` says what is missing.
    bool converged(const std::map<NodeId, MemberStatus>& expected, std::string& why) {
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
            why = "claim not settled: " + std::to_string(gossip::transfers(*first).size()) + " partitions moving";
            for (const gossip::Transfer& t : gossip::transfers(*first))
                why += " " + std::to_string(t.partition.value) + ":" + std::to_string(t.from.value) + "->" +
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

    // Checks of a converged view that must hold, or they are violations.
    void check_placement(const ClusterView& v) {
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

    void dump() {
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
            std::printf(" fd:");
            for (auto& [mid, m] : v.members) std::printf(" %u:%.1f", mid.value, n.g->phi(mid, now_));
            std::printf("\n");
        }
    }

    const ClusterView* any_live_view() {
        for (auto& [id, n] : nodes_)
            if (n.live()) return &n.g->view();
        return nullptr;
    }

    std::uint64_t trace_hash() {
        std::uint64_t h = trace_;
        for (auto& [id, n] : nodes_) h = hash_combine(h, n.live() ? gossip::digest(n.g->view()) : 0);
        return h;
    }
    std::uint64_t delivered() const { return delivered_; }
    std::uint64_t dropped() const { return dropped_; }

private:
    using Key = std::pair<Time, std::uint64_t>;
    struct InFlight {
        NodeId from, to;
        GossipMessage message;
    };

    void flush(SimNode& n) {
        if (!n.g) return;
        gossip::GossipOutbox out;
        n.g->take_output(out);
        for (auto& e : out.messages) send(n, e);
    }

    void send(SimNode& from, gossip::GossipEnvelope& e) {
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

    void deliver(InFlight& m) {
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
    void drive_handoffs(SimNode& n) {
        if (!n.g) return;
        std::set<std::uint32_t> current;
        for (const gossip::Transfer& t : n.g->outgoing_transfers()) {
            if (t.done) continue;
            current.insert(t.partition.value);
            auto it = n.handoffs.find(t.partition.value);
            if (it == n.handoffs.end() || it->second.first != t.to) {
                n.handoffs[t.partition.value] = {t.to, now_ + Duration::millis(rng_.between(1000, 4000))};
                continue;
            }
            if (now_ < it->second.second) continue;
            const SimNode& target = nodes_.at(t.to);
            if (!target.live() || target.group != n.group) {
                it->second.second = now_ + Duration::seconds(1);  // retry later
                continue;
            }
            completed_.insert({t.partition.value, t.from, t.to});
            n.g->complete_handoff(now_, t.partition, t.from, t.to);
        }
        std::erase_if(n.handoffs, [&](const auto& kv) { return !current.contains(kv.first); });
    }

    // Checker, after every event of a node. Claim records are only created by a
    // claimant's reconcile, each from a base record one or two versions older; merges only copy
    // them. So every record seen for the first time is judged against the bases known
    // at those versions: the owner may change only to the base's `next` once that
    // handoff was marked done, or away from an owner that cannot serve (removed, or
    // nobody before founding). And a done mark must come from a completed transfer.
    void observe(SimNode& n) {
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
            if (!justified) violation(n, p, "owner " + std::to_string(c.owner.value) + " at version " +
                                                std::to_string(c.version) + " has no base that justifies it");
        }
    }
    void violation(const SimNode& n, std::uint32_t p, const std::string& what) {
        violations_.push_back("handoff: node " + std::to_string(n.id.value) + " partition " + std::to_string(p) + ": " + what);
    }

    struct Seen {
        NodeId owner, next;
        bool done = false;
    };
    std::map<std::pair<std::uint32_t, std::uint64_t>, std::vector<Seen>> records_;

    std::uint64_t seed_;
    Rng rng_;
    NetFaults faults_;
    bool heartbeats_;
    bool zones_;
    Time now_{};
    std::map<NodeId, SimNode> nodes_;
    std::map<Key, InFlight> queue_;
    std::uint64_t next_seq_ = 0;
    std::set<std::tuple<std::uint32_t, NodeId, NodeId>> completed_;
    std::uint64_t trace_ = 0;
    std::uint64_t delivered_ = 0, dropped_ = 0;
    std::vector<std::string> violations_;
};

NetFaults faults_for(Rng& rng) {
    NetFaults f;
    f.drop = rng.unit() * 0.05;
    f.duplicate = 0.01;
    f.slow = 0.02;
    return f;
}

// A scripted membership change at a point in simulated time.
struct Action {
    Time at;
    std::function<void(World&)> run;
};

struct Script {
    std::vector<Action> actions;
    std::map<NodeId, MemberStatus> expected;  // statuses once everything settles
};

// `count` seed addresses drawn from ids 1..max_id other than `except` (repeats allowed).
std::vector<std::string> seeds_among(World& w, NodeId except, std::uint32_t max_id, int count) {
    std::vector<NodeId> candidates;
    for (std::uint32_t id = 1; id <= max_id; ++id)
        if (NodeId{id} != except) candidates.push_back(NodeId{id});
    SHOAL_ASSERT(!candidates.empty());
    std::vector<std::string> seeds;
    for (int i = 0; i < count; ++i) seeds.push_back(address_of(candidates[w.rng().below(candidates.size())]));
    return seeds;
}

// Founds a cluster of `count` nodes: node 1 without seeds, the others through seeds
// among the earlier ones; returns once it has settled (or records a violation).
bool bootstrap(World& w, std::uint32_t count, std::map<NodeId, MemberStatus>& expected) {
    w.start(NodeId{1}, {});
    expected[NodeId{1}] = MemberStatus::valid;
    for (std::uint32_t id = 2; id <= count; ++id) {
        w.run_until(w.now() + Duration::millis(w.rng().between(0, 700)));
        w.start(NodeId{id}, seeds_among(w, NodeId{id}, id - 1, 2));
        expected[NodeId{id}] = MemberStatus::valid;
    }
    std::string why;
    w.run_until(w.now() + k_interval * k_converge_bound_rounds, [&] { return w.converged(expected, why); });
    if (w.converged(expected, why)) return true;
    w.violations().push_back("bootstrap: " + std::to_string(count) + " nodes did not settle: " + why);
    return false;
}

Script script_for(GossipScenario s, World& w, Time t0) {
    Script sc;
    Rng& rng = w.rng();
    auto at = [&](std::int64_t lo_ms, std::int64_t hi_ms) { return t0 + Duration::millis(rng.between(lo_ms, hi_ms)); };
    switch (s) {
        case GossipScenario::grow:
            for (std::uint32_t id = 4; id <= 6; ++id) {
                auto seeds = seeds_among(w, NodeId{id}, 3, 1 + static_cast<int>(rng.below(2)));
                sc.actions.push_back({at(0, 3000), [id, seeds](World& x) { x.start(NodeId{id}, seeds); }});
                sc.expected[NodeId{id}] = MemberStatus::valid;
            }
            break;
        case GossipScenario::shrink: {
            std::vector<std::uint32_t> ids{1, 2, 3, 4, 5, 6};
            for (std::size_t i = 0; i < 3; ++i) std::swap(ids[i], ids[i + rng.below(ids.size() - i)]);
            for (std::size_t i = 0; i < 3; ++i) {
                const NodeId who{ids[i]};
                const bool self = rng.chance(0.5);
                sc.actions.push_back({at(0, 3000), [who, self](World& x) {
                                          const NodeId via = self && x.node(who).live() ? who : x.pick_live(who);
                                          if (auto ec = x.node(via).g->leave(x.now(), who))
                                              x.violations().push_back("command: leave failed: " + ec.message());
                                      }});
                sc.expected[who] = MemberStatus::exiting;
            }
            break;
        }
        case GossipScenario::replace: {
            const NodeId victim{static_cast<std::uint32_t>(1 + rng.below(4))};
            const Time died = at(0, 1000);
            const Time removed = died + Duration::millis(rng.between(2000, 8000));
            sc.actions.push_back({died, [victim](World& x) {
                                      x.crash(victim);
                                      x.node(victim).dead = true;
                                  }});
            sc.actions.push_back({removed, [victim](World& x) {
                                      if (auto ec = x.node(x.pick_live()).g->remove(x.now(), victim))
                                          x.violations().push_back("command: remove failed: " + ec.message());
                                  }});
            auto seeds = seeds_among(w, victim, 4, 2);
            sc.actions.push_back({died + Duration::millis(rng.between(0, 10000)),
                                  [seeds](World& x) { x.start(NodeId{5}, seeds); }});
            sc.expected[victim] = MemberStatus::removed;
            sc.expected[NodeId{5}] = MemberStatus::valid;
            break;
        }
        case GossipScenario::partition_join: {
            std::set<NodeId> side;
            side.insert(NodeId{static_cast<std::uint32_t>(1 + rng.below(4))});
            if (rng.chance(0.5)) side.insert(NodeId{static_cast<std::uint32_t>(1 + rng.below(4))});
            NodeId in_side = *side.begin(), out_side;
            for (std::uint32_t id = 1; id <= 4; ++id)
                if (!side.contains(NodeId{id})) out_side = NodeId{id};
            sc.actions.push_back({t0, [side](World& x) { x.split(side); }});
            sc.actions.push_back({at(0, 2000), [in_side](World& x) {
                                      x.start(NodeId{5}, {address_of(in_side)});
                                      std::set<NodeId> s2;  // the joiner sits on its seed's side
                                      for (std::uint32_t id = 1; id <= 5; ++id)
                                          if (x.has(NodeId{id}) && x.node(NodeId{id}).group == 1) s2.insert(NodeId{id});
                                      s2.insert(NodeId{5});
                                      x.split(s2);
                                  }});
            sc.actions.push_back({at(0, 2000), [out_side](World& x) { x.start(NodeId{6}, {address_of(out_side)}); }});
            sc.actions.push_back({at(5000, 15000), [](World& x) { x.heal(); }});
            sc.expected[NodeId{5}] = MemberStatus::valid;
            sc.expected[NodeId{6}] = MemberStatus::valid;
            break;
        }
        case GossipScenario::concurrent_join: {
            std::vector<std::uint32_t> seeds{1, 2, 3};
            for (std::size_t i = 0; i < 2; ++i) std::swap(seeds[i], seeds[i + rng.below(3 - i)]);
            const Time same = at(0, 1000);
            for (std::uint32_t i = 0; i < 3; ++i) {
                const NodeId id{4 + i};
                const std::string seed = address_of(NodeId{seeds[i]});
                sc.actions.push_back({same, [id, seed](World& x) { x.start(id, {seed}); }});
                sc.expected[id] = MemberStatus::valid;
            }
            break;
        }
        case GossipScenario::crash: {
            sc.actions.push_back({t0, [](World& x) { x.start(NodeId{5}, {address_of(NodeId{2})}); }});
            const NodeId victim{static_cast<std::uint32_t>(1 + rng.below(5))};
            const Time down = at(500, 4000);
            sc.actions.push_back({down, [victim](World& x) { x.crash(victim); }});
            sc.actions.push_back({down + Duration::millis(rng.between(2000, 8000)),
                                  [victim](World& x) { x.start(victim, {}); }});
            sc.expected[NodeId{5}] = MemberStatus::valid;
            break;
        }
    }
    std::stable_sort(sc.actions.begin(), sc.actions.end(), [](const Action& a, const Action& b) { return a.at < b.at; });
    return sc;
}

std::uint32_t initial_nodes(GossipScenario s) {
    switch (s) {
        case GossipScenario::grow: return 3;
        case GossipScenario::shrink: return 6;
        case GossipScenario::concurrent_join: return 3;
        default: return 4;
    }
}

}  // namespace

std::string_view gossip_scenario_name(GossipScenario s) {
    switch (s) {
        case GossipScenario::grow: return "grow";
        case GossipScenario::shrink: return "shrink";
        case GossipScenario::replace: return "replace";
        case GossipScenario::partition_join: return "partition-join";
        case GossipScenario::concurrent_join: return "concurrent-join";
        case GossipScenario::crash: return "crash";
    }
    SHOAL_UNREACHABLE("bad gossip scenario");
}

std::string gossip_replay_command(GossipScenario scenario, std::uint64_t seed) {
    return "shoal-sim gossip --seed " + std::to_string(seed) + " --scenario " + std::string(gossip_scenario_name(scenario));
}

GossipRunResult run_gossip_scenario(GossipScenario scenario, std::uint64_t seed) {
    GossipRunResult r;
    r.seed = seed;
    r.scenario = scenario;
    Rng setup(hash_combine(seed, static_cast<std::uint64_t>(scenario) + 1));
    const NetFaults faults = faults_for(setup);
    World w(hash_combine(seed, static_cast<std::uint64_t>(scenario) + 101), faults, true, setup.chance(0.5));

    std::map<NodeId, MemberStatus> expected;
    if (bootstrap(w, initial_nodes(scenario), expected)) {
        const Time t0 = w.now() + Duration::millis(w.rng().between(0, 2000));
        Script sc = script_for(scenario, w, t0);
        for (const auto& [id, status] : sc.expected) expected[id] = status;
        Time last_change = t0;
        for (Action& a : sc.actions) {
            w.run_until(a.at);
            a.run(w);
            last_change = w.now();
        }
        const Time deadline = last_change + k_interval * k_converge_bound_rounds;
        std::string why;
        w.run_until(deadline, [&] { return w.converged(expected, why); });
        if (w.converged(expected, why)) {
            r.rounds_to_converge = static_cast<int>((w.now() - last_change).us / k_interval.us);
            const ClusterView settled_view = *w.any_live_view();
            w.check_placement(settled_view);
            // A settled cluster stays put: five more rounds change nothing.
            w.run_until(w.now() + k_interval * 5);
            if (!(*w.any_live_view() == settled_view) || !w.converged(expected, why))
                w.violations().push_back("stability: the settled view changed again: " + why);
        } else {
            w.violations().push_back("convergence: not settled within " + std::to_string(k_converge_bound_rounds) +
                                     " rounds of the last change: " + why);
        }
    }
    r.trace_hash = w.trace_hash();
    r.messages = w.delivered();
    r.dropped = w.dropped();
    r.violations = std::move(w.violations());
    return r;
}

SpreadResult measure_spread(std::uint32_t nodes, std::uint64_t first_seed, std::uint32_t runs, double drop) {
    SHOAL_ASSERT(nodes >= 2);
    SpreadResult out;
    out.nodes = nodes;
    double total = 0;
    for (std::uint32_t run = 0; run < runs; ++run) {
        const std::uint64_t seed = first_seed + run;
        NetFaults f;
        f.drop = drop;
        World w(hash_combine(seed, nodes), f, false, false);
        // A settled cluster, written straight to every node's disk.
        ClusterView v = ClusterView::empty(k_q);
        for (std::uint32_t id = 1; id <= nodes; ++id) {
            gossip::MemberRecord m;
            m.id = NodeId{id};
            m.version = 1;
            m.peer_address = address_of(m.id);
            m.status = MemberStatus::valid;
            v.members.emplace(m.id, m);
        }
        gossip::reconcile(v);
        for (std::uint32_t id = 1; id <= nodes; ++id) {
            w.run_until(w.now() + Duration::millis(w.rng().below(3) == 0 ? 100 : 0));  // spread the phases
            w.prepare(NodeId{id}, {address_of(NodeId{1})}, v);
            w.start(NodeId{id}, {});  // resumes the settled view from its disk
        }
        std::string why;
        auto agreed = [&] { return w.converged({}, why); };
        w.run_until(w.now() + k_interval * 60, agreed);  // the start-up self updates spread
        // The change: one node restarts with a new incarnation and HTTP address.
        const NodeId changed{static_cast<std::uint32_t>(1 + w.rng().below(nodes))};
        w.crash(changed);
        w.start(changed, {address_of(NodeId{1})});
        const std::uint32_t inc = w.node(changed).g->incarnation();
        const Time t0 = w.now();
        auto spread = [&] {
            for (std::uint32_t id = 1; id <= nodes; ++id) {
                const auto* m = gossip::find_member(w.node(NodeId{id}).g->view(), changed);
                if (!m || m->incarnation != inc) return false;
            }
            return true;
        };
        w.run_until(t0 + k_interval * 100, spread);
        const int rounds = spread() ? static_cast<int>(std::ceil(static_cast<double>((w.now() - t0).us) / k_interval.us)) : 100;
        total += rounds;
        out.max_rounds = std::max(out.max_rounds, rounds);
    }
    out.runs = runs;
    out.mean_rounds = runs ? total / runs : 0;
    return out;
}

}  // namespace shoal::sim

// ---- the CLI ------------------------------------------------------------------------

namespace shoal::sim {

namespace {

struct GossipOptions {
    bool spread = false;
    std::uint64_t first = 1, last = 1;
    bool single = false;
    std::vector<GossipScenario> scenarios{std::begin(k_all_gossip_scenarios), std::end(k_all_gossip_scenarios)};
    std::uint64_t determinism_every = 10;
    std::uint32_t spread_runs = 5;
    double drop = 0.0;
    bool verbose = false;
};

void gossip_usage(std::FILE* to) {
    std::fputs(
        "usage: shoal-sim gossip --spread [--spread-runs R] [--drop P]\n"
        "       shoal-sim gossip [--seed N | --seeds A-B] [--scenario S] [--verbose]\n"
        "\n"
        "Runs Shoal's membership core (src/gossip) on simulated nodes and network.\n"
        "  --spread          rounds for one change to reach every node of 4/16/64/256 nodes\n"
        "  --spread-runs R   seeds averaged per size (default 5)\n"
        "  --drop P          message-loss probability for --spread (default 0)\n"
        "  --scenario S      grow | shrink | replace | partition-join | concurrent-join |\n"
        "                    crash | all (default all: every scenario for every seed)\n"
        "  --seed N, --seeds A-B  which seeds (each seed also varies drops and zones)\n"
        "  --determinism K   re-run every K-th seed, compare trace hashes (default 10; 0 off)\n"
        "  --verbose         one line per run\n"
        "Checkers: after the last change and a healed network, all live nodes hold one view\n"
        "within 60 rounds, the claim is settled and balanced, every partition has N=3\n"
        "distinct primaries (distinct zones with >= 3 zones), statuses are as scripted,\n"
        "and no owner ever switches without a completed handoff (or a removal).\n"
        "The last line reads: gossip: runs=R seeds=S violations=V max_rounds=M\n",
        to);
}

bool parse_scenarios(std::string_view s, std::vector<GossipScenario>& out) {
    if (s == "all") {
        out.assign(std::begin(k_all_gossip_scenarios), std::end(k_all_gossip_scenarios));
        return true;
    }
    for (GossipScenario g : k_all_gossip_scenarios) {
        if (gossip_scenario_name(g) == s) {
            out = {g};
            return true;
        }
    }
    return false;
}

bool parse_gossip_args(int argc, char** argv, GossipOptions& o) {
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        auto value = [&]() -> std::string_view { return i + 1 < argc ? std::string_view(argv[++i]) : std::string_view(); };
        if (arg == "--help" || arg == "-h") {
            gossip_usage(stdout);
            std::exit(0);
        } else if (arg == "--spread") {
            o.spread = true;
        } else if (arg == "--spread-runs") {
            auto v = parse_u64(value());
            if (!v || *v == 0 || *v > 1000) return false;
            o.spread_runs = static_cast<std::uint32_t>(*v);
        } else if (arg == "--drop") {
            const std::string text(value());
            char* end = nullptr;
            o.drop = std::strtod(text.c_str(), &end);
            if (text.empty() || *end != '\0' || o.drop < 0 || o.drop >= 0.5) return false;
        } else if (arg == "--seed") {
            auto v = parse_u64(value());
            if (!v) return false;
            o.first = o.last = *v;
            o.single = true;
        } else if (arg == "--seeds") {
            if (!parse_seed_range(value(), 1'000'000, o.first, o.last)) return false;
        } else if (arg == "--scenario") {
            if (!parse_scenarios(value(), o.scenarios)) return false;
        } else if (arg == "--determinism") {
            auto v = parse_u64(value());
            if (!v) return false;
            o.determinism_every = *v;
        } else if (arg == "--verbose" || arg == "-v") {
            o.verbose = true;
        } else {
            std::fprintf(stderr, "shoal-sim gossip: unknown argument '%s'\n", argv[i]);
            return false;
        }
    }
    return true;
}

int run_spread(const GossipOptions& o) {
    std::printf("gossip spread: rounds for one change to reach every node (push-pull, 1 round = 1 interval,\n"
                "  %u seeds per size, drop=%.3f)\n", o.spread_runs, o.drop);
    std::printf("  %6s %8s %12s %11s %9s\n", "nodes", "log2(n)", "mean_rounds", "max_rounds", "mean/log2");
    // O(log n): every size must spread within 1.5 log2(n) + 1 rounds on average (linear
    // growth would need ~n/2); a change that never spreads is a failure too.
    bool ok = true;
    for (std::uint32_t n : {4u, 16u, 64u, 256u}) {
        const SpreadResult r = measure_spread(n, o.first, o.spread_runs, o.drop);
        const double lg = std::log2(static_cast<double>(n));
        std::printf("  %6u %8.0f %12.2f %11d %9.2f\n", n, lg, r.mean_rounds, r.max_rounds, r.mean_rounds / lg);
        std::fflush(stdout);
        if (r.max_rounds >= 100 || r.mean_rounds > 1.5 * lg + 1) ok = false;
    }
    std::printf("gossip spread: %s\n", ok ? "ok, grows no faster than log2(n)" : "VIOLATION: slower than logarithmic");
    return ok ? 0 : 1;
}

}  // namespace

int gossip_main(int argc, char** argv) {
    GossipOptions o;
    if (!parse_gossip_args(argc, argv, o)) {
        gossip_usage(stderr);
        return 2;
    }
    if (o.spread) return run_spread(o);
    const auto started = std::chrono::steady_clock::now();
    std::uint64_t runs = 0, violations = 0, converged = 0, rounds_sum = 0, messages = 0, dropped = 0;
    std::uint64_t determinism_runs = 0;
    int max_rounds = 0;
    for (std::uint64_t seed = o.first; seed <= o.last; ++seed) {
        for (GossipScenario sc : o.scenarios) {
            const GossipRunResult r = run_gossip_scenario(sc, seed);
            runs += 1;
            messages += r.messages;
            dropped += r.dropped;
            if (r.rounds_to_converge >= 0) {
                converged += 1;
                rounds_sum += static_cast<std::uint64_t>(r.rounds_to_converge);
                max_rounds = std::max(max_rounds, r.rounds_to_converge);
            }
            std::vector<std::string> found = r.violations;
            if (o.determinism_every != 0 && (seed % o.determinism_every == 0 || o.single)) {
                determinism_runs += 1;
                const GossipRunResult again = run_gossip_scenario(sc, seed);
                if (again.trace_hash != r.trace_hash) found.push_back("determinism: trace hashes differ");
            }
            if (o.verbose || o.single) {
                std::printf("seed %llu %s: trace=%016llx messages=%llu dropped=%llu rounds=%d violations=%zu\n",
                            (unsigned long long)seed, std::string(gossip_scenario_name(sc)).c_str(),
                            (unsigned long long)r.trace_hash, (unsigned long long)r.messages,
                            (unsigned long long)r.dropped, r.rounds_to_converge, found.size());
            }
            if (found.empty()) continue;
            violations += found.size();
            const std::size_t shown = std::min<std::size_t>(found.size(), 5);
            for (std::size_t i = 0; i < shown; ++i)
                std::printf("VIOLATION seed %llu %s: %s\n", (unsigned long long)seed,
                            std::string(gossip_scenario_name(sc)).c_str(), found[i].c_str());
            if (found.size() > shown) std::printf("  ... %zu more\n", found.size() - shown);
            std::printf("  replay: %s\n", gossip_replay_command(sc, seed).c_str());
        }
    }
    const double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::printf("gossip: %llu messages delivered, %llu dropped, %llu determinism re-runs, %.1f s wall\n",
                (unsigned long long)messages, (unsigned long long)dropped, (unsigned long long)determinism_runs, wall_s);
    std::printf("gossip: runs=%llu seeds=%llu converged=%llu mean_rounds=%.1f max_rounds=%d violations=%llu\n",
                (unsigned long long)runs, (unsigned long long)(o.last - o.first + 1), (unsigned long long)converged,
                converged ? static_cast<double>(rounds_sum) / static_cast<double>(converged) : 0.0, max_rounds,
                (unsigned long long)violations);
    return violations == 0 ? 0 : 1;
}

}  // namespace shoal::sim
