// Tombstone GC: a key whose siblings are all dead (tombstones, expired values) is a
// candidate; it is removed once the grace period has passed and every other primary
// has completed an exchange with this node that began after the key's state here
// last changed. The removed context is remembered for a while, so that a stale copy
// arriving late cannot bring the key back.
#include <algorithm>

#include "replica/node.h"

namespace shoal::replica {

void Node::note_state(std::string_view key, PartitionId p, const SiblingSet& state) {
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
    auto it = gc_.find(key);
    if (!mortal) {
        if (it != gc_.end()) gc_.erase(it);
    } else if (it != gc_.end()) {
        it->second = GcCandidate{p, dead_at, ++step_};
    } else if (gc_.size() < config_.repair.max_gc_candidates) {
        gc_.emplace(std::string(key), GcCandidate{p, dead_at, ++step_});
    }
    stats_.gc_candidates = gc_.size();
}

const VersionVector* Node::recently_reaped(std::string_view key) const {
    auto it = reaped_.find(key);
    return it == reaped_.end() ? nullptr : &it->second.context;
}

void Node::collect_gc(Now now) {
    const auto& rc = config_.repair;
    if (now.mono < next_gc_) return;
    next_gc_ = now.mono + rc.gc_interval;
    while (!reaped_order_.empty() && (reaped_order_.size() > rc.max_recently_reaped ||
                                      reaped_order_.front().second + rc.reaped_memory < now.mono)) {
        auto it = reaped_.find(reaped_order_.front().first);
        if (it != reaped_.end() && it->second.at == reaped_order_.front().second) reaped_.erase(it);
        reaped_order_.pop_front();
    }
    if (gc_.empty()) return;
    std::vector<std::string> ripe;
    auto it = gc_.lower_bound(gc_cursor_);
    for (std::size_t seen = 0; seen < std::min(rc.gc_batch, gc_.size()); ++seen) {
        if (it == gc_.end()) it = gc_.begin();
        const GcCandidate& c = it->second;
        bool ok = now.wall >= c.dead_at + rc.tombstone_grace && ring_->is_primary(c.partition, config_.id, config_.n);
        if (ok) {
            // Every other primary must have completed an exchange with us that began
            // after our state of the key last changed.
            const auto order = ring_->preference_order(c.partition);
            for (std::size_t i = 0; ok && i < std::min<std::size_t>(config_.n, order.size()); ++i) {
                if (order[i] == config_.id) continue;
                auto s = synced_.find({c.partition, order[i]});
                ok = s != synced_.end() && s->second > c.stable_seq;
            }
        }
        if (ok) ripe.push_back(it->first);
        ++it;
    }
    gc_cursor_ = it == gc_.end() ? std::string() : it->first;
    for (const auto& key : ripe) {
        SiblingSet state;
        if (load(key, state) || !reads_as_absent(state, now.wall)) continue;
        if (remove(key, entry_of(key, state))) continue;
        ++stats_.tombstones_reaped;
        reaped_.insert_or_assign(key, Reaped{now.mono, state.context});
        reaped_order_.emplace_back(key, now.mono);
    }
}

}  // namespace shoal::replica
