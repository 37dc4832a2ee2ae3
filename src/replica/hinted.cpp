// Hinted handoff, the Node's side: a fallback writes a hint for each write it takes
// for a primary believed down, delivers the hinted keys' current states in batches
// once the primary answers again, and drops its own copy of a key it does not keep
// once no hint names it. The counts and batches are the HintQueue's (hints.h).
#include <algorithm>
#include <limits>
#include <unordered_set>

#include "core/assert.h"
#include "core/hash.h"
#include "replica/node.h"
#include "store/keys.h"

namespace shoal::replica {

namespace {
bool in_ring(const ring::Ring& ring, NodeId id) {
    const auto& m = ring.members();
    return std::any_of(m.begin(), m.end(), [&](const ring::Member& x) { return x.id == id; });
}
}  // namespace

// A hint names another node: one naming this node (only a faulty or forged peer sends
// it) is no hint, as the copy written here is this node's own.
bool Node::is_hint(NodeId hint_for) const { return hint_for.valid() && hint_for != config_.id; }

bool Node::hint_refused(NodeId hint_for, std::size_t bytes) {
    if (!is_hint(hint_for) || hints_.room(bytes)) return false;
    ++stats_.hints_dropped;
    return true;
}

void Node::after_write(NodeId hint_for, std::string_view key, std::size_t bytes) {
    if (is_hint(hint_for)) store_hint(hint_for, key, bytes);
    else hand_over(key, bytes);
}

std::error_code Node::read_hints(NodeId target, std::size_t max_hints, std::size_t max_bytes,
                                 std::vector<HintQueue::Hint>& out) {
    std::size_t bytes = 0;
    const auto range = store::hint_range(target);
    return store_.scan(range.begin, range.end, [&](std::string_view stored, std::string_view value) {
        HintQueue::Hint h{std::string(stored), 0, {}};
        std::string_view key;
        if (!store::parse_hint_value(value, h.bytes, key)) return true;
        h.key = key;
        bytes += h.bytes;
        out.push_back(std::move(h));
        return out.size() < max_hints && bytes < max_bytes;
    });
}

void Node::store_hint(NodeId target, std::string_view key, std::size_t bytes) {
    store::WriteBatch batch;
    batch.put(hints_.next_key(target), store::hint_value(bytes, key));
    if (store_.write(batch, false)) {
        ++stats_.store_errors;
        return;
    }
    ++stats_.hints_stored;
    hints_.added(target, key, bytes);
}

void Node::deliver_hints(Instant now) {
    const auto& rc = config_.repair;
    if (!rc.hinted_handoff || !hints_.round_due(now, rc.hint_interval)) return;
    for (auto& [target, t] : hints_.targets()) {
        if (target == config_.id) continue;  // stored by an older version for a forged hint: never sent
        if (t.inflight != 0 && now >= t.deadline) {
            missed(now, target);
            HintQueue::expire(t);
        }
        // Hints for a member that left the ring go to the key's primaries instead.
        if (t.inflight == 0 && t.pending != 0 && !alone() && !in_ring(*ring_, target)) {
            retarget_hints(target);
            continue;
        }
        if (t.inflight != 0 || t.pending == 0 || !believes_up(target)) continue;
        std::vector<HintQueue::Hint> found;
        // A partial batch would skip hints: none this round.
        if (!scanned(read_hints(target, rc.hint_batch_keys, rc.hint_batch_bytes, found)) || found.empty()) continue;
        // Each distinct key once, with its current state, until the batch is full;
        // the hints of keys left out stay for the next batch.
        HintBatch batch;
        std::size_t batch_bytes = 0, taken = 0;
        std::unordered_set<std::string_view> seen;
        for (; taken < found.size(); ++taken) {
            const std::string& key = found[taken].key;
            if (seen.contains(key)) continue;
            KeyState item;
            if (load(key, item.state) || item.state.siblings.empty()) {
                seen.insert(key);
                continue;  // nothing (readable) to hand over: the hint just goes
            }
            const std::size_t size = hint_bytes(key, item.state);
            if (!batch.items.empty() && batch_bytes + size > rc.hint_batch_bytes) break;
            seen.insert(key);
            batch_bytes += size;
            item.key = key;
            batch.items.push_back(std::move(item));
        }
        seen.clear();  // (its views point into `found`)
        found.resize(taken);
        batch.seq = hints_.send(t, std::move(found), now + config_.request_timeout);
        send(target, std::move(batch));
    }
}

void Node::on_hint_batch(NodeId from, HintBatch& batch) {
    std::uint64_t merged = 0;
    send(from, HintAck{batch.seq, merge_items(batch.items, merged)});
}

void Node::on_hint_ack(Now now, NodeId from, const HintAck& ack) {
    HintQueue::Target* t = hints_.answered(from, ack.seq);
    if (t == nullptr || ack.code != errc::ok) return;  // a refused batch is retried next round
    store::WriteBatch batch;
    for (const auto& h : t->batch) batch.del(h.stored);
    if (store_.write(batch, false)) {
        ++stats_.store_errors;
        return;
    }
    if (events_) events_->hints_delivered(from, t->batch.size());
    for (const auto& h : t->batch) {
        ++stats_.hints_delivered;
        if (!hints_.forget(from, h.bytes, h.key)) continue;  // other hints still name it
        // The primary has it now. A fallback keeps no copy of a key it is not a
        // primary of: a stale copy could outlive the key's tombstone. If it issued
        // dots for the key, it first retires its actor: a leader without the history
        // of its own dots would, on its next write, claim to have seen them.
        if (keeps(ring_->partition_of(hash_key(h.key)))) continue;
        SiblingSet local;
        const std::error_code ec = load(h.key, local);
        if (ec == errc::corrupt) {
            (void)remove(h.key, MerkleTree::corrupt_entry_hash(h.key));  // damaged: nothing to keep (a failure is counted)
            continue;
        }
        if (ec) continue;
        if (local.context.get(actor_) > 0 && !retire_actor()) continue;
        (void)remove(h.key, entry_of(h.key, local));  // a failure is counted; the copy stays until a later pass
    }
    t->batch.clear();
    if (t->pending != 0) hints_.hurry(now.mono);  // more to send: the next batch at the next tick
}

void Node::retarget_hints(NodeId gone) {
    std::vector<HintQueue::Hint> found;
    constexpr std::size_t all = std::numeric_limits<std::size_t>::max();
    // On a failed read the hints stay for the gone node: the next hint round retries.
    if (!scanned(read_hints(gone, all, all, found))) return;
    store::WriteBatch drop;
    for (const auto& h : found) drop.del(h.stored);
    if (store_.write(drop, false)) {
        ++stats_.store_errors;
        return;
    }
    for (const auto& h : found) {
        (void)hints_.forget(gone, h.bytes, h.key);
        const auto order = ring_->preference_order(ring_->partition_of(hash_key(h.key)));
        for (std::size_t i = 0; i < std::min<std::size_t>(config_.n, order.size()); ++i) {
            if (order[i] != config_.id) store_hint(order[i], h.key, h.bytes);
        }
    }
}

}  // namespace shoal::replica
