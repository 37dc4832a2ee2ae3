#include "replica/hints.h"

#include <algorithm>

#include "core/assert.h"
#include "store/keys.h"

namespace shoal::replica {

HintQueue::HintQueue(std::uint64_t max_hints, std::uint64_t max_bytes, std::uint64_t first)
    : max_hints_(max_hints), max_bytes_(max_bytes), next_seq_(first), next_batch_(first + 1) {}

std::string HintQueue::next_key(NodeId target) { return store::hint_key(target, next_seq_++); }

void HintQueue::added(NodeId target, std::string_view key, std::uint64_t bytes) {
    ++pending_;
    bytes_ += bytes;
    ++targets_[target].pending;
    ++named_[std::string(key)];
}

void HintQueue::found(NodeId target, std::uint64_t seq, std::string_view key, std::uint64_t bytes) {
    added(target, key, bytes);
    next_seq_ = std::max(next_seq_, seq + 1);
}

bool HintQueue::forget(NodeId target, std::uint64_t bytes, std::string_view key) {
    Target& t = targets_[target];
    SHOAL_ASSERT_MSG(t.pending > 0 && pending_ > 0 && bytes_ >= bytes, "a hint forgotten that was never counted");
    --t.pending;
    --pending_;
    bytes_ -= bytes;
    auto h = named_.find(std::string(key));
    SHOAL_ASSERT_MSG(h != named_.end() && h->second > 0, "a hint forgotten for a key no hint names");
    if (--h->second > 0) return false;
    named_.erase(h);
    return true;
}

void HintQueue::clear() {
    targets_.clear();
    named_.clear();
    pending_ = 0;
    bytes_ = 0;
}

bool HintQueue::round_due(Instant now, Duration interval) {
    if (now < next_round_) return false;
    next_round_ = now + interval;
    return true;
}

std::uint64_t HintQueue::send(Target& t, std::vector<Hint> batch, Instant deadline) {
    SHOAL_ASSERT(t.inflight == 0);
    SHOAL_ASSERT(batch.size() <= t.pending);
    t.batch = std::move(batch);
    t.inflight = next_batch_++;
    t.deadline = deadline;
    return t.inflight;
}

void HintQueue::expire(Target& t) {
    t.inflight = 0;
    t.batch.clear();
}

HintQueue::Target* HintQueue::answered(NodeId from, std::uint64_t seq) {
    auto it = targets_.find(from);
    if (it == targets_.end() || seq == 0 || it->second.inflight != seq) return nullptr;
    it->second.inflight = 0;
    return &it->second;
}

}  // namespace shoal::replica
