// The repair paths of the replication core (hinted handoff is in hinted.cpp): the
// merge of a batch of peer states, Merkle-tree anti-entropy (primaries of a
// partition compare trees and exchange only the keys that differ) and the scrub.
// Tombstone GC, which waits on completed exchanges, is in gc.cpp.
//
// Exchange protocol, initiator I and responder R, one exchange in flight per node:
//   I -> R  AeTree(level 0: the root)        R -> I  AeTreeResp(differing nodes)
//   I -> R  AeTree(children of those) ...    (down to the leaves)
//   I -> R  AeKeys(I's keys in some differing leaves, with their entry hashes)
//   R -> I  AeKeysResp(R's states where they differ or I lacks them; keys R wants)
//   I -> R  AeStates(I's merged states of the wanted keys)   R -> I  AeDone
// and AeKeys steps repeat until every differing leaf is done. An exchange that ends
// complete (nothing truncated) proves R held, when it ended, every state I held when
// it started: that is what tombstone GC waits for.
#include <algorithm>
#include <unordered_map>

#include "core/assert.h"
#include "core/hash.h"
#include "replica/codec.h"
#include "replica/node.h"
#include "store/keys.h"

namespace shoal::replica {

namespace {
constexpr std::size_t k_max_tree_indices = MerkleTree::k_leaves;
constexpr std::size_t k_max_listed_keys = 1 << 20;

}  // namespace

// ---- trees --------------------------------------------------------------------------

MerkleTree& Node::tree(PartitionId p) {
    if (trees_.size() < ring_->partition_count()) trees_.resize(ring_->partition_count());
    SHOAL_ASSERT(p.value < trees_.size());
    auto& t = trees_[p.value];
    if (!t) t = std::make_unique<MerkleTree>();
    return *t;
}

std::uint64_t Node::merkle_root(PartitionId p) const {
    return p.value < trees_.size() && trees_[p.value] ? trees_[p.value]->root() : 0;
}

Node::ExchangeView Node::exchange() const {
    const auto& running = exchanges_.running();
    if (running.empty()) return ExchangeView{};
    const Exchange& ex = running.begin()->second;
    return ExchangeView{true, ex.partition, ex.peer, ex.leaves.size(), running.size()};
}

errc Node::merge_items(const std::vector<KeyState>& items, std::uint64_t& merged, bool hand_over_unkept) {
    for (const auto& item : items) {
        if (check_stored_key(config_.limits, item.key)) return errc::bad_request;
        bool changed = false;
        if (auto ec = merge_in(item.key, item.state, changed)) return to_errc(ec);
        if (hand_over_unkept) hand_over(item.key, hint_bytes(item.key, item.state));
        ++merged;
    }
    return errc::ok;
}

bool Node::retire_actor() {
    std::uint32_t incarnation = 0;
    if (bump_incarnation(store_, incarnation, config_.incarnation + 1)) {
        ++stats_.store_errors;
        return false;
    }
    config_.incarnation = incarnation;
    actor_ = make_actor(config_.id, incarnation);
    next_counter_ = 1;
    must_retire_ = false;
    ++stats_.actors_retired;
    return true;
}

// ---- anti-entropy -------------------------------------------------------------------

void Node::start_exchange(Instant now) {
    const auto& rc = config_.repair;
    // Each exchange has its own deadline: a peer that stopped answering costs only its
    // own exchange a timeout, never the others'.
    for (NodeId peer : exchanges_.expire(now)) {
        ++stats_.ae_aborted;
        missed(now, peer);  // skipped by the next exchanges until it answers a ping
    }
    if (!rc.anti_entropy || !exchanges_.may_start(now, rc.ae_interval, rc.ae_max_parallel)) return;
    const std::uint64_t n = config_.n;
    const std::uint64_t total = static_cast<std::uint64_t>(ring_->partition_count()) * n;
    // The cursor walks (partition, replica) pairs of the partitions this node is a
    // primary of, with peers believed up.
    const auto pair_at = [&](std::uint64_t c) -> std::optional<Exchanges::Pair> {
        const PartitionId p{static_cast<std::uint32_t>(c / n)};
        const auto order = ring_->preference_order(p);
        const std::size_t slot = c % n;
        if (slot >= order.size()) return std::nullopt;
        const NodeId peer = order[slot];
        if (peer == config_.id || !believes_up(peer) || !ring_->is_primary(p, config_.id, config_.n)) return std::nullopt;
        return Exchanges::Pair{p, peer};
    };
    const auto pair = exchanges_.next_pair(total, [&](NodeId peer) { return believes_up(peer); }, pair_at);
    if (!pair) return;
    Exchange& ex = exchanges_.begin(*pair, ++step_, now + rc.ae_timeout);
    stats_.ae_bytes_sent += 12;
    send(ex.peer, AeTree{ex.xid, ex.partition, 0, {0}, {merkle_root(ex.partition)}});
}

Node::Exchange* Node::exchange_with(Instant now, NodeId peer, std::uint64_t xid) {
    return exchanges_.answered(peer, xid, now + config_.repair.ae_timeout);  // it answered: time again
}

void Node::finish_exchange(Exchange& ex, bool complete) {
    if (events_) events_->exchange_finished(ex.peer, ex.partition, complete);
    ++(complete ? stats_.ae_exchanges : stats_.ae_aborted);
    exchanges_.finish(ex, complete);
}

void Node::on_ae_tree(NodeId from, const AeTree& m) {
    // The answer comes from the trees, which hold every staged write: it may leave only
    // once those are durable (a peer's tombstone GC trusts it).
    rest_on(store_.staged_seq());
    AeTreeResp resp{m.xid, errc::ok, {}};
    const bool valid = m.partition.value < ring_->partition_count() && m.level <= MerkleTree::k_depth &&
                       m.index.size() == m.hash.size() && m.index.size() <= k_max_tree_indices;
    if (!valid) {
        resp.code = errc::bad_request;
        send(from, std::move(resp));
        return;
    }
    const std::uint32_t width = MerkleTree::width(m.level);
    const bool have = m.partition.value < trees_.size() && trees_[m.partition.value] != nullptr;
    for (std::size_t i = 0; i < m.index.size(); ++i) {
        if (m.index[i] >= width) {
            resp.code = errc::bad_request;
            resp.differ.clear();
            break;
        }
        const std::uint64_t mine = have ? trees_[m.partition.value]->hash(m.level, m.index[i]) : 0;
        if (mine != m.hash[i]) resp.differ.push_back(m.index[i]);
    }
    stats_.ae_bytes_sent += 4 * resp.differ.size() + 12;
    send(from, std::move(resp));
}

void Node::on_ae_tree_resp(Now now, NodeId from, const AeTreeResp& m) {
    Exchange* found = exchange_with(now.mono, from, m.xid);
    if (found == nullptr) return;
    Exchange& ex = *found;
    if (m.code != errc::ok) return finish_exchange(ex, false);
    if (m.differ.empty()) return finish_exchange(ex, true);
    const std::uint32_t width = MerkleTree::width(ex.level);
    for (auto i : m.differ) {
        if (i >= width) return finish_exchange(ex, false);
    }
    if (ex.level == MerkleTree::k_depth) {
        ex.leaves = m.differ;
        std::sort(ex.leaves.begin(), ex.leaves.end(), std::greater<>());  // taken from the back
        send_leaf_step(ex);
        return;
    }
    AeTree next{ex.xid, ex.partition, ex.level + 1, {}, {}};
    const MerkleTree& t = tree(ex.partition);
    for (auto parent : m.differ) {
        for (std::uint32_t c = 0; c < MerkleTree::k_fanout; ++c) {
            const std::uint32_t child = parent * MerkleTree::k_fanout + c;
            next.index.push_back(child);
            next.hash.push_back(t.hash(ex.level + 1, child));
        }
    }
    ++ex.level;
    stats_.ae_bytes_sent += 12 * next.index.size() + 12;
    send(ex.peer, std::move(next));
}

template <typename Visit>
std::error_code Node::scan_leaves(PartitionId p, const std::vector<std::uint32_t>& leaves, Visit&& visit) {
    std::vector<bool> wanted(MerkleTree::k_leaves, false);
    for (auto l : leaves) wanted[l] = true;
    const auto range = store::data_range(p);
    return store_.scan(range.begin, range.end, [&](std::string_view stored, std::string_view bytes) {
        PartitionId part;
        std::string_view key;
        if (!store::parse_data_key(stored, part, key)) return true;
        const std::uint32_t leaf = MerkleTree::leaf_of(hash_key(key));
        if (wanted[leaf]) visit(leaf, key, bytes);
        return true;
    });
}

void Node::send_leaf_step(Exchange& ex) {
    const auto& rc = config_.repair;
    ex.step.clear();
    while (!ex.leaves.empty() && ex.step.size() < rc.ae_max_leaves) {
        ex.step.push_back(ex.leaves.back());
        ex.leaves.pop_back();
    }
    std::vector<std::pair<std::uint32_t, KeyDigest>> found;
    SiblingSet state;
    const std::error_code read =
        scan_leaves(ex.partition, ex.step, [&](std::uint32_t leaf, std::string_view key, std::string_view bytes) {
            bool corrupt = false;
            found.push_back({leaf, KeyDigest{std::string(key), stored_entry(key, bytes, state, corrupt)}});
        });
    // A list short of keys would not offer the peer those keys' states: the exchange
    // goes on, but proves nothing to tombstone GC (a failure is counted).
    if (!scanned(read)) ex.truncated = true;
    // Bound the key list: hand whole leaves back until it fits (one leaf always goes).
    std::stable_sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    std::sort(ex.step.begin(), ex.step.end());
    std::size_t key_bytes = 0;
    for (const auto& f : found) key_bytes += f.second.key.size() + 8;
    while ((found.size() > rc.ae_batch_keys || key_bytes > rc.ae_batch_bytes) && ex.step.size() > 1) {
        const std::uint32_t last = ex.step.back();
        ex.step.pop_back();
        ex.leaves.push_back(last);
        while (!found.empty() && found.back().first == last) {
            key_bytes -= found.back().second.key.size() + 8;
            found.pop_back();
        }
    }
    AeKeys msg{ex.xid, ex.partition, ex.step, {}};
    std::size_t bytes = 16 + 4 * msg.leaves.size();
    for (auto& [leaf, kd] : found) {
        bytes += kd.key.size() + 8;
        msg.keys.push_back(std::move(kd));
    }
    stats_.ae_bytes_sent += bytes;
    send(ex.peer, std::move(msg));
}

void Node::on_ae_keys(NodeId from, const AeKeys& m) {
    rest_on(store_.staged_seq());  // digests from the trees, as above
    AeKeysResp resp{m.xid, errc::ok, false, {}, {}};
    bool valid = m.partition.value < ring_->partition_count() && m.leaves.size() <= MerkleTree::k_leaves &&
                 m.keys.size() <= k_max_listed_keys;
    for (auto l : m.leaves) valid = valid && l < MerkleTree::k_leaves;
    if (!valid) {
        resp.code = errc::bad_request;
        send(from, std::move(resp));
        return;
    }
    std::unordered_map<std::string_view, std::uint64_t> theirs;
    for (const auto& kd : m.keys) theirs.emplace(kd.key, kd.entry);
    std::size_t bytes = 0;
    SiblingSet state;
    auto ec = scan_leaves(m.partition, m.leaves, [&](std::uint32_t, std::string_view key, std::string_view stored) {
        bool corrupt = false;
        const std::uint64_t mine = stored_entry(key, stored, state, corrupt);
        auto it = theirs.find(key);
        const bool they_have = it != theirs.end();
        if (they_have) {
            const bool same = it->second == mine;
            theirs.erase(it);
            if (same) return;
            resp.want.emplace_back(key);
        }
        if (corrupt) {
            if (!they_have) resp.want.emplace_back(key);
            return;
        }
        const std::size_t size = key.size() + state_bytes(state);
        if (!resp.states.empty() && bytes + size > config_.repair.ae_batch_bytes) {
            resp.truncated = true;
            return;
        }
        bytes += size;
        resp.states.push_back(KeyState{std::string(key), state});
    });
    if (ec) resp.code = to_errc(ec);
    for (const auto& [key, entry] : theirs) resp.want.emplace_back(key);
    std::sort(resp.want.begin(), resp.want.end());  // a deterministic order
    for (const auto& k : resp.want) bytes += k.size();
    stats_.ae_bytes_sent += bytes + 16;
    send(from, std::move(resp));
}

void Node::on_ae_keys_resp(Now now, NodeId from, AeKeysResp& m) {
    Exchange* found = exchange_with(now.mono, from, m.xid);
    if (found == nullptr) return;
    Exchange& ex = *found;
    if (m.code != errc::ok) return finish_exchange(ex, false);
    if (m.truncated) ex.truncated = true;
    for (const auto& item : m.states) {
        if (check_stored_key(config_.limits, item.key)) return finish_exchange(ex, false);
        bool changed = false;
        if (merge_in(item.key, item.state, changed)) {
            ex.truncated = true;  // not everything merged: this exchange proves nothing
            continue;
        }
        if (changed) {
            ++stats_.ae_keys_repaired;
            hand_over(item.key, item.key.size() + state_bytes(item.state));  // if no longer ours
        }
    }
    AeStates out{ex.xid, ex.partition, {}};
    std::size_t bytes = 16;
    for (auto& key : m.want) {
        if (check_stored_key(config_.limits, key)) return finish_exchange(ex, false);
        KeyState item;
        const std::error_code ec = load(key, item.state);
        if (ec == errc::corrupt) {
            // Damaged here and absent there (any copy the peer had was merged above,
            // replacing ours): nothing to recover from this peer. Drop it; a replica
            // that has the key refills it.
            (void)remove(key, MerkleTree::corrupt_entry_hash(key));  // a failure is counted (store_errors)
            continue;
        }
        if (ec || (item.state.siblings.empty() && item.state.context.empty())) continue;
        const std::size_t size = key.size() + state_bytes(item.state);
        if (!out.states.empty() && bytes + size > config_.repair.ae_batch_bytes) {
            ex.truncated = true;
            break;
        }
        bytes += size;
        item.key = std::move(key);
        out.states.push_back(std::move(item));
    }
    stats_.ae_bytes_sent += bytes;
    send(ex.peer, std::move(out));
}

void Node::on_ae_states(NodeId from, AeStates& m) {
    AeDone done{m.xid, errc::ok};
    for (const auto& item : m.states) {
        if (check_stored_key(config_.limits, item.key)) {
            done.code = errc::bad_request;
            break;
        }
        bool changed = false;
        if (auto ec = merge_in(item.key, item.state, changed)) {
            done.code = to_errc(ec);
            break;
        }
        if (changed) {
            ++stats_.ae_keys_repaired;
            hand_over(item.key, item.key.size() + state_bytes(item.state));  // if no longer ours
        }
    }
    send(from, done);
}

void Node::on_ae_done(Now now, NodeId from, const AeDone& m) {
    Exchange* found = exchange_with(now.mono, from, m.xid);
    if (found == nullptr) return;
    Exchange& ex = *found;
    if (m.code != errc::ok) return finish_exchange(ex, false);
    if (!ex.leaves.empty()) return send_leaf_step(ex);
    finish_exchange(ex, true);
}

// Rebuilds one partition's tree from the store each round: a value damaged on disk
// since it was written shows up as a differing entry, and the next exchange repairs it.
void Node::scrub(Instant now) {
    const auto& rc = config_.repair;
    if (!rc.anti_entropy || now < next_scrub_) return;
    next_scrub_ = now + rc.scrub_interval;
    for (std::size_t tries = 0; tries < trees_.size(); ++tries) {
        const auto p = static_cast<std::uint32_t>(scrub_cursor_++ % trees_.size());
        if (!trees_[p]) continue;
        const std::uint64_t before = trees_[p]->root();
        rebuild_tree(PartitionId{p});
        ++stats_.scrubs;
        if (trees_[p]->root() != before) {
            // The disk changed under us (damage): what the read cache holds of it no
            // longer tells what is stored, and repair must see the stored bytes.
            ++stats_.scrub_mismatches;
            store_.forget_cached();
        }
        return;
    }
}

}  // namespace shoal::replica
