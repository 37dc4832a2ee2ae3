// A node's own copy of its keys: reading and writing states in the Store (with
// the checksummed stored form), keeping the anti-entropy trees and GC candidates in
// step with every write, merging peers' states in, and recording hints; and, at a
// start or after lost writes, reading all of that back from the store.
#include <algorithm>

#include "core/hash.h"
#include "replica/codec.h"
#include "replica/node.h"
#include "store/keys.h"

namespace shoal::replica {

std::error_code Node::load(std::string_view key, SiblingSet& out) {
    std::uint64_t entry = 0;
    return load(key, out, entry);
}

std::error_code Node::load(std::string_view key, SiblingSet& out, std::uint64_t& entry) {
    out = SiblingSet{};
    entry = 0;
    std::optional<std::string> bytes;
    const PartitionId p = ring_->partition_of(hash_key(key));
    std::error_code ec = store_.get(store::data_key(p, key), bytes);
    if (ec && ec != errc::corrupt) {
        ++stats_.store_errors;
        return ec;
    }
    if (!ec && !bytes) return {};
    // Damage the store found (a bad block) or the checksum shows: the tree still holds
    // the entry of the good value, so rebuild the partition's tree to show it, and a
    // merge (read repair, anti-entropy) replaces the key.
    if (!ec) ec = decode_stored(*bytes, out);
    if (ec) {
        ++stats_.corrupt_reads;
        rebuild_tree(p);
        return ec;
    }
    entry = entry_of_stored(key, out, *bytes);
    return ec;
}

std::uint64_t Node::entry_of(std::string_view key, const SiblingSet& state) const {
    if (state.siblings.empty() && state.context.empty()) return 0;
    return MerkleTree::entry_hash(key, digest(state));
}

std::uint64_t Node::entry_of_stored(std::string_view key, const SiblingSet& state, std::string_view stored) const {
    if (state.siblings.empty() && state.context.empty()) return 0;
    return MerkleTree::entry_hash(key, stored_digest(stored));  // digest(state), without encoding it again
}

void Node::count_stored(std::uint64_t old_entry, std::uint64_t new_entry) {
    // Not an assertion: after a scan that failed part-way (rebuild_from_store) the count
    // may be short of what the store holds, and a removal must not wrap it.
    if (old_entry == 0 && new_entry != 0) ++stats_.keys_stored;
    if (old_entry != 0 && new_entry == 0 && stats_.keys_stored > 0) --stats_.keys_stored;
}

std::error_code Node::save(std::string_view key, const SiblingSet& state, std::uint64_t old_entry, std::size_t bound) {
    const std::uint64_t h = hash_key(key);
    const PartitionId p = ring_->partition_of(h);
    scratch_.clear();
    encode_stored(state, scratch_);
    if (bound == 0) bound = max_carried_state_bytes(config_.limits);
    if (scratch_.size() > bound || state.context.entries().size() > k_max_context_entries ||
        state.siblings.size() > k_max_stored_siblings) {
        ++stats_.states_refused;
        return errc::state_too_large;
    }
    store::WriteBatch batch;
    batch.put(store::data_key(p, key), scratch_);
    if (auto ec = store_.write(batch, false)) {
        ++stats_.store_errors;
        return ec;
    }
    const std::uint64_t new_entry = entry_of_stored(key, state, scratch_);
    tree(p).update(h, old_entry, new_entry);
    count_stored(old_entry, new_entry);
    note_state(key, p, state);
    return {};
}

std::error_code Node::remove(std::string_view key, std::uint64_t old_entry) {
    const std::uint64_t h = hash_key(key);
    const PartitionId p = ring_->partition_of(h);
    store::WriteBatch batch;
    batch.del(store::data_key(p, key));
    if (auto ec = store_.write(batch, false)) {
        ++stats_.store_errors;
        return ec;
    }
    tree(p).update(h, old_entry, 0);
    count_stored(old_entry, 0);
    note_state(key, p, SiblingSet{});
    return {};
}

std::error_code Node::merge_in(std::string_view key, const SiblingSet& incoming, bool& changed) {
    changed = false;
    SiblingSet local;
    std::uint64_t old_entry = 0;
    std::error_code ec = load(key, local, old_entry);
    const bool corrupt = ec == errc::corrupt;
    if (ec && !corrupt) return ec;
    if (corrupt) {
        old_entry = MerkleTree::corrupt_entry_hash(key);
        local = SiblingSet{};
        ++stats_.corrupt_repaired;
    }
    SiblingSet merged;
    const VersionVector* reaped = old_entry == 0 ? reaper_.recently_reaped(key) : nullptr;
    if (reaped != nullptr) {
        // We removed this key's tombstones once every primary had them. What they had
        // seen is deleted: an old copy coming back (late hint, a peer not yet reaped)
        // must neither resurrect it nor start the tombstone cycle again.
        SiblingSet fresh;
        for (const auto& s : incoming.siblings) {
            if (!reaped->covers(s.dot)) fresh.siblings.push_back(s);
        }
        if (fresh.siblings.empty()) return {};
        fresh.context = incoming.context;
        fresh.context.join(*reaped);
        merged = std::move(fresh);
    } else {
        merged = merge(local, incoming, mode_of(key));
    }
    if (!corrupt && merged == local) return {};
    if (auto e = save(key, merged, old_entry)) return e;
    changed = true;
    return {};
}

std::error_code Node::read_local(std::string_view key, SiblingSet& out) {
    return load(key, out);
}

// ---- reading it all back ----------------------------------------------------------

std::uint64_t Node::stored_entry(std::string_view key, std::string_view bytes, SiblingSet& state, bool& corrupt) const {
    corrupt = static_cast<bool>(decode_stored(bytes, state));
    return corrupt ? MerkleTree::corrupt_entry_hash(key) : entry_of_stored(key, state, bytes);
}

void Node::rebuild_tree(PartitionId p) {
    MerkleTree& t = tree(p);
    t.clear();
    const auto range = store::data_range(p);
    SiblingSet state;
    // A failed scan leaves the tree short of keys: the exchanges that use it then send
    // what it lacks (a cost, never a loss), and the scrub rebuilds it again.
    (void)scanned(store_.scan(range.begin, range.end, [&](std::string_view stored, std::string_view bytes) {
        PartitionId part;
        std::string_view key;
        if (!store::parse_data_key(stored, part, key)) return true;
        bool corrupt = false;
        t.update(hash_key(key), 0, stored_entry(key, bytes, state, corrupt));
        return true;
    }));
}

void Node::reload_from_store() {
    hints_.clear();
    reaper_.clear_candidates();
    exchanges_.clear_running();
    rebuild_from_store();
}

void Node::rebuild_from_store() {
    trees_.clear();
    trees_.resize(ring_->partition_count());
    // Data: the trees, and the GC candidates (each stable from the step it is noted,
    // before any exchange of this life starts).
    const store::KeyRange data = store::all_data_range();
    SiblingSet state;
    stats_.keys_stored = 0;
    // A failed scan here is counted (store_errors) and the node runs on what it read:
    // trees short of keys cost exchanges more, and the scrub rebuilds each in turn.
    (void)scanned(store_.scan(data.begin, data.end, [&](std::string_view stored, std::string_view bytes) {
        PartitionId p;
        std::string_view key;
        if (!store::parse_data_key(stored, p, key) || p.value >= ring_->partition_count()) return true;
        bool corrupt = false;
        const std::uint64_t entry = stored_entry(key, bytes, state, corrupt);
        tree(p).update(hash_key(key), 0, entry);
        stats_.keys_stored += entry != 0;
        if (!corrupt) note_state(key, p, state);
        return true;
    }));
    // Hints: what waits for each target, and which keys they name.
    const store::KeyRange hints = store::all_hints_range();
    (void)scanned(store_.scan(hints.begin, hints.end, [&](std::string_view stored, std::string_view value) {
        NodeId target;
        std::uint64_t seq = 0, bytes = 0;
        std::string_view key;
        if (!store::parse_hint_key(stored, target, seq) || !store::parse_hint_value(value, bytes, key)) return true;
        hints_.found(target, seq, key, bytes);
        return true;
    }));
}

}  // namespace shoal::replica
