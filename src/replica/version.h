// Versions: dotted version vector sets (Preguica et al.), the causal data model of
// every stored key.
//
// A key's state is a SiblingSet: a causal context (a version vector: everything this
// state has seen) and the siblings still live, each tagged with the dot (actor,
// counter) of the write that made it. A write issued with the context a reader saw
// supersedes exactly the siblings that reader saw; concurrent writes survive side by
// side. Dots are issued per key by a replica from its own local state, so an actor's
// dots for one key are contiguous; that is what lets a plain version vector stand for
// "seen". An actor is a node in one incarnation (restarts bump it), so a node that
// lost unsynced writes in a crash never issues the same dot twice.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/namespace.h"
#include "core/types.h"

namespace shoal::replica {

using ActorId = std::uint64_t;

constexpr ActorId make_actor(NodeId node, std::uint32_t incarnation) {
    return (static_cast<ActorId>(node.value) << 32) | incarnation;
}
constexpr NodeId actor_node(ActorId actor) {
    return NodeId{static_cast<std::uint32_t>(actor >> 32)};
}

struct Dot {
    ActorId actor = 0;
    std::uint64_t counter = 0;
    friend constexpr auto operator<=>(const Dot&, const Dot&) = default;
};

// A map actor -> highest counter seen, kept sorted by actor. Small (one entry per
// replica incarnation that ever coordinated a write of the key).
class VersionVector {
public:
    using Entry = std::pair<ActorId, std::uint64_t>;

    std::uint64_t get(ActorId actor) const;
    // Raises the entry for actor to at least counter.
    void raise(ActorId actor, std::uint64_t counter);
    void raise(const Dot& dot) { raise(dot.actor, dot.counter); }
    // True when this vector has seen the dot.
    bool covers(const Dot& dot) const { return dot.counter != 0 && dot.counter <= get(dot.actor); }
    // Pointwise maximum.
    void join(const VersionVector& other);
    // True when this has seen everything other has (this >= other pointwise).
    bool descends(const VersionVector& other) const;

    const std::vector<Entry>& entries() const { return entries_; }
    bool empty() const { return entries_.empty(); }
    friend bool operator==(const VersionVector&, const VersionVector&) = default;

private:
    std::vector<Entry> entries_;
};

// How many actors a.join(b) would name, without building it.
std::size_t joined_size(const VersionVector& a, const VersionVector& b);

struct Sibling {
    Dot dot;
    bool tombstone = false;
    std::string value;  // empty for tombstones
    Time written;       // the coordinator's clock at the write: last-writer-wins order
    Time expires;       // {0} = never; at or after this time the sibling reads as absent
    std::string content_type;  // the writer's media type; empty: none given

    bool expired(Time now) const { return expires.us != 0 && now >= expires; }
    friend bool operator==(const Sibling&, const Sibling&) = default;
};

using shoal::ConflictMode;  // core/namespace.h: dvv (siblings) or lww

// The state of one key on one replica.
struct SiblingSet {
    VersionVector context;          // covers every sibling's dot
    std::vector<Sibling> siblings;  // sorted by dot, distinct dots

    bool empty() const { return context.empty() && siblings.empty(); }
    friend bool operator==(const SiblingSet&, const SiblingSet&) = default;
};

// A new write as the leader replica receives it.
struct WriteOp {
    std::string value;
    bool tombstone = false;
    VersionVector context;  // what the writer had read; empty = a blind write
    Time written;
    Time expires;  // {0} = never
    std::string content_type;  // at most k_max_content_type_bytes; empty for deletes
    // A data-type update (replica/datatypes.h), encoded: the leader applies it to the
    // merge of its siblings and writes the result as the value. Empty: a plain write.
    std::string update;
};

// Merges two replicas' states of the same key. Commutative, associative and
// idempotent. A sibling survives unless the other side has seen its dot without
// keeping it (then it was superseded there). Under lww only the greatest
// (written, dot) sibling survives.
SiblingSet merge(const SiblingSet& a, const SiblingSet& b, ConflictMode mode);

// Applies a new write at the leader replica, which issues its dot: (actor, next
// counter). Local siblings the writer had seen are superseded; the others stay as
// siblings of the new one, except those the write repeats (the same value, content type
// and expiry; or, for a delete, tombstones), which the new write stands for: their dots
// stay in the context.
// Returns the dot issued.
//
// `min_counter` is the least counter the dot may get. A leader passes one more than
// the last counter it issued for any key: its own copy of a key may be gone (a
// fallback hands it over, GC reaps it) while other replicas still hold dots it
// issued, and a counter given twice would make two writes look like one.
Dot apply_write(SiblingSet& local, const WriteOp& op, ActorId actor, ConflictMode mode, std::uint64_t min_counter = 0);

// The dot apply_write will issue for a write with `context` onto `local` (a data-type
// update is tagged with its dot before the write is applied).
Dot next_dot(const SiblingSet& local, const VersionVector& context, ActorId actor, std::uint64_t min_counter = 0);

// True when `op` writes exactly what `s` holds (value, content type and expiry; or both
// are deletes): apply_write lets the new write stand for it.
bool repeats(const Sibling& s, const WriteOp& op);

// Number of siblings that are live values (not tombstones, not expired).
std::size_t live_count(const SiblingSet& set, Time now);

// A conditional write, checked by the key's leader against its copy. Conditional
// writes are led by the first primary, so concurrent ones meet in one place.
enum class WriteCondition : std::uint8_t {
    none,
    if_none_match,  // only if nothing live is stored (create)
    if_match,       // only if the stored state holds nothing the write's context has not seen
};

// Whether a conditional write may apply to `stored`: if_none_match when nothing live
// is stored; if_match when the writer's `context` covers every stored sibling (nothing
// was written that the writer did not see).
bool condition_holds(WriteCondition condition, const SiblingSet& stored, const VersionVector& context, Time now);

// True when a reader at `now` sees nothing: no sibling, or only tombstones and
// expired values.
bool reads_as_absent(const SiblingSet& set, Time now);

// Removes siblings expired at `now` from what a client will see. The context stays:
// a write with it supersedes the expired values too.
void drop_expired(SiblingSet& set, Time now);

}  // namespace shoal::replica
