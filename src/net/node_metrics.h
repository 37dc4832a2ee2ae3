// The replication core's counters and gauges in Prometheus text, for /metrics.
#pragma once

#include <string>

#include "replica/node.h"

namespace shoal::net {

// Appends the Node's request, quorum, repair and GC figures.
void render_node_metrics(const replica::Node& node, std::string& out);

}  // namespace shoal::net
