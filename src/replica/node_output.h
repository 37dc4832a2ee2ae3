// What a replica::Node hands out: each turn's output (Outbox: its writes, and the
// messages and replies that rest on them) and its counters (NodeStats).
#pragma once

#include <cstdint>
#include <vector>

#include "replica/messages.h"
#include "store/buffered_store.h"

namespace shoal::replica {

struct NodeStats {
    std::uint64_t keys_stored = 0;  // gauge: keys with a state on this node's disk
    std::uint64_t client_gets = 0;
    std::uint64_t client_puts = 0;
    std::uint64_t client_dels = 0;
    std::uint64_t client_lists = 0;  // pages of a key listing (SCAN)
    std::uint64_t client_errors = 0;
    std::uint64_t quorum_failures = 0;
    std::uint64_t read_repairs_sent = 0;
    std::uint64_t hints_stored = 0;
    std::uint64_t leader_failovers = 0;
    std::uint64_t read_retries = 0;  // reads that asked more targets after `read_retry`
    std::uint64_t store_errors = 0;
    std::uint64_t corrupt_reads = 0;
    std::uint64_t states_refused = 0;  // writes and merges that would have passed the state bound
    std::uint64_t late_leads_refused = 0;  // puts that reached this leader after their apply_by
    // Data-type writes replicated as patches: sent to a replica, and answered
    // need_state (its copy was not the leader's; it was sent the state).
    std::uint64_t deltas_sent = 0;
    std::uint64_t deltas_refused = 0;
    std::uint64_t deltas_unanswered = 0;  // asked for the state too late (after the put's deadline)
    std::uint64_t delta_patch_bytes = 0;  // the patches' bytes, as sent
    std::uint64_t delta_value_bytes = 0;  // the bytes of the values they stood for
    // Hinted handoff.
    std::uint64_t hints_pending = 0;  // gauge
    std::uint64_t hint_bytes_pending = 0;  // gauge
    std::uint64_t hints_delivered = 0;
    std::uint64_t hints_dropped = 0;  // writes refused because the hint store was full
    std::uint64_t actors_retired = 0;  // a fallback dropped a copy it had issued dots for
    // Anti-entropy.
    std::uint64_t ae_exchanges = 0;  // completed
    std::uint64_t ae_aborted = 0;
    std::uint64_t ae_keys_repaired = 0;  // keys changed here by an exchange
    std::uint64_t ae_bytes_sent = 0;
    std::uint64_t corrupt_repaired = 0;
    std::uint64_t scrubs = 0;
    std::uint64_t scrub_mismatches = 0;  // a rebuilt tree differed: damage on disk
    // Tombstone GC.
    std::uint64_t gc_candidates = 0;  // gauge
    std::uint64_t tombstones_reaped = 0;
    // Ownership handoff.
    std::uint64_t handoff_keys_sent = 0;
    std::uint64_t handoff_bytes_sent = 0;
    std::uint64_t handoff_keys_received = 0;
    std::uint64_t handoff_retries = 0;    // batches sent again after a timeout or refusal
    std::uint64_t handoff_refusals = 0;   // batches the destination refused
    std::uint64_t handoffs_completed = 0;  // streams finished
    std::uint64_t writes_forwarded = 0;    // writes also sent to an incoming primary
};

// A client reply, and the store batch it rests on (0: none).
struct OutReply {
    ClientReply reply;
    std::uint64_t needs = 0;
};

// What one turn of the core hands out: its writes, to persist (synced when
// `writes.sync`), and what it sends and answers. Each reply, and each message that
// could vouch for this node's state (promises_nothing() false), rests on the store's
// batches up to its own `needs` and may leave only once those are durable: what the
// step that made it read and wrote, and, for a coordinator's reply, what its own copy
// contributed in earlier steps. So one answer's wait is its own, not its turn's.
struct Outbox {
    std::vector<Envelope> messages;
    std::vector<OutReply> replies;
    store::StagedBatch writes;  // seq 0: the turn wrote nothing
    bool has_writes() const { return writes.seq != 0; }
    // The latest batch anything here rests on (0: nothing unsynced).
    std::uint64_t needs() const;
    void clear() {
        messages.clear();
        replies.clear();
        writes = store::StagedBatch{};
    }
};

}  // namespace shoal::replica
