// The failure detector: one per node, the single answer to "is this peer up?" for
// everything that routes (the replica Node's coordinators, hints, anti-entropy and
// handoff) and for gossip (whom to gossip with). It is handed to the Gossiper and the
// Node by their owner (shoald, the simulator, a test), and both feed it evidence:
//
//   heard     a frame from a member arrived (gossip, heartbeats): a phi-accrual
//             sample (Hayashibara et al., "The phi accrual failure detector", 2004);
//   answered  the peer answered a request: a sample if the peer has a history, and
//             any miss is over;
//   missed    the peer was asked and did not answer in time: down for routing until
//             it answers, and probed meanwhile.
//
// For each peer it keeps a window of inter-arrival times and reports
//   phi(t) = -log10(1 - F(t - last_arrival))
// where F is the normal CDF with the window's mean (plus an acceptable pause) and
// standard deviation (at least a configured minimum). phi = 1 means about a 10%
// chance that the peer is in fact alive and the next frame merely late, phi = 8 about
// 1e-8. A peer is silent once phi reaches the threshold.
//
// A peer is up when it is neither silent nor missed. Suspicion is for routing only:
// it never changes membership or ownership.
//
// Pure: time is handed in. Memory: O(peers x window); histories exist only for peers
// heard through `heard` (members, as the Gossiper checks), and forget() drops one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "core/types.h"

namespace shoal::health {

struct DetectorConfig {
    double phi_threshold = 8.0;
    std::size_t window = 100;  // inter-arrival samples kept per peer (>= 2)
    Duration min_std_dev = Duration::millis(100);
    // Added to the mean: one lost heartbeat at the default 1 s interval is tolerated.
    Duration acceptable_pause = Duration::seconds(1);
    // Bootstrap: after the first arrival, before any interval is known, the window
    // holds two samples around this estimate (mean = estimate, std = estimate / 4).
    Duration first_estimate = Duration::seconds(1);
    // A peer down for routing is probed at most this often (replica::Ping).
    Duration probe_interval = Duration::millis(250);
};

class Detector {
public:
    explicit Detector(DetectorConfig config = {});
    Detector(const Detector&) = delete;
    Detector& operator=(const Detector&) = delete;

    // --- evidence ---
    // A frame from `peer` arrived. O(1). If the peer was silent, the outage gap is not
    // recorded as a sample: the window keeps describing the peer's normal rhythm.
    void heard(NodeId peer, Instant now);
    // `peer` answered a request: a miss is over, and if the peer has a history the
    // arrival is a sample too (an answer creates no history: after a node stops
    // gossiping and forgets the histories, answers alone never make peers silent).
    void answered(NodeId peer, Instant now);
    // `peer` was asked and did not answer in time: down for routing until it answers.
    void missed(NodeId peer, Instant now);

    // --- verdicts ---
    // Suspicion level; 0 for a peer never heard from. O(1).
    double phi(NodeId peer, Instant now) const;
    // phi >= threshold. A peer never heard from is not silent (no evidence).
    bool silent(NodeId peer, Instant now) const { return phi(peer, now) >= config_.phi_threshold; }
    // Neither silent nor missed: what routing asks.
    bool up(NodeId peer, Instant now) const;
    // True once `peer` has a history (heard and not forgotten).
    bool known(NodeId peer) const { return history_.contains(peer); }

    // Peers down for routing (missed or silent) whose probe is due: each is returned at
    // most once per probe_interval, in id order.
    std::vector<NodeId> due_probes(Instant now);
    // Peers that fell silent since the last call and had no miss outstanding (routing
    // already went around those), in id order: the shell dials their links again.
    std::vector<NodeId> newly_silent(Instant now);

    // Drops all history, miss and probe state of `peer` (it was removed).
    void forget(NodeId peer);
    // Drops every peer's history (this node stopped gossiping: silence means nothing
    // now); misses stay until answered.
    void forget_histories() { history_.clear(); }

    const DetectorConfig& config() const { return config_; }

private:
    struct History {
        std::vector<double> samples_ms;  // ring buffer
        std::size_t next = 0;
        double sum = 0, sum_sq = 0;
        Instant last;
        bool reported_silent = false;  // newly_silent returned it; cleared when heard again
        void add(double ms, std::size_t window);
        double mean() const { return sum / static_cast<double>(samples_ms.size()); }
        double std_dev() const;
    };
    struct Probe {
        bool missed = false;  // asked, no answer yet
        Instant next;         // when it may be probed again
    };

    double phi_of(const History& h, Instant now) const;
    void sample(History& h, Instant now);

    DetectorConfig config_;
    std::unordered_map<NodeId, History> history_;
    std::unordered_map<NodeId, Probe> probes_;  // peers missed or probed since they were last up
};

}  // namespace shoal::health
