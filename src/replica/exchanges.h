// Anti-entropy's bookkeeping, as a machine of its own: the exchanges this node starts
// (at most one per peer, so a silent peer holds up only its own; a bounded number in
// all) and where each stands, the pairs met while their peer was busy, the cursor
// that walks (partition, replica) pairs, the start step of each pair's last complete
// exchange (what tombstone GC waits for), and aborts by peer. No I/O: the Node runs
// the protocol (repair.cpp) and sends the messages.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "core/types.h"

namespace shoal::replica {

class Exchanges {
public:
    struct Exchange {
        std::uint64_t xid = 0;
        PartitionId partition;
        NodeId peer;
        std::uint32_t level = 0;  // of the tree, while comparing it
        std::uint64_t start_step = 0;
        Instant deadline;
        std::vector<std::uint32_t> leaves;  // differing leaves not yet exchanged
        std::vector<std::uint32_t> step;    // leaves of the step in flight
        bool truncated = false;             // something was left out: it proves nothing to GC
    };
    struct Pair {
        PartitionId partition;
        NodeId peer;
    };

    // Exchange ids start above `first_xid` (a life's own range); the cursor at `cursor`.
    Exchanges(std::uint64_t first_xid, std::uint64_t cursor) : next_xid_(first_xid + 1), cursor_(cursor) {}

    // Removes the exchanges whose deadline passed by `now`, counting each as aborted;
    // returns their peers.
    std::vector<NodeId> expire(Instant now);
    // True when a new exchange may start at `now`: one is due and fewer than
    // `max_parallel` run. The next is then due `interval` later.
    bool may_start(Instant now, Duration interval, std::size_t max_parallel);
    // The next pair to exchange: one that waited for its peer, else the next of `total`
    // cursor positions for which `pair_at(position)` gives a pair (a pair whose peer is
    // busy is put aside for it). `up(peer)`: the peer is believed up (what waited for a
    // peer that is not is dropped: the cursor brings it round again).
    template <typename Up, typename PairAt>
    std::optional<Pair> next_pair(std::uint64_t total, Up&& up, PairAt&& pair_at);

    // Starts the exchange of `pair`, from local step `start_step`, due by `deadline`.
    Exchange& begin(Pair pair, std::uint64_t start_step, Instant deadline);
    // The exchange with `peer` whose id is `xid`, its deadline moved to `deadline` (it
    // answered); nullptr when there is none.
    Exchange* answered(NodeId peer, std::uint64_t xid, Instant deadline);
    // Ends `ex` (the reference dies). A complete one, if nothing was left out, records
    // its start step for the pair; an incomplete one counts as aborted.
    void finish(Exchange& ex, bool complete);
    // Forgets the running exchanges and what waited (the store is about to be read
    // again: their steps may have merged writes that are now lost).
    void clear_running();

    // The pair's last complete exchange started after local step `step`.
    bool synced_after(PartitionId p, NodeId peer, std::uint64_t step) const;
    const std::map<NodeId, Exchange>& running() const { return running_; }
    const std::map<NodeId, std::uint64_t>& aborted_by_peer() const { return aborted_by_peer_; }

private:
    std::map<NodeId, Exchange> running_;
    std::map<NodeId, std::deque<PartitionId>> deferred_;  // pairs met while their peer was busy
    std::map<NodeId, std::uint64_t> aborted_by_peer_;
    std::map<std::pair<PartitionId, NodeId>, std::uint64_t> synced_;  // start step of the last complete exchange
    std::uint64_t next_xid_;
    std::uint64_t cursor_;
    Instant next_start_;
};

template <typename Up, typename PairAt>
std::optional<Exchanges::Pair> Exchanges::next_pair(std::uint64_t total, Up&& up, PairAt&& pair_at) {
    for (auto it = deferred_.begin(); it != deferred_.end();) {
        if (!up(it->first) || it->second.empty()) {
            it = deferred_.erase(it);
            continue;
        }
        if (running_.count(it->first) == 0) {
            const PartitionId p = it->second.front();
            it->second.pop_front();
            return Pair{p, it->first};
        }
        ++it;
    }
    for (std::uint64_t tries = 0; tries < total; ++tries) {
        const std::optional<Pair> pair = pair_at(cursor_++ % total);
        if (!pair) continue;
        if (running_.count(pair->peer) != 0) {
            auto& waiting = deferred_[pair->peer];
            if (std::find(waiting.begin(), waiting.end(), pair->partition) == waiting.end()) {
                waiting.push_back(pair->partition);
            }
            continue;
        }
        return pair;
    }
    return std::nullopt;
}

}  // namespace shoal::replica
