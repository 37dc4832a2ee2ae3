// BufferedStore: the staging half of group commit, over a node's Store. The core's
// writes collect in memory (an overlay that reads and scans see); take_batch() hands
// out everything staged since the last take as ONE batch for the turn driver to
// persist, and the overlay keeps serving those writes until batch_done() says the
// inner store holds them. Writes go on being staged while a batch is out, so the loop
// never waits for the disk. Single-threaded: every call comes from the node's loop;
// only the batch itself travels to a commit thread, which writes the inner store.
//
// Failure: when a batch fails, its writes and every write staged after it (which may
// have read them) are discarded; reads then see the inner store again.
//
// The read cache: a bounded LRU of values read from or written to the inner store, in
// front of it, so hot keys cost a hash lookup instead of a tree search on disk. It is
// exact by construction: every write passes through here and updates it, a lost batch
// clears it, and forget_cached() drops it when the disk was changed behind our back
// (damage found by a scrub).
//
// The horizon: every read or scan that returns a write not yet in the inner store,
// and every write, raises the horizon to the number of the batch carrying it. What a
// turn sends or answers may rest on everything up to its horizon, and on nothing
// after: the driver releases it once done_seq() reaches it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

#include "store/store.h"

namespace shoal::store {

// One batch of staged writes on its way to the inner store.
struct StagedBatch {
    std::uint64_t seq = 0;  // batches are numbered from 1 in take order
    WriteBatch writes;
    bool sync = false;      // write it synced (the mode asks, or a write was synced)

    // Adds a later batch's writes after this one's: one inner write carries both.
    void append(StagedBatch&& later);
};

class BufferedStore final : public Store {
public:
    // `inner` must outlive this. Its writes happen on whatever thread persists the
    // batches; its reads and scans on the caller's.
    BufferedStore(Store& inner, SyncMode mode, std::size_t cache_bytes = k_default_cache_bytes);
    static constexpr std::size_t k_default_cache_bytes = 32u << 20;
    BufferedStore(const BufferedStore&) = delete;
    BufferedStore& operator=(const BufferedStore&) = delete;

    // Sees staged and outstanding writes first, then the inner store.
    std::error_code get(std::string_view key, std::optional<std::string>& out) override;
    // Stages the batch; never fails, except as follows. With SyncMode::always, or with
    // sync=true while no batch is out, everything staged and this batch go to the inner
    // store at once as one synced write (a failure leaves what was staged before
    // staged, and drops this batch). With sync=true while a batch is out, the batch is
    // staged and the next batch taken is synced: it is durable before anything the
    // driver releases after it, which is what the core relies on.
    std::error_code write(const WriteBatch& batch, bool sync) override;
    // Writes everything staged to the inner store, synced. No batch may be out.
    std::error_code sync() override;
    // The overlay merged with a scan of the inner store, in key order. A write made by
    // the visitor during the scan may or may not be visited.
    std::error_code scan(std::string_view begin, std::string_view end, const ScanVisitor& visit) override;

    // The group commit, in two halves. take_batch moves every write staged since the
    // last take into `out` (seq = last_seq() + 1) and returns false when there is
    // none. batch_done reports batch `seq` written (`ec` empty) or lost.
    bool take_batch(StagedBatch& out);
    void batch_done(std::uint64_t seq, std::error_code ec);
    // Takes the staged writes and writes them to the inner store here and now (synced
    // as the mode says): for tests and for callers with no batch out.
    std::error_code commit_now();

    // Drops every cached value: reads go to the inner store again.
    void forget_cached();
    std::size_t cached_keys() const { return cache_index_.size(); }
    std::uint64_t cache_hits() const { return cache_hits_; }
    std::uint64_t cache_misses() const { return cache_misses_; }

    SyncMode mode() const { return mode_; }
    // The store batches go to (for the committer that writes them).
    Store& inner() { return inner_; }
    // Writes staged since the last take.
    std::size_t pending_ops() const { return pending_.writes.ops().size(); }
    std::size_t pending_bytes() const { return pending_.writes.size_bytes(); }
    // Keys held in memory (staged or outstanding): what reads see before the inner store.
    std::size_t overlay_keys() const { return overlay_.size(); }
    // The seq of the last batch taken (0: none yet).
    std::uint64_t last_seq() const { return next_seq_ - 1; }
    // Every batch up to this one is in the inner store (or was lost and discarded).
    std::uint64_t done_seq() const { return done_seq_; }
    // The batch holding the newest write staged so far (last_seq() when nothing is
    // staged): what in-memory state kept beside the store (the Merkle trees) rests on.
    std::uint64_t staged_seq() const { return pending_.writes.empty() ? last_seq() : pending_.seq; }
    // The highest batch whose writes were read or written since take_horizon() was
    // last called (0: only the inner store was seen), and its reset.
    std::uint64_t horizon() const { return horizon_; }
    std::uint64_t take_horizon() { return std::exchange(horizon_, 0); }

private:
    struct Entry {
        std::optional<std::string> value;  // nullopt: deleted
        std::uint64_t seq = 0;             // the batch that carries the latest write
    };
    void stage(const WriteBatch& batch);
    std::error_code write_through(const WriteBatch& batch);
    void cache_put(std::string_view key, std::string_view value);
    void cache_erase(std::string_view key);
    void cache_apply(const WriteBatch& batch);

    Store& inner_;
    SyncMode mode_;
    std::map<std::string, Entry, std::less<>> overlay_;
    StagedBatch pending_;  // seq: the number it will be taken with
    std::uint64_t next_seq_ = 1;
    std::uint64_t done_seq_ = 0;  // every batch up to this one reached the inner store
    std::uint64_t horizon_ = 0;
    // The read cache: most recently used first; the index's keys view the list's.
    std::size_t cache_limit_;
    std::size_t cache_bytes_ = 0;
    std::list<std::pair<std::string, std::string>> cache_;
    std::unordered_map<std::string_view, std::list<std::pair<std::string, std::string>>::iterator> cache_index_;
    std::uint64_t cache_hits_ = 0, cache_misses_ = 0;
};

}  // namespace shoal::store
