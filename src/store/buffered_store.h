// BufferedStore: the group-commit layer over a node's Store. Unsynced writes collect
// in memory (an overlay that reads see, plus one pending batch); commit() turns them
// into ONE write to the inner store. The node shell calls commit() once per loop turn
// before it sends that turn's acknowledgements. Single-threaded.
//
// Failure: if an inner write fails, the writes it carried are dropped (reads then see
// the inner store) and the error is returned -- by commit(), or, for a flush forced by
// scan(), by scan() and again by the next commit(), so no ack goes out for them.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "store/store.h"

namespace shoal::store {

class BufferedStore final : public Store {
public:
    // `inner` must outlive this. With SyncMode::always every write() commits synced at
    // once; otherwise unsynced writes wait for commit().
    BufferedStore(Store& inner, SyncMode mode);
    BufferedStore(const BufferedStore&) = delete;
    BufferedStore& operator=(const BufferedStore&) = delete;

    // Sees pending writes first, then the inner store.
    std::error_code get(std::string_view key, std::optional<std::string>& out) override;
    // sync=false (and mode != always): buffered, never fails. sync=true or mode always:
    // pending writes and this batch go to the inner store as one synced write.
    std::error_code write(const WriteBatch& batch, bool sync) override;
    // Commits pending writes synced, or syncs the inner store when nothing is pending.
    std::error_code sync() override;
    // Flushes pending writes to the inner store (unsynced, one write) and scans it.
    std::error_code scan(std::string_view begin, std::string_view end, const ScanVisitor& visit) override;

    // Writes every pending op as one inner write, synced unless mode is none, and
    // clears the overlay. Nothing pending: does nothing, except that a syncing mode
    // syncs inner writes left unsynced by an earlier flush or commit(none).
    std::error_code commit(SyncMode mode);

    // Ops buffered since the last commit or flush.
    std::size_t pending_ops() const { return pending_.ops().size(); }

private:
    void stage(const WriteBatch& batch);
    std::error_code flush();
    void discard_pending();

    Store& inner_;
    SyncMode mode_;
    std::map<std::string, std::optional<std::string>, std::less<>> overlay_;  // nullopt: deleted
    WriteBatch pending_;
    bool inner_unsynced_ = false;  // the inner store holds writes of ours not yet synced
    std::error_code lost_;         // a flush failed: writes were dropped since the last commit
};

}  // namespace shoal::store
