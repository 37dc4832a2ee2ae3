// A phi-accrual failure detector (Hayashibara et al., "The phi accrual failure
// detector", 2004), local to one node and for routing only: being suspected makes
// coordinators prefer fallbacks; it never changes membership or ownership.
//
// For each peer it keeps a window of heartbeat inter-arrival times and reports
//   phi(t) = -log10(1 - F(t - last_heartbeat))
// where F is the normal CDF with the window's mean (plus an acceptable pause) and
// standard deviation (at least a configured minimum). phi = 1 means about a 10%
// chance that the peer is in fact alive and the next heartbeat merely late, phi = 8
// about 1e-8. A peer is available while phi stays under the threshold.
//
// Pure: time is handed in. Memory: O(peers x window).
#pragma once

#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "core/types.h"

namespace shoal::gossip {

struct DetectorConfig {
    double phi_threshold = 8.0;
    std::size_t window = 100;  // inter-arrival samples kept per peer (>= 2)
    Duration min_std_dev = Duration::millis(100);
    // Added to the mean: one lost heartbeat at the default 1 s interval is tolerated.
    Duration acceptable_pause = Duration::seconds(1);
    // Bootstrap: after the first heartbeat, before any interval is known, the window
    // holds two samples around this estimate (mean = estimate, std = estimate / 4).
    Duration first_estimate = Duration::seconds(1);
};

class FailureDetector {
public:
    explicit FailureDetector(DetectorConfig config = {});

    // A heartbeat (or any message) arrived from `peer`. O(1). If the peer was
    // suspected, the outage gap is not recorded as a sample: the window keeps
    // describing the peer's normal rhythm.
    void heartbeat(NodeId peer, Instant now);

    // Suspicion level; 0 for a peer never heard from. O(1).
    double phi(NodeId peer, Instant now) const;

    // phi < threshold. A peer never heard from counts as available (no evidence).
    bool available(NodeId peer, Instant now) const;

    // True once any heartbeat from `peer` was seen (and not forgotten).
    bool known(NodeId peer) const { return peers_.contains(peer); }

    // Drops all history of `peer` (it was removed or restarted with a new rhythm).
    void forget(NodeId peer) { peers_.erase(peer); }

    const DetectorConfig& config() const { return config_; }

private:
    struct History {
        std::vector<double> samples_ms;  // ring buffer
        std::size_t next = 0;
        double sum = 0, sum_sq = 0;
        Instant last;
        void add(double ms, std::size_t window);
        double mean() const { return sum / static_cast<double>(samples_ms.size()); }
        double std_dev() const;
    };

    double phi_of(const History& h, Instant now) const;

    DetectorConfig config_;
    std::unordered_map<NodeId, History> peers_;
};

}  // namespace shoal::gossip
