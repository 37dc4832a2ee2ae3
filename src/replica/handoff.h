// Ownership handoff, the replica side. Membership (src/gossip) decides that claim
// slot s moves from node A to node B; this module decides what that move carries and
// the Node streams it:
//
//  - the target ring is the ring with every pending move applied. For each key
//    partition p, the nodes that are primaries of p in the target ring but not in the
//    current one are its *incoming* primaries. Writes to p are forwarded to them
//    while the moves are pending, so nothing written during a transfer is missed.
//  - an incoming primary B of p is filled by one move: the one of the slot that
//    brings B into p's preference list (the first slot clockwise from p that B owns
//    in the target ring), or failing that any move to B from a current primary of p.
//    That move's source streams p to B. Each (p, B) is streamed once.
//
// Anything the plan cannot attribute to a move (a primary that changes only because
// of zone ordering, say) is refilled once the ring switches: every node hands the keys
// of partitions it no longer keeps to their primaries (as hints, then drops its copy),
// and anti-entropy runs between the primaries. A destination accepts a stream only
// for a move in its own plan.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "core/limits.h"
#include "core/types.h"
#include "ring/ring.h"

namespace shoal::replica {

using ring::Move;  // one claim slot in handoff

struct HandoffPlan {
    std::vector<Move> moves;
    // Per move: the key partitions its source streams to its destination, ascending.
    std::vector<std::vector<PartitionId>> streams;
    // Per key partition (partition_count entries, or empty when nothing moves): the
    // incoming primaries that receive every write while the moves are pending.
    std::vector<std::vector<NodeId>> forward;
};

// Pure. `target` is `current` with each move's slot owned by its `to`.
HandoffPlan plan_handoffs(const ring::Ring& current, const ring::Ring& target, std::span<const Move> moves,
                          std::uint32_t n);

// Progress of one stream this node sends.
struct HandoffProgress {
    Move move;
    std::uint32_t partitions = 0;       // key partitions to stream
    std::uint32_t partitions_done = 0;  // fully sent and acknowledged
    std::uint64_t keys_sent = 0;        // acknowledged keys (this life of the node)
    std::uint64_t bytes_sent = 0;
    bool finished = false;
};

// One stream this node sends: a move's partitions in order, each in stored key order,
// from the last acknowledged position. Its phases: no batch out, a batch in flight
// (`inflight`: what it carries and where it takes the stream once acknowledged), and
// finished.
struct HandoffStream {
    struct Batch {
        std::uint64_t seq = 0;
        Instant deadline;             // resent (from the same position) after it
        std::size_t next_index = 0;   // the position once acknowledged
        std::string next_after;
        bool last = false;            // the stream's last batch
        std::size_t keys = 0, bytes = 0;
    };
    Move move;
    std::vector<PartitionId> partitions;
    std::size_t index = 0;  // the partition being sent
    std::string after;      // its last acknowledged stored key ("" = none yet)
    std::optional<Batch> inflight;
    std::uint64_t keys_sent = 0, bytes_sent = 0;
    bool finished = false;
    std::set<PartitionId> sent;  // sent whole under an earlier list: skipped
    std::optional<std::pair<PartitionId, std::string>> resume;  // and where one was left off

    // The batch in flight was acknowledged: the stream moves to where it led (and is
    // finished after the last); returns it.
    Batch acknowledged();
};

// Tuning of the streams.
struct HandoffConfig {
    std::size_t batch_keys = 256;
    // Checked before each state is added; a single state over it goes alone (as in
    // anti-entropy, a state larger than the peer frame bound cannot be sent).
    std::size_t batch_bytes = k_batch_bytes;
    std::size_t concurrency = 2;          // streams this node sends at once
    Duration timeout = Duration::seconds(5);  // an unacknowledged batch is sent again
    Duration refusal_backoff = Duration::millis(200);  // a refused batch is sent again
};

}  // namespace shoal::replica
