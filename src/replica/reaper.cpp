#include "replica/reaper.h"

#include <algorithm>

namespace shoal::replica {

void Reaper::note(std::string_view key, PartitionId p, const SiblingSet& state, std::uint64_t& step) {
    bool mortal = !state.siblings.empty();
    Time dead_at;
    for (const auto& s : state.siblings) {
        if (s.tombstone) {
            dead_at = std::max(dead_at, s.written);
        } else if (s.expires.us != 0) {
            dead_at = std::max(dead_at, s.expires);
        } else {
            mortal = false;
            break;
        }
    }
    auto it = candidates_.find(key);
    if (!mortal) {
        if (it != candidates_.end()) candidates_.erase(it);
    } else if (it != candidates_.end()) {
        it->second = Candidate{p, dead_at, ++step};
    } else if (candidates_.size() < bounds_.max_candidates) {
        candidates_.emplace(std::string(key), Candidate{p, dead_at, ++step});
    }
}

void Reaper::clear_candidates() {
    candidates_.clear();
    cursor_.clear();
}

bool Reaper::due(Instant now) {
    if (now < next_round_) return false;
    next_round_ = now + bounds_.interval;
    return true;
}

void Reaper::forget_old(Instant now) {
    while (!reaped_order_.empty() && (reaped_order_.size() > bounds_.max_remembered ||
                                      reaped_order_.front().second + bounds_.memory < now)) {
        auto it = reaped_.find(reaped_order_.front().first);
        if (it != reaped_.end() && it->second.at == reaped_order_.front().second) reaped_.erase(it);
        reaped_order_.pop_front();
    }
}

void Reaper::reaped(const std::string& key, Instant at, VersionVector context) {
    reaped_.insert_or_assign(key, Reaped{at, std::move(context)});
    reaped_order_.emplace_back(key, at);
}

const VersionVector* Reaper::recently_reaped(std::string_view key) const {
    auto it = reaped_.find(key);
    return it == reaped_.end() ? nullptr : &it->second.context;
}

}  // namespace shoal::replica
