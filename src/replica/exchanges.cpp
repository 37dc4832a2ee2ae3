#include "replica/exchanges.h"

#include "core/assert.h"

namespace shoal::replica {

std::vector<NodeId> Exchanges::expire(Instant now) {
    std::vector<NodeId> out;
    for (auto it = running_.begin(); it != running_.end();) {
        if (now < it->second.deadline) {
            ++it;
            continue;
        }
        ++aborted_by_peer_[it->first];
        out.push_back(it->first);
        it = running_.erase(it);
    }
    return out;
}

bool Exchanges::may_start(Instant now, Duration interval, std::size_t max_parallel) {
    if (now < next_start_ || running_.size() >= max_parallel) return false;
    next_start_ = now + interval;
    return true;
}

Exchanges::Exchange& Exchanges::begin(Pair pair, std::uint64_t start_step, Instant deadline) {
    SHOAL_ASSERT(running_.count(pair.peer) == 0);  // one exchange per peer
    Exchange& ex = running_[pair.peer];
    ex.xid = next_xid_++;
    ex.partition = pair.partition;
    ex.peer = pair.peer;
    ex.start_step = start_step;
    ex.deadline = deadline;
    return ex;
}

Exchanges::Exchange* Exchanges::answered(NodeId peer, std::uint64_t xid, Instant deadline) {
    auto it = running_.find(peer);
    if (it == running_.end() || it->second.xid != xid) return nullptr;
    it->second.deadline = deadline;
    return &it->second;
}

void Exchanges::finish(Exchange& ex, bool complete) {
    if (complete && !ex.truncated) synced_[{ex.partition, ex.peer}] = ex.start_step;
    if (!complete) ++aborted_by_peer_[ex.peer];
    const std::size_t erased = running_.erase(ex.peer);
    SHOAL_ASSERT(erased == 1);
}

void Exchanges::clear_running() {
    running_.clear();
    deferred_.clear();
}

bool Exchanges::synced_after(PartitionId p, NodeId peer, std::uint64_t step) const {
    auto s = synced_.find({p, peer});
    return s != synced_.end() && s->second > step;
}

}  // namespace shoal::replica
