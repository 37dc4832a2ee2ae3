// The hint queue: the bookkeeping of hinted handoff, as a machine of its own. The
// hints live in the store (store/keys.h: one hint_key -> hint_value per write a
// fallback took for a primary); the queue counts what waits for each target and how
// many bytes, holds the one batch in flight to each target, paces the delivery rounds,
// and knows which user keys hints still name (a fallback drops its copy of a key only
// once none does). It does no I/O: the Node reads and writes the store and sends the
// batches, and tells the queue of every hint it writes, finds or deletes, so the
// counts pair with the store's (a count that would go below zero is a bug: asserted).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/types.h"
#include "replica/messages.h"

namespace shoal::replica {

// The bytes a hint counts for against max_hint_bytes: its user key and the state it
// hands over, as a batch carrying it counts them (state_bytes). A stored state's
// encoded size may stand in for state_bytes where decoding it would cost a scan.
inline std::size_t hint_bytes(std::string_view key, std::size_t state_size) { return key.size() + state_size; }
inline std::size_t hint_bytes(std::string_view key, const SiblingSet& state) {
    return hint_bytes(key, state_bytes(state));
}

class HintQueue {
public:
    // One stored hint: its store key, the bytes it counts for, the user key it names.
    struct Hint {
        std::string stored;
        std::uint64_t bytes = 0;
        std::string key;
    };
    // What waits for one target, and the batch in flight to it (inflight 0: none).
    struct Target {
        std::uint64_t pending = 0;
        std::uint64_t inflight = 0;
        Instant deadline;
        std::vector<Hint> batch;
    };

    // At most `max_hints` hints of `max_bytes` in all. Hint and batch numbers start
    // above `first`, so that this life's never match an earlier life's.
    HintQueue(std::uint64_t max_hints, std::uint64_t max_bytes, std::uint64_t first);

    // Room for one more hint of `bytes` under both bounds.
    bool room(std::size_t bytes) const { return pending_ < max_hints_ && bytes_ + bytes <= max_bytes_; }
    std::uint64_t pending() const { return pending_; }
    std::uint64_t bytes() const { return bytes_; }
    // Some hint names user key `key`.
    bool names(std::string_view key) const { return named_.contains(std::string(key)); }

    // The store key for a new hint to `target`; each call gives another.
    std::string next_key(NodeId target);
    // A hint to `target` naming `key` was written (under next_key's key).
    void added(NodeId target, std::string_view key, std::uint64_t bytes);
    // A hint found in the store at start, numbered `seq`: counted, and numbers go on above it.
    void found(NodeId target, std::uint64_t seq, std::string_view key, std::uint64_t bytes);
    // A hint to `target` was deleted from the store. True when no other hint names its key.
    bool forget(NodeId target, std::uint64_t bytes, std::string_view key);
    // Forgets every count and batch (the store is about to be read again).
    void clear();

    // True when a delivery round is due at `now`; the next is then `interval` later.
    bool round_due(Instant now, Duration interval);
    // The next round runs as soon as asked (a target has more to send).
    void hurry(Instant now) { next_round_ = now; }
    std::map<NodeId, Target>& targets() { return targets_; }

    // `batch` goes to `t` now, answered by `deadline`; returns the batch's number.
    std::uint64_t send(Target& t, std::vector<Hint> batch, Instant deadline);
    // The batch in flight to `t` went unanswered: it is dropped (its hints wait on).
    static void expire(Target& t);
    // `from` answered batch `seq`: its target, out of flight, the batch's hints still in
    // t.batch for the caller; nullptr when that is not the batch in flight.
    Target* answered(NodeId from, std::uint64_t seq);

private:
    std::uint64_t max_hints_;
    std::uint64_t max_bytes_;
    std::uint64_t next_seq_;    // of hints
    std::uint64_t next_batch_;  // of batches
    std::uint64_t pending_ = 0;
    std::uint64_t bytes_ = 0;
    Instant next_round_;
    std::map<NodeId, Target> targets_;
    std::unordered_map<std::string, std::uint32_t> named_;  // user key -> hints naming it
};

}  // namespace shoal::replica
