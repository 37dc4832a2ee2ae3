// Tombstone GC, the Node's side: a key whose siblings are all dead is removed once
// the reaper (reaper.h) finds it ripe: its grace period passed, and every other
// primary has completed an exchange with this node that began after the key's state
// here last changed. The removed context is remembered, so that a stale copy arriving
// late cannot bring the key back (merge_in filters it).
#include <algorithm>

#include "replica/node.h"

namespace shoal::replica {

void Node::note_state(std::string_view key, PartitionId p, const SiblingSet& state) {
    reaper_.note(key, p, state, step_);
}

void Node::collect_gc(Now now) {
    const auto ripe = reaper_.ripe(now, [&](const Reaper::Candidate& c) {
        if (!ring_->is_primary(c.partition, config_.id, config_.n)) return false;
        // Every other primary must have completed an exchange with us that began
        // after our state of the key last changed.
        const auto order = ring_->preference_order(c.partition);
        for (std::size_t i = 0; i < std::min<std::size_t>(config_.n, order.size()); ++i) {
            if (order[i] == config_.id) continue;
            if (!exchanges_.synced_after(c.partition, order[i], c.stable_step)) return false;
        }
        return true;
    });
    for (const auto& key : ripe) {
        SiblingSet state;
        if (load(key, state) || !reads_as_absent(state, now.wall)) continue;
        if (remove(key, entry_of(key, state))) continue;
        ++stats_.tombstones_reaped;
        reaper_.reaped(key, now.mono, std::move(state.context));
    }
}

}  // namespace shoal::replica
