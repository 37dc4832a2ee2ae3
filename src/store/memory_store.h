// MemStore: the simulator's Store, an ordered map in memory that models durability.
// Writes since the last sync are "unsynced"; crash() drops exactly those, as a power
// loss would. Faults (failed writes, a lost disk) are injected on purpose by the
// simulator. Single-threaded; not safe for concurrent use.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <set>
#include <optional>
#include <string>

#include "store/store.h"

namespace shoal::store {

class MemStore final : public Store {
public:
    // Never fails except by injection (fail_next_writes).
    std::error_code get(std::string_view key, std::optional<std::string>& out) override;
    // Applies at once; with sync, everything written so far becomes durable.
    std::error_code write(const WriteBatch& batch, bool sync) override;
    // Makes every write so far durable. Costs O(unsynced keys) to forget the undo log.
    std::error_code sync() override;
    // The visitor must not write to this store.
    std::error_code scan(std::string_view begin, std::string_view end, const ScanVisitor& visit) override;

    // What `key` would read after crash() now: its durable value.
    std::optional<std::string> durable(std::string_view key) const;
    // Power loss: every write since the last sync is undone; synced puts and deletes
    // stay. Costs O(unsynced keys).
    void crash();
    // The next `n` calls to write() fail with errc::store_error and apply nothing.
    void fail_next_writes(int n);
    // The disk is replaced: everything, durable or not, is gone.
    void wipe();
    // Bit rot: flips one byte in the middle of the stored value of `key`, durably
    // (no undo). Returns false when the key is absent or its value empty.
    bool corrupt(std::string_view key);
    // A damaged block under `key`, as LevelDB reports one: reads of it fail with
    // errc::corrupt until the key is written again.
    void corrupt_reads_of(std::string_view key) { unreadable_.emplace(key); }
    // Number of keys currently held (synced or not).
    std::size_t size() const { return data_.size(); }

private:
    void remember_prior(const std::string& key);

    using Map = std::map<std::string, std::string, std::less<>>;
    Map data_;  // the current state, as reads see it
    // For each key written since the last sync, its value at that sync (nullopt:
    // absent). Undoing these restores the durable state.
    std::map<std::string, std::optional<std::string>, std::less<>> undo_;
    int failing_writes_ = 0;
    std::set<std::string, std::less<>> unreadable_;  // corrupt_reads_of
};

}  // namespace shoal::store
