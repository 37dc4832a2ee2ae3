// The reaper: tombstone GC's bookkeeping, as a machine of its own. A key whose
// siblings are all dead (tombstones, expired values) is a candidate; it is ripe once
// the grace period has passed since its last sibling died and the caller's check
// says every other primary has caught up with the state it had (a step of the Node's
// local counter, which clock jumps do not move). A reaped key's context is remembered
// for a while (bounded in count and time), so that a stale copy arriving late cannot
// bring the key back. No I/O: the Node removes ripe keys from the store and says so.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/types.h"
#include "replica/version.h"

namespace shoal::replica {

// Its bounds, all from RepairConfig (node.h), where their defaults live.
struct ReaperBounds {
    Duration interval;               // between rounds (gc_interval)
    Duration grace;                  // after a key's last sibling died (tombstone_grace)
    std::size_t batch = 0;           // candidates looked at per round (gc_batch)
    std::size_t max_candidates = 0;  // more wait for the next start's scan (max_gc_candidates)
    Duration memory;                 // how long a reaped context is kept (reaped_memory)
    std::size_t max_remembered = 0;  // and how many at most (max_recently_reaped)
};

class Reaper {
public:
    struct Candidate {
        PartitionId partition;
        Time dead_at;                  // when its last sibling died (tombstone written / expiry)
        std::uint64_t stable_step = 0;  // our state of the key has not changed since this step
    };

    explicit Reaper(ReaperBounds bounds) : bounds_(bounds) {}

    // A key's state here is now `state` (empty: gone). A mortal one becomes (or stays)
    // a candidate, stable from the next value of `step`, which it takes; any other stops
    // being one.
    void note(std::string_view key, PartitionId p, const SiblingSet& state, std::uint64_t& step);
    std::size_t candidates() const { return candidates_.size(); }
    // Forgets every candidate (the store is about to be read again). What was reaped
    // stays remembered.
    void clear_candidates();

    // A round, when one is due at `now` (else nothing): forgets reaped contexts past
    // their memory, then looks at the next `batch` candidates and returns those whose
    // grace has passed at wall time `now.wall` and for which `caught_up(candidate)`.
    template <typename CaughtUp>
    std::vector<std::string> ripe(Now now, CaughtUp&& caught_up);
    // `key` was removed from the store at `at`; what its tombstones had seen was `context`.
    void reaped(const std::string& key, Instant at, VersionVector context);
    // The context of `key` if it was reaped recently, else nullptr.
    const VersionVector* recently_reaped(std::string_view key) const;

private:
    bool due(Instant now);
    void forget_old(Instant now);

    struct Reaped {
        Instant at;
        VersionVector context;
    };
    ReaperBounds bounds_;
    std::map<std::string, Candidate, std::less<>> candidates_;
    std::string cursor_;  // the next round starts at this key
    Instant next_round_;
    std::map<std::string, Reaped, std::less<>> reaped_;
    std::deque<std::pair<std::string, Instant>> reaped_order_;
};

template <typename CaughtUp>
std::vector<std::string> Reaper::ripe(Now now, CaughtUp&& caught_up) {
    std::vector<std::string> out;
    if (!due(now.mono)) return out;
    forget_old(now.mono);
    if (candidates_.empty()) return out;
    auto it = candidates_.lower_bound(cursor_);
    for (std::size_t seen = 0; seen < std::min(bounds_.batch, candidates_.size()); ++seen) {
        if (it == candidates_.end()) it = candidates_.begin();
        if (now.wall >= it->second.dead_at + bounds_.grace && caught_up(it->second)) out.push_back(it->first);
        ++it;
    }
    cursor_ = it == candidates_.end() ? std::string() : it->first;
    return out;
}

}  // namespace shoal::replica
