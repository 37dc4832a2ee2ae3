#include "store/buffered_store.h"

#include <algorithm>
#include <utility>

#include "core/assert.h"

namespace shoal::store {

void StagedBatch::append(StagedBatch&& later) {
    SHOAL_ASSERT(later.seq > seq);
    seq = later.seq;
    sync = sync || later.sync;
    writes.append(std::move(later.writes));
}

BufferedStore::BufferedStore(Store& inner, SyncMode mode, std::size_t cache_bytes)
    : inner_(inner), mode_(mode), cache_limit_(cache_bytes) {
    pending_.seq = next_seq_;
}

std::error_code BufferedStore::get(std::string_view key, std::optional<std::string>& out) {
    if (auto it = overlay_.find(key); it != overlay_.end()) {
        out = it->second.value;
        horizon_ = std::max(horizon_, it->second.seq);
        return {};
    }
    if (auto hit = cache_index_.find(key); hit != cache_index_.end()) {
        ++cache_hits_;
        cache_.splice(cache_.begin(), cache_, hit->second);
        out = hit->second->second;
        return {};
    }
    ++cache_misses_;
    if (std::error_code ec = inner_.get(key, out)) return ec;
    if (out) cache_put(key, *out);
    return {};
}

// ---- the read cache ----------------------------------------------------------------

void BufferedStore::cache_put(std::string_view key, std::string_view value) {
    const std::size_t size = key.size() + value.size();
    cache_erase(key);
    if (size > cache_limit_ / 8) return;  // one value may not sweep the cache
    cache_.emplace_front(std::string(key), std::string(value));
    cache_index_.emplace(cache_.front().first, cache_.begin());
    cache_bytes_ += size;
    while (cache_bytes_ > cache_limit_) {
        auto& [k, v] = cache_.back();
        cache_bytes_ -= k.size() + v.size();
        cache_index_.erase(k);
        cache_.pop_back();
    }
}

void BufferedStore::cache_erase(std::string_view key) {
    auto hit = cache_index_.find(key);
    if (hit == cache_index_.end()) return;
    auto entry = hit->second;
    cache_bytes_ -= entry->first.size() + entry->second.size();
    cache_index_.erase(hit);
    cache_.erase(entry);
}

void BufferedStore::cache_apply(const WriteBatch& batch) {
    for (const WriteBatch::Op& op : batch.ops()) {
        if (op.is_delete) cache_erase(op.key); else cache_put(op.key, op.value);
    }
}

void BufferedStore::forget_cached() {
    cache_index_.clear();
    cache_.clear();
    cache_bytes_ = 0;
}

void BufferedStore::stage(const WriteBatch& batch) {
    if (!batch.empty()) horizon_ = std::max(horizon_, pending_.seq);
    cache_apply(batch);
    for (const WriteBatch::Op& op : batch.ops()) {
        Entry& e = overlay_[op.key];
        e.seq = pending_.seq;
        if (op.is_delete) {
            e.value.reset();
            pending_.writes.del(op.key);
        } else {
            e.value = op.value;
            pending_.writes.put(op.key, op.value);
        }
    }
}

// One synced inner write of everything staged plus `batch`; nothing changes on failure.
std::error_code BufferedStore::write_through(const WriteBatch& batch) {
    WriteBatch all = pending_.writes;  // a copy: kept staged if the write fails
    for (const WriteBatch::Op& op : batch.ops()) {
        if (op.is_delete) all.del(op.key); else all.put(op.key, op.value);
    }
    if (std::error_code ec = inner_.write(all, true)) return ec;
    cache_apply(batch);  // (the staged writes are in it already)
    // The staged writes are in the inner store now: their batch number is used up and
    // done, so that whatever rests on them is released as if it had been committed.
    for (auto it = overlay_.begin(); it != overlay_.end();) {
        it = it->second.seq == pending_.seq ? overlay_.erase(it) : std::next(it);
    }
    done_seq_ = pending_.seq;
    pending_ = StagedBatch{};
    pending_.seq = ++next_seq_;
    SHOAL_ASSERT(done_seq_ == last_seq());
    return {};
}

std::error_code BufferedStore::write(const WriteBatch& batch, bool sync) {
    const bool out = done_seq_ != last_seq();
    if (mode_ == SyncMode::always || (sync && !out)) {
        SHOAL_ASSERT(!out);  // always: nothing is ever staged, so no batch is out
        return write_through(batch);
    }
    stage(batch);
    pending_.sync = pending_.sync || sync;
    return {};
}

std::error_code BufferedStore::sync() {
    SHOAL_ASSERT(done_seq_ == last_seq());
    if (pending_.writes.empty()) return inner_.sync();
    return write_through(WriteBatch{});
}

std::error_code BufferedStore::scan(std::string_view begin, std::string_view end, const ScanVisitor& visit) {
    if (!end.empty() && begin >= end) return {};  // an empty range (the overlay walk needs begin < end)
    auto it = overlay_.lower_bound(begin);
    const auto stop = end.empty() ? overlay_.end() : overlay_.lower_bound(end);
    bool go = true;
    // Visits overlay keys below `key` (all that remain when `key` is null).
    auto overlay_until = [&](const std::string_view* key) {
        for (; go && it != stop && (key == nullptr || it->first < *key); ++it) {
            horizon_ = std::max(horizon_, it->second.seq);
            if (it->second.value) go = visit(it->first, *it->second.value);
        }
    };
    std::error_code ec = inner_.scan(begin, end, [&](std::string_view key, std::string_view value) {
        overlay_until(&key);
        if (!go) return false;
        if (it != stop && it->first == key) {
            const Entry& e = (it++)->second;  // the overlay's write supersedes the stored value
            horizon_ = std::max(horizon_, e.seq);
            if (e.value) go = visit(key, *e.value);
            return go;
        }
        go = visit(key, value);
        return go;
    });
    if (ec) return ec;
    overlay_until(nullptr);
    return {};
}

bool BufferedStore::take_batch(StagedBatch& out) {
    if (pending_.writes.empty() && !pending_.sync) return false;
    if (mode_ != SyncMode::none) pending_.sync = true;
    out = std::move(pending_);
    pending_ = StagedBatch{};
    pending_.seq = ++next_seq_;
    return true;
}

void BufferedStore::batch_done(std::uint64_t seq, std::error_code ec) {
    SHOAL_ASSERT(seq > done_seq_ && seq <= last_seq());
    if (ec) {
        // Lost: and with it everything staged since, which may have read it.
        overlay_.clear();
        forget_cached();
        pending_.writes.clear();
        pending_.sync = false;
        done_seq_ = last_seq();
        return;
    }
    done_seq_ = seq;
    for (auto it = overlay_.begin(); it != overlay_.end();) {
        it = it->second.seq <= seq ? overlay_.erase(it) : std::next(it);
    }
}

std::error_code BufferedStore::commit_now() {
    SHOAL_ASSERT(done_seq_ == last_seq());
    StagedBatch batch;
    if (!take_batch(batch)) return {};
    std::error_code ec = inner_.write(batch.writes, batch.sync);
    batch_done(batch.seq, ec);
    return ec;
}

}  // namespace shoal::store
