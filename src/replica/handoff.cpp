// Ownership handoff: the plan (pure, over two rings) and the Node's streams.
#include "replica/handoff.h"

#include <algorithm>

#include "core/assert.h"
#include "core/byte_codec.h"
#include "core/hash.h"
#include "replica/node.h"
#include "store/keys.h"

namespace shoal::replica {

namespace {

constexpr std::size_t k_max_handoff_items = 1 << 16;

bool contains(std::span<const NodeId> ids, NodeId id) { return std::find(ids.begin(), ids.end(), id) != ids.end(); }

// The saved position of a stream: a hash of its partition list (8 bytes, big-endian),
// the index of the partition being sent (4 bytes) and the last acknowledged stored key.
std::string cursor_key(const Move& m) {
    return store::meta_key("handoff." + std::to_string(m.slot.value) + "." + std::to_string(m.to.value));
}

std::uint64_t list_hash(const std::vector<PartitionId>& partitions) {
    std::uint64_t h = partitions.size();
    for (PartitionId p : partitions) h = hash_combine(h, p.value);
    return h;
}

}  // namespace

HandoffPlan plan_handoffs(const ring::Ring& current, const ring::Ring& target, std::span<const Move> moves,
                          std::uint32_t n) {
    SHOAL_ASSERT(current.partition_count() == target.partition_count());
    const std::uint32_t q = current.partition_count();
    HandoffPlan plan;
    plan.moves.assign(moves.begin(), moves.end());
    plan.streams.resize(moves.size());
    if (moves.empty()) return plan;
    plan.forward.resize(q);
    std::vector<int> move_of(q, -1);
    for (std::size_t i = 0; i < moves.size(); ++i) {
        if (moves[i].slot.value < q) move_of[moves[i].slot.value] = static_cast<int>(i);
    }
    for (std::uint32_t p = 0; p < q; ++p) {
        const auto cur_all = current.preference_order(PartitionId{p});
        const auto tgt_all = target.preference_order(PartitionId{p});
        const auto cur = cur_all.first(std::min<std::size_t>(n, cur_all.size()));
        const auto tgt = tgt_all.first(std::min<std::size_t>(n, tgt_all.size()));
        for (NodeId b : tgt) {
            if (contains(cur, b)) continue;
            plan.forward[p].push_back(b);
            int chosen = -1;
            for (std::uint32_t k = 0; k < q; ++k) {
                const std::uint32_t s = (p + k) % q;
                if (target.owner(PartitionId{s}) != b) continue;
                const int m = move_of[s];
                if (m >= 0 && moves[static_cast<std::size_t>(m)].to == b &&
                    contains(cur, moves[static_cast<std::size_t>(m)].from))
                    chosen = m;
                break;
            }
            if (chosen < 0) {
                for (std::size_t i = 0; i < moves.size() && chosen < 0; ++i) {
                    if (moves[i].to == b && contains(cur, moves[i].from)) chosen = static_cast<int>(i);
                }
            }
            if (chosen >= 0) plan.streams[static_cast<std::size_t>(chosen)].push_back(PartitionId{p});
        }
    }
    return plan;
}

// ---- the Node's streams ----------------------------------------------------------------

HandoffStream::Batch HandoffStream::acknowledged() {
    SHOAL_ASSERT(inflight.has_value());
    Batch b = std::move(*inflight);
    inflight.reset();
    index = b.next_index;
    after = b.next_after;
    keys_sent += b.keys;
    bytes_sent += b.bytes;
    finished = b.last;
    return b;
}

void Node::set_handoffs(HandoffPlan plan) {
    SHOAL_ASSERT(plan.streams.size() == plan.moves.size());
    std::vector<Stream> next;
    for (std::size_t i = 0; i < plan.moves.size(); ++i) {
        const Move& m = plan.moves[i];
        if (m.from != config_.id || m.done || m.to == config_.id) continue;
        auto old = std::find_if(streams_.begin(), streams_.end(), [&](const Stream& s) {
            return s.move.slot == m.slot && s.move.to == m.to && !s.finished;
        });
        if (old != streams_.end() && old->partitions == plan.streams[i]) {
            next.push_back(std::move(*old));
            continue;
        }
        Stream s;
        s.move = m;
        s.partitions = plan.streams[i];
        if (old != streams_.end()) {
            // The list changed (another slot switched owner): partitions already sent
            // whole stay sent, since writes to them have been forwarded since.
            for (std::size_t k = 0; k < old->index && k < old->partitions.size(); ++k) s.sent.insert(old->partitions[k]);
            s.sent.insert(old->sent.begin(), old->sent.end());
            // The partition it was in the middle of goes on from the acknowledged key.
            if (old->index < old->partitions.size() && !old->after.empty())
                s.resume = {old->partitions[old->index], old->after};
            s.keys_sent = old->keys_sent;
            s.bytes_sent = old->bytes_sent;
            next.push_back(std::move(s));
            continue;
        }
        // Resume where an earlier life of this node stopped, if it streamed the same
        // partitions (a different list starts over: nothing may be skipped).
        std::optional<std::string> saved;
        if (!store_.get(cursor_key(m), saved) && saved && saved->size() >= 12 &&
            get_be(*saved, 8) == list_hash(s.partitions)) {
            s.index = std::min<std::size_t>(get_be(std::string_view(*saved).substr(8), 4), s.partitions.size());
            s.after = saved->substr(12);
        }
        next.push_back(std::move(s));
    }
    // A stream that left the plan forgets its position: a later move with the same
    // slot and destination starts from the beginning.
    store::WriteBatch forget;
    for (const Stream& s : streams_) {
        const bool kept = std::any_of(next.begin(), next.end(), [&](const Stream& n) { return n.move == s.move; });
        if (!kept && !s.finished) forget.del(cursor_key(s.move));
    }
    if (!forget.empty() && store_.write(forget, false)) ++stats_.store_errors;
    streams_ = std::move(next);
    handoff_ = std::move(plan);
    plan_installed_ = true;
    recheck_kept_ = true;
}

std::vector<Move> Node::take_completed_handoffs() {
    std::vector<Move> out;
    out.swap(completed_);
    return out;
}

std::vector<HandoffProgress> Node::handoff_progress() const {
    std::vector<HandoffProgress> out;
    for (const Stream& s : streams_) {
        out.push_back(HandoffProgress{s.move, static_cast<std::uint32_t>(s.partitions.size()),
                                      static_cast<std::uint32_t>(s.index), s.keys_sent, s.bytes_sent, s.finished});
    }
    return out;
}

void Node::stream_handoffs(Instant now) {
    std::size_t active = 0;
    for (Stream& s : streams_) {
        // A destination believed down waits (and takes no slot from the others).
        if (s.finished || (!s.inflight && !believes_up(s.move.to))) continue;
        if (active++ >= config_.handoff.concurrency) break;
        if (s.inflight && now < s.inflight->deadline) continue;
        if (s.inflight) ++stats_.handoff_retries;
        send_handoff_batch(now, s);
    }
}

// Reads the next batch from the stream's position: keys of one partition in stored
// order, bounded by keys and bytes (one key always goes). Partitions with nothing
// left are passed over in the same call.
void Node::send_handoff_batch(Instant now, Stream& s) {
    const HandoffConfig& hc = config_.handoff;
    HandoffBatch batch;
    batch.slot = s.move.slot;
    batch.seq = next_handoff_seq_++;
    std::size_t index = s.index;
    std::string after = s.after;
    std::size_t bytes = 0;
    while (index < s.partitions.size()) {
        const PartitionId p = s.partitions[index];
        if (s.sent.contains(p)) {
            ++index;
            continue;
        }
        if (after.empty() && s.resume && s.resume->first == p) after = s.resume->second;
        const auto range = store::data_range(p);
        const std::string begin = after.empty() ? range.begin : after + std::string(1, '\0');
        bool full = false;
        SiblingSet state;
        auto ec = store_.scan(begin, range.end, [&](std::string_view stored, std::string_view value) {
            if (batch.items.size() >= hc.batch_keys) {
                full = true;
                return false;
            }
            PartitionId part;
            std::string_view key;
            bool corrupt = false;
            if (!store::parse_data_key(stored, part, key)) {
                after.assign(stored);
                return true;
            }
            (void)stored_entry(key, value, state, corrupt);
            const std::size_t size = key.size() + state_bytes(state);
            // Bounded before adding: a batch over batch_bytes holds one state alone.
            if (!batch.items.empty() && bytes + size > hc.batch_bytes) {
                full = true;
                return false;
            }
            after.assign(stored);
            if (corrupt) return true;  // a damaged copy is not handed on; anti-entropy repairs it
            bytes += size;
            batch.items.push_back(KeyState{std::string(key), std::move(state)});
            state = SiblingSet{};
            return true;
        });
        if (ec) {
            ++stats_.store_errors;
            return;  // tried again at the next tick
        }
        batch.partition = p;
        if (full) break;  // more of this partition in the next batch
        ++index;          // this partition is done
        after.clear();
        if (!batch.items.empty()) break;
    }
    batch.last = index >= s.partitions.size();
    if (s.partitions.empty()) batch.partition = s.move.slot;
    s.inflight = Stream::Batch{batch.seq, now + config_.handoff.timeout, index, after, batch.last, batch.items.size(),
                               bytes};
    send(s.move.to, std::move(batch));
}

void Node::on_handoff_batch(NodeId from, HandoffBatch& batch) {
    HandoffAck ack{batch.slot, batch.seq, errc::ok};
    if (batch.slot.value >= ring_->partition_count() || batch.partition.value >= ring_->partition_count() ||
        batch.items.size() > k_max_handoff_items) {
        ack.code = errc::bad_request;
        send(from, ack);
        return;
    }
    // Only a destination that knows of the move keeps what it is sent (one whose view
    // lags would hand it straight back): the source retries until its view catches up.
    const bool expected = std::any_of(handoff_.moves.begin(), handoff_.moves.end(), [&](const Move& m) {
        return m.slot == batch.slot && m.from == from && m.to == config_.id;
    });
    ack.code = expected ? merge_items(batch.items, stats_.handoff_keys_received, false) : errc::unavailable;
    send(from, ack);
}

void Node::on_handoff_ack(Now now, NodeId from, const HandoffAck& ack) {
    auto it = std::find_if(streams_.begin(), streams_.end(), [&](const Stream& s) {
        return s.move.slot == ack.slot && s.move.to == from && s.inflight && s.inflight->seq == ack.seq;
    });
    if (it == streams_.end()) return;
    Stream& s = *it;
    if (ack.code != errc::ok) {
        // Refused (the destination's view lags, or its store failed): the batch stays
        // out and is sent again after a short pause. A destination that keeps refusing
        // shows in handoff_refusals.
        ++stats_.handoff_retries;
        ++stats_.handoff_refusals;
        // Most often the destination's view has not caught up yet: soon, not after
        // the full timeout.
        s.inflight->deadline = std::min(s.inflight->deadline, now.mono + config_.handoff.refusal_backoff);
        return;
    }
    const Stream::Batch done = s.acknowledged();
    stats_.handoff_keys_sent += done.keys;
    stats_.handoff_bytes_sent += done.bytes;
    store::WriteBatch cursor;
    if (s.finished) {
        ++stats_.handoffs_completed;
        completed_.push_back(s.move);
        cursor.del(cursor_key(s.move));
    } else {
        std::string value;
        put_be(value, list_hash(s.partitions), 8);
        put_be(value, s.index, 4);
        cursor.put(cursor_key(s.move), value + s.after);
    }
    // Losing a cursor write only means sending some keys again.
    if (store_.write(cursor, false)) ++stats_.store_errors;
    if (!s.finished) send_handoff_batch(now.mono, s);
}

// ---- copies this node no longer serves ----------------------------------------------

bool Node::keeps(PartitionId p) const {
    if (ring_->is_primary(p, config_.id, config_.n)) return true;
    if (p.value >= handoff_.forward.size()) return false;
    const auto& incoming = handoff_.forward[p.value];
    return std::find(incoming.begin(), incoming.end(), config_.id) != incoming.end();
}

void Node::hand_over(std::string_view key, std::size_t bytes) {
    const PartitionId p = ring_->partition_of(hash_key(key));
    if (keeps(p)) return;
    const auto order = ring_->preference_order(p);
    for (std::size_t i = 0; i < std::min<std::size_t>(config_.n, order.size()); ++i) store_hint(order[i], key, bytes);
}

void Node::hand_over_unkept() {
    // Bounded: so many keys per tick, and only while the hint store has room to spare
    // for the writes fallbacks take (this pauses until deliveries drain it).
    constexpr std::size_t k_keys_per_tick = 1024;
    const std::uint64_t budget_hints = k_keys_per_tick * config_.n;
    if (hints_.pending() + budget_hints > config_.repair.max_hints / 2) return;
    SHOAL_ASSERT(handover_.has_value());
    HandOverScan& scan = *handover_;
    std::size_t left = k_keys_per_tick;
    while (scan.partition < ring_->partition_count()) {
        const std::uint32_t q = scan.partition;
        const PartitionId p{q};
        // The tree says whether anything of p is here, without a scan.
        if (keeps(p) || q >= trees_.size() || !trees_[q] || trees_[q]->entries() == 0) {
            ++scan.partition;
            scan.after.clear();
            continue;
        }
        std::vector<std::pair<std::string, std::size_t>> keys;
        const auto range = store::data_range(p);
        const std::string begin = scan.after.empty() ? range.begin : scan.after + std::string(1, '\0');
        bool more = false;
        auto ec = store_.scan(begin, range.end, [&](std::string_view stored, std::string_view value) {
            if (keys.size() >= left) {
                more = true;
                return false;
            }
            scan.after.assign(stored);
            PartitionId part;
            std::string_view key;
            if (store::parse_data_key(stored, part, key)) keys.emplace_back(std::string(key), hint_bytes(key, value.size()));
            return true;
        });
        if (ec) {
            ++stats_.store_errors;
            return;  // again at the next tick
        }
        for (const auto& [key, bytes] : keys) {
            // A key already hinted is on its way (every later write adds its own hint).
            if (!hints_.names(key)) hand_over(key, bytes);
        }
        left -= std::min(left, keys.size());
        if (more) return;  // the rest of p at the next tick
        ++scan.partition;
        scan.after.clear();
    }
    handover_.reset();
}

void Node::forward_write(std::string_view key, const SiblingSet& state, const std::vector<Target>& targets) {
    if (handoff_.forward.empty()) return;
    const PartitionId p = ring_->partition_of(hash_key(key));
    if (p.value >= handoff_.forward.size()) return;
    for (NodeId b : handoff_.forward[p.value]) {
        const bool targeted =
            std::any_of(targets.begin(), targets.end(), [&](const Target& t) { return t.node == b; });
        if (targeted) continue;
        ++stats_.writes_forwarded;
        ReplicateReq forward{0, std::string(key), state, NodeId{}};
        if (b == config_.id) {
            replicate_here(std::move(forward));
        } else {
            send(b, std::move(forward));
        }
    }
}

}  // namespace shoal::replica
