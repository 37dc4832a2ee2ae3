#include "store/memory_store.h"

#include "core/assert.h"
#include "core/errc.h"

namespace shoal::store {

std::error_code MemStore::get(std::string_view key, std::optional<std::string>& out) {
    if (unreadable_.count(key)) return errc::corrupt;
    auto it = data_.find(key);
    if (it == data_.end()) {
        out.reset();
    } else {
        out = it->second;
    }
    return {};
}

std::optional<std::string> MemStore::durable(std::string_view key) const {
    if (auto u = undo_.find(key); u != undo_.end()) return u->second;
    auto it = data_.find(key);
    if (it == data_.end()) return std::nullopt;
    return it->second;
}

void MemStore::remember_prior(const std::string& key) {
    if (undo_.contains(key)) return;  // the first prior since the sync is the durable one
    auto it = data_.find(key);
    if (it == data_.end()) {
        undo_.emplace(key, std::nullopt);
    } else {
        undo_.emplace(key, it->second);
    }
}

std::error_code MemStore::write(const WriteBatch& batch, bool sync) {
    if (failing_writes_ > 0) {
        --failing_writes_;
        return errc::store_error;
    }
    for (const WriteBatch::Op& op : batch.ops()) {
        unreadable_.erase(op.key);
        remember_prior(op.key);
        if (op.is_delete) {
            data_.erase(op.key);
        } else {
            data_.insert_or_assign(op.key, op.value);
        }
    }
    if (sync) undo_.clear();
    return {};
}

std::error_code MemStore::sync() {
    undo_.clear();
    return {};
}

std::error_code MemStore::scan(std::string_view begin, std::string_view end, const ScanVisitor& visit) {
    for (auto it = data_.lower_bound(begin); it != data_.end(); ++it) {
        if (!end.empty() && it->first >= end) break;
        if (!visit(it->first, it->second)) break;
    }
    return {};
}

void MemStore::crash() {
    for (auto& [key, prior] : undo_) {
        if (prior) {
            data_.insert_or_assign(key, std::move(*prior));
        } else {
            data_.erase(key);
        }
    }
    undo_.clear();
}

void MemStore::fail_next_writes(int n) {
    SHOAL_ASSERT(n >= 0);
    failing_writes_ = n;
}

bool MemStore::corrupt(std::string_view key) {
    auto it = data_.find(key);
    if (it == data_.end() || it->second.empty()) return false;
    it->second[it->second.size() / 2] ^= 0x5a;
    return true;
}

void MemStore::wipe() {
    data_.clear();
    undo_.clear();
}

}  // namespace shoal::store
