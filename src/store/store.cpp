#include "store/store.h"

#include <utility>

namespace shoal::store {

std::optional<SyncMode> parse_sync_mode(std::string_view text) {
    if (text == "none") return SyncMode::none;
    if (text == "batch") return SyncMode::batch;
    if (text == "always") return SyncMode::always;
    return std::nullopt;
}

std::string_view sync_mode_name(SyncMode mode) {
    switch (mode) {
        case SyncMode::none: return "none";
        case SyncMode::batch: return "batch";
        case SyncMode::always: return "always";
    }
    return "unknown";
}

void WriteBatch::put(std::string_view key, std::string_view value) {
    ops_.push_back(Op{false, std::string(key), std::string(value)});
    size_bytes_ += key.size() + value.size();
}

void WriteBatch::del(std::string_view key) {
    ops_.push_back(Op{true, std::string(key), {}});
    size_bytes_ += key.size();
}

void WriteBatch::append(WriteBatch&& later) {
    if (ops_.empty()) {
        *this = std::move(later);
    } else {
        ops_.reserve(ops_.size() + later.ops_.size());
        for (Op& op : later.ops_) ops_.push_back(std::move(op));
        size_bytes_ += later.size_bytes_;
    }
    later.clear();
}

void WriteBatch::clear() {
    ops_.clear();
    size_bytes_ = 0;
}

}  // namespace shoal::store
