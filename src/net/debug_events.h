// The core's decisions as debug log lines (log_level = debug): where each request was
// routed, leader failovers, read repairs, anti-entropy exchanges, hint deliveries. Keys
// are the clients' data, so a line names a key by its namespace and hash only.
#pragma once

#include "replica/node.h"

namespace shoal::net {

class DebugEvents final : public replica::NodeEvents {
public:
    void routed(std::string_view key, replica::ClientOp op, const std::vector<NodeId>& targets, std::size_t fallbacks,
                NodeId leader) override;
    void leader_failover(std::string_view key, NodeId from, NodeId to) override;
    void read_repair(std::string_view key, NodeId to) override;
    void exchange_finished(NodeId peer, PartitionId p, bool complete) override;
    void hints_delivered(NodeId target, std::size_t count) override;
};

}  // namespace shoal::net
