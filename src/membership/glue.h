// Membership with data: the one glue between a node's gossiper (src/gossip: who is in
// the cluster, who owns what) and its replica Node (src/replica: routing, handoff
// streams). shoald's shell (net/membership.cpp) and the simulator (sim/membership.cpp)
// both run it, so the simulator tests the glue shoald runs. Pure: no sockets, clocks
// or logging; the caller logs what sync() reports.
//
// This folder is the only one that depends on both gossip and replica; neither of
// them includes the other (the build enforces it: CMakeLists.txt, "layers").
#pragma once

#include <cstdint>
#include <vector>

#include "core/namespace.h"
#include "core/types.h"
#include "gossip/gossiper.h"
#include "replica/handoff.h"
#include "replica/node.h"
#include "ring/ring.h"

namespace shoal::membership {

// The replica side's plan for the view's pending moves (replica/handoff.h), with
// replication factor n. `current` is the view's routing ring (gossip::make_ring, which
// the caller already holds: Gossiper::ring()). Empty when nothing moves or the view is
// not founded.
replica::HandoffPlan handoff_plan(const gossip::ClusterView& view, const ring::Ring& current, std::uint32_t n);

struct GlueOptions {
    // Off, the teeth of the simulator's membership scenarios: every outgoing move is
    // reported done at once and nothing is streamed (the Node gets no plan).
    bool ownership_handoff = true;
    // Namespaces the node serves beyond the view's (the view's win on a clash): the
    // simulator's workload namespaces, which a real cluster would have created.
    Namespaces extra_namespaces;
};

// What one sync did.
struct SyncReport {
    struct Finished {
        ring::Move move;
        bool taken = false;  // false: the view had moved on (a stale report)
    };
    std::vector<Finished> finished;  // streams the Node finished, reported to the gossiper
    bool view_changed = false;       // a new view epoch since the last sync
    bool ring_installed = false;     // the Node got a ring (and plan) from it
};

class Glue {
public:
    explicit Glue(GlueOptions options = {}) : options_(std::move(options)) {}

    // Reports the Node's finished streams to the gossiper (whose claimant then
    // switches the owners); then, when the view changed, installs its namespaces and,
    // once it is founded, its ring and handoff plan in the Node.
    SyncReport sync(Instant now, gossip::Gossiper& gossiper, replica::Node& node);
    // Installs the view's namespaces in the Node (after a namespace command).
    void install_namespaces(const gossip::Gossiper& gossiper, replica::Node& node) const;
    // Time passed: the gossiper's round (heartbeats). Returns the peers the node's
    // detector (the one the gossiper and the Node share) found newly silent, for the
    // shell to dial again; none before the node joined or after it stopped.
    // shoald's membership and the simulator both call it every tick.
    std::vector<NodeId> tick(Instant now, gossip::Gossiper& gossiper, health::Detector& detector) const;

    // True once the node belongs to a founded cluster (it has a ring to route by).
    bool joined() const { return joined_; }

private:
    GlueOptions options_;
    std::uint64_t epoch_ = 0;
    bool joined_ = false;
};

}  // namespace shoal::membership
