// Membership inside shoald: the glue between the gossiper and the replica Node
// (membership/glue.h, which the simulator runs too), with what only a real node has:
// logging, the admin commands, /cluster and the membership metrics. No sockets here;
// the shell calls it on its loop thread.
//
// After each loop turn the shell calls sync(): when the view changed, the Node gets
// the new ring and the new handoff plan; streams the Node finished are reported to
// the gossiper, whose claimant then switches the owners.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/types.h"
#include "gossip/gossiper.h"
#include "http/api.h"
#include "membership/glue.h"
#include "replica/node.h"
#include "store/store.h"

namespace shoal::net {

class Membership {
public:
    Membership(gossip::Gossiper& gossiper, replica::Node& node, health::Detector& detector, store::Store& store);

    // Installs a changed view in the Node and reports finished handoffs. Returns true
    // when the view changed since the last call.
    bool sync(Instant now);
    // Time passed: the gossiper's round and heartbeats. Returns the peers the node's
    // detector found newly silent: the shell dials their links again (the Node already
    // routes around them and probes them).
    std::vector<NodeId> tick(Instant now);
    // True once this node belongs to a founded cluster (it has a ring to route by).
    bool joined() const { return glue_.joined(); }
    // The node is exiting or removed: it owns nothing and should shut down.
    bool exited() const { return gossiper_.stopped(); }

    http::Response command(Instant now, const http::MembershipCall& call);
    // GET /ns, /ns/{name}; POST and PUT /ns/{name}: namespaces live in the view.
    http::Response namespaces(Instant now, const http::NamespaceCall& call);
    // GET /cluster: members with status and health, the claim with moving partitions,
    // and this node's outgoing handoff streams with their progress.
    std::string cluster_json(Instant now, std::string_view sync_mode);
    void render_metrics(std::string& out) const;

    gossip::Gossiper& gossiper() { return gossiper_; }

private:
    http::Response misdirected(Instant now, NodeId target) const;

    gossip::Gossiper& gossiper_;
    replica::Node& node_;
    health::Detector& detector_;
    store::Store& store_;
    membership::Glue glue_;
    std::string last_summary_;
};

// True when the store holds any replica data (a node with data may not join another
// cluster, nor start afresh when its saved view is unreadable).
bool holds_data(store::Store& store);

}  // namespace shoal::net
