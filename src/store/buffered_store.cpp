#include "store/buffered_store.h"

#include <utility>

#include "core/assert.h"

namespace shoal::store {

BufferedStore::BufferedStore(Store& inner, SyncMode mode) : inner_(inner), mode_(mode) {}

std::error_code BufferedStore::get(std::string_view key, std::optional<std::string>& out) {
    auto it = overlay_.find(key);
    if (it == overlay_.end()) return inner_.get(key, out);
    out = it->second;
    return {};
}

void BufferedStore::stage(const WriteBatch& batch) {
    for (const WriteBatch::Op& op : batch.ops()) {
        if (op.is_delete) {
            overlay_.insert_or_assign(op.key, std::nullopt);
            pending_.del(op.key);
        } else {
            overlay_.insert_or_assign(op.key, op.value);
            pending_.put(op.key, op.value);
        }
    }
    SHOAL_ASSERT(overlay_.size() <= pending_ops());  // every overlay key has a pending op
}

std::error_code BufferedStore::write(const WriteBatch& batch, bool sync) {
    stage(batch);
    if (!sync && mode_ != SyncMode::always) return {};
    std::error_code ec = commit(SyncMode::always);
    // The failed batch held earlier writes of this turn too: the turn's own commit
    // must fail as well, so that nothing acknowledges them.
    if (ec) lost_ = ec;
    return ec;
}

std::error_code BufferedStore::sync() {
    if (!pending_.empty()) return commit(SyncMode::always);
    if (auto lost = std::exchange(lost_, {})) return lost;
    std::error_code ec = inner_.sync();
    if (!ec) inner_unsynced_ = false;
    return ec;
}

std::error_code BufferedStore::scan(std::string_view begin, std::string_view end, const ScanVisitor& visit) {
    if (std::error_code ec = flush()) return ec;
    return inner_.scan(begin, end, visit);
}

std::error_code BufferedStore::commit(SyncMode mode) {
    const bool sync = mode != SyncMode::none;
    std::error_code lost = std::exchange(lost_, {});
    if (pending_.empty()) {
        if (lost) return lost;
        if (!sync || !inner_unsynced_) return {};
        std::error_code ec = inner_.sync();
        if (!ec) inner_unsynced_ = false;
        return ec;
    }
    std::error_code ec = inner_.write(pending_, sync);
    discard_pending();
    if (ec) return ec;
    inner_unsynced_ = !sync;
    return lost;
}

std::error_code BufferedStore::flush() {
    if (pending_.empty()) return {};
    std::error_code ec = inner_.write(pending_, false);
    discard_pending();
    if (ec) {
        lost_ = ec;
        return ec;
    }
    inner_unsynced_ = true;
    return {};
}

void BufferedStore::discard_pending() {
    pending_.clear();
    overlay_.clear();
}

}  // namespace shoal::store
