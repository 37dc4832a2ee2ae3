// Internals of `shoal-sim gossip` (gossip_sim.h), shared by its engine
// (gossip_world.cpp: the simulated network and disks, the stand-in for ownership
// handoff, the per-event handoff checker) and its scenarios, spread measurement and
// CLI (gossip_sim.cpp). Not a public header.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "core/rng.h"
#include "core/types.h"
#include "gossip/gossiper.h"
#include "store/memory_store.h"

namespace shoal::sim::gossip_world {

using gossip::ClusterView;
using gossip::GossipMessage;
using gossip::MemberStatus;

inline constexpr std::uint32_t k_q = 64;
inline constexpr std::uint32_t k_replicas = 3;  // N for the preference-list checker
inline constexpr Duration k_interval = Duration::seconds(1);
inline constexpr Duration k_tick = Duration::millis(100);

// A node's peer address, "sim:<id>".
std::string address_of(NodeId id);

struct NetFaults {
    double drop = 0;
    double duplicate = 0;
    double slow = 0;  // probability of a slow path (reordering)
    Duration delay_min = Duration::millis(1);
    Duration delay_max = Duration::millis(30);
    Duration slow_max = Duration::millis(600);
};

struct SimNode {
    NodeId id;
    std::string zone;
    std::vector<std::string> seeds;
    std::unique_ptr<store::MemStore> disk;
    std::unique_ptr<Rng> rng;
    std::unique_ptr<health::Detector> detector;  // the gossiper's (a fresh one each start)
    std::unique_ptr<gossip::Gossiper> g;  // null while down
    bool exited = false;                  // left the cluster and shut down
    bool dead = false;                    // crashed for good
    int group = 0;                        // network side
    std::uint32_t starts = 0;
    std::map<std::uint32_t, std::pair<NodeId, Instant>> handoffs;  // partition -> (to, done at)
    bool live() const { return g != nullptr && !exited; }
};

// One world: nodes, network, the scripted actions, the checkers.
class World {
public:
    World(std::uint64_t seed, NetFaults faults, bool heartbeats, bool zones)
        : seed_(seed),
          rng_(seed * 0x9e3779b97f4a7c15ull + 1),
          faults_(faults),
          heartbeats_(heartbeats),
          zones_(zones) {}

    Instant now() const { return now_; }
    Rng& rng() { return rng_; }
    SimNode& node(NodeId id) { return nodes_.at(id); }
    bool has(NodeId id) const { return nodes_.contains(id); }
    std::vector<std::string>& violations() { return violations_; }

    // Starts (or restarts, from its disk) node `id` joining through `seeds`.
    void start(NodeId id, std::vector<std::string> seeds);
    // Gives node `id` a disk holding `view` (and its seeds) before its first start.
    void prepare(NodeId id, std::vector<std::string> seeds, const ClusterView& view);
    // Power loss: unsynced writes are lost; the transfers it ran start over.
    void crash(NodeId id);
    void split(const std::set<NodeId>& side);
    void heal();
    // A node an operator's command can be issued through: live, a valid member (so its
    // view knows the cluster), not `except`.
    NodeId pick_live(NodeId except = NodeId{});
    // A live valid member that may rule on statuses (where an operator's leave or
    // remove of another node goes), `target` itself only when `target_too`. Invalid when
    // none may (views are still spreading: an operator told so tries again).
    NodeId pick_ruler(NodeId target, bool target_too);
    // Runs simulated time forward to `end` (in ticks of 100 ms).
    void run_until(Instant end, const std::function<bool()>& stop = {});
    // All live nodes hold one view, the claim is settled and healthy, statuses are as
    // expected. `why` says what is missing.
    bool converged(const std::map<NodeId, MemberStatus>& expected, std::string& why);
    // Checks of a converged view that must hold, or they are violations.
    void check_placement(const ClusterView& v);
    // GOSSIP_DEBUG: prints every live node's view.
    void dump();
    const ClusterView* any_live_view();
    std::uint64_t trace_hash();
    std::uint64_t delivered() const { return delivered_; }
    std::uint64_t dropped() const { return dropped_; }

private:
    using Key = std::pair<Instant, std::uint64_t>;
    struct InFlight {
        NodeId from, to;
        GossipMessage message;
    };

    void flush(SimNode& n);
    void send(SimNode& from, gossip::GossipEnvelope& e);
    void deliver(InFlight& m);
    // The stand-in for the node's ownership handoff: a transfer takes 1-4 s while both
    // ends are up and can talk, then the source marks it complete.
    void drive_handoffs(SimNode& n);

    // Checker, after every event of a node: no owner switches without a completed
    // handoff (or a removal), and no done mark without a completed transfer.
    void observe(SimNode& n);
    void violation(const SimNode& n, std::uint32_t p, const std::string& what);

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
    Instant now_{};
    std::map<NodeId, SimNode> nodes_;
    std::map<Key, InFlight> queue_;
    std::uint64_t next_seq_ = 0;
    std::set<std::tuple<std::uint32_t, NodeId, NodeId>> completed_;
    std::uint64_t trace_ = 0;
    std::uint64_t delivered_ = 0, dropped_ = 0;
    std::vector<std::string> violations_;
};

}  // namespace shoal::sim::gossip_world
