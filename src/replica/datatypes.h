// Data types that merge themselves (CRDTs): the values of a namespace whose
// `datatype` is `set`, `counter` or `map`. Pure.
//
// A data-type key is stored like any other key (a SiblingSet: replicated, repaired,
// hinted, handed off), but each live sibling's value is an encoded State, and a write
// is an Update that the key's leader replica applies to the merge of its own
// siblings. The leader issues the write's dot first (version.h: next_dot) and the
// update is tagged with it, so a data type's dots are the key's own dots: unique per
// actor incarnation, and per actor contiguous in what a state has seen. That is what
// lets a plain version vector be a set's causal context, as in Riak's ORSWOT
// (Bieniusa et al., "An optimized conflict-free replicated set", 2012).
//
// - set: an add-wins observed-remove set without tombstones. An element is live while
//   it holds a dot; a remove drops the dots its context has seen, so an add the
//   remover had not seen survives, and a remove of a dot no state has yet arrives
//   before it does is kept aside (deferred, at most k_max_deferred_removes) until the
//   state has seen the remover's context.
// - counter: a PN-counter, one (increments, decrements) pair per actor.
// - map: named fields, each a last-writer-wins register (the greatest (written, dot)
//   wins, a removed field keeps its stamp so an older value cannot return), a counter
//   (concurrent increments add up; a counter field cannot be removed), a flag
//   (enable-wins: on while it holds an enable's dot; a disable drops the enables the
//   leader's state has seen, so an enable made at the same time through another leader
//   survives), a set (add-wins, as the set type above, with the map's own causal
//   context), a multi-value register (an assignment replaces the values the writer's
//   context saw, or all the leader holds when it sends none; concurrent assignments are
//   all kept) or a nested map (the same fields, at most k_max_map_depth deep). The map
//   keeps one causal context (`seen`: every dot of every update it holds) for all of
//   its sets, at every depth, so a set field one replica never had and another removed
//   merges right. Concurrent updates of different fields all survive. Should one name
//   be written as two kinds concurrently, the later kind in the order register,
//   counter, flag, set, map, multi-value register wins (a fixed order keeps the merge
//   a semilattice).
//   Removing a field: a register leaves a tombstone (last writer wins), a flag is
//   disabled, a set drops the items the remover's context saw (add-wins: a concurrent
//   add survives), a multi-value register the values it saw (all the leader holds
//   without a context), a map removes each of its fields so; a counter, or a map
//   holding one, cannot be removed.
//
// merge() is commutative, associative and idempotent for each type; siblings of a key
// (concurrent leaders) are merged by the reader with merge_siblings().
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <variant>
#include <vector>

#include "replica/version.h"

namespace shoal::replica::dt {

enum class Type : std::uint8_t { set = 1, counter = 2, map = 3 };

// "set" / "counter" / "map" as a Type; nullopt for any other name.
std::optional<Type> type_by_name(std::string_view name);
std::string_view type_name(Type type);

// How many removes, each waiting for state it has not seen, a set keeps at most;
// past it a remove is refused (errc::overloaded) until replicas catch up.
inline constexpr std::size_t k_max_deferred_removes = 64;
// The most elements one update adds and removes together (a map update: its fields
// and items named, at every depth).
inline constexpr std::size_t k_max_update_elements = 1024;
// How deep maps nest: a map's fields are depth 1, a nested map's fields depth 2. Bounds
// the recursion of every decode, merge and apply.
inline constexpr std::size_t k_max_map_depth = 4;

struct Element {
    std::string value;
    std::vector<Dot> dots;  // sorted, distinct, never empty
    friend bool operator==(const Element&, const Element&) = default;
};

struct DeferredRemove {
    VersionVector context;          // the remover's, not yet seen by the state
    // sorted, distinct; empty only in a map's set field, where it means every item (the
    // field itself was removed)
    std::vector<std::string> elements;
    friend bool operator==(const DeferredRemove&, const DeferredRemove&) = default;
};

struct Set {
    VersionVector context;          // every dot this state has seen (empty in a map's
                                    // set field: the map's `seen` is its context)
    std::vector<Element> elements;  // sorted by value, distinct
    std::vector<DeferredRemove> deferred;  // sorted by context entries, distinct
    friend bool operator==(const Set&, const Set&) = default;
};

struct Counter {
    struct Entry {
        ActorId actor = 0;
        std::uint64_t increments = 0;
        std::uint64_t decrements = 0;
        friend bool operator==(const Entry&, const Entry&) = default;
    };
    std::vector<Entry> entries;  // sorted by actor, distinct
    friend bool operator==(const Counter&, const Counter&) = default;
};

struct Register {
    std::string value;
    Time written;  // the leader's stamp: after every stamp it held for the field
    Dot dot;       // the write's: breaks ties of equal stamps
    bool present = true;  // false: removed (a tombstone that keeps its stamp)
    friend bool operator==(const Register&, const Register&) = default;
};

struct Flag {
    std::vector<Dot> enables;  // sorted, distinct, each covered by seen
    VersionVector seen;        // every enable and disable of this flag it has seen
    bool on() const { return !enables.empty(); }
    friend bool operator==(const Flag&, const Flag&) = default;
};

// A multi-value register field: every value assigned that no later assignment saw,
// so concurrent assignments through different leaders are all kept (as siblings are).
struct MultiRegister {
    std::vector<std::pair<Dot, std::string>> values;  // sorted by dot, distinct, each seen by the map
    friend bool operator==(const MultiRegister&, const MultiRegister&) = default;
};

struct MapField;

struct Map {
    VersionVector seen;             // every dot of every update the map holds (the
                                    // outermost map's only; empty in a nested one)
    std::vector<MapField> fields;  // sorted by name, distinct
    friend bool operator==(const Map&, const Map&) = default;
};

struct MapField {
    std::string name;
    std::variant<Register, Counter, Flag, Set, Map, MultiRegister> value;
    friend bool operator==(const MapField&, const MapField&) = default;
};

// The variant's index is the Type less one.
using State = std::variant<Set, Counter, Map>;

Type type_of(const State& state);
// The empty state of a type.
State empty_state(Type type);

// Operations. A remove names the context of the read it was decided on; without one
// it is refused (precondition_failed): a remover that never saw an element cannot
// remove it, so a removed item cannot come back by accident, nor a concurrent add be lost.
struct SetUpdate {
    std::vector<std::string> add;
    std::vector<std::string> remove;
    VersionVector context;  // what the remover read; needed when remove is not empty
    friend bool operator==(const SetUpdate&, const SetUpdate&) = default;
};

struct CounterUpdate {
    std::int64_t delta = 0;
    friend bool operator==(const CounterUpdate&, const CounterUpdate&) = default;
};

struct NestedMapUpdate;

// Fields set (registers), removed (any kind but a counter), incremented (counters),
// enabled (true) and disabled (false) (flags), items added to and discarded from sets,
// nested maps updated, and multi-value registers assigned, at once. `context` (the
// outermost update's only) is what the writer read: a discard, or the remove of a set
// or a map field, needs it; an assignment replaces what it saw.
struct MapUpdate {
    std::vector<std::pair<std::string, std::string>> set;
    std::vector<std::string> remove;
    std::vector<std::pair<std::string, std::int64_t>> increment;
    std::vector<std::pair<std::string, bool>> flag;
    std::vector<std::pair<std::string, std::vector<std::string>>> add;
    std::vector<std::pair<std::string, std::vector<std::string>>> discard;
    std::vector<NestedMapUpdate> update;
    std::vector<std::pair<std::string, std::string>> assign;  // multi-value registers
    VersionVector context;
    friend bool operator==(const MapUpdate&, const MapUpdate&) = default;
};

struct NestedMapUpdate {
    std::string name;
    MapUpdate update;
    friend bool operator==(const NestedMapUpdate&, const NestedMapUpdate&) = default;
};

using Update = std::variant<SetUpdate, CounterUpdate, MapUpdate>;

Type type_of(const Update& update);

// Applies `update` to `state` under the write's dot (issued by the leader for this
// write) and stamp (`written`: the coordinator's wall clock; map registers only).
// Errors: wrong_type (an update of another type, or of a map field of the other kind,
// or a remove of a counter field or of a map holding one), precondition_failed (a set
// remove, a discard or a set or map field's remove without a context), overloaded
// (too many deferred removes; or the remove of a field this state lacks, decided on a
// read that saw more than this state: retry once it has caught up), bad_request (a counter would pass INT64 bounds). On
// error `state` is unchanged.
std::error_code apply(State& state, const Update& update, const Dot& dot, Time written = {});

// Takes every dot of `clock` as seen by `state` (a set's context, a map's `seen`),
// for the clock of the siblings a state was merged from: each of its dots is in the
// state or was taken away (a delete, a newer write), so no set item (nor multi-value
// register value) it names may return, and a remove that waits only for such dots goes
// ahead. Flags keep their own contexts and registers their stamps: this leaves them be.
void observe(State& state, const VersionVector& clock);

// Merges `other` into `into`: both of one type (else wrong_type and `into` unchanged).
std::error_code merge(State& into, const State& other);

// The merge of the data-type states held by the live siblings of a key (tombstones and
// expired ones skipped); the empty state of `type` when there are none. corrupt when a
// value does not decode, wrong_type when one holds another type (or a plain value).
std::error_code merge_siblings(Type type, const std::vector<Sibling>& siblings, Time now, State& out);

// The value a data-type update makes of a key's siblings, encoded: their merge (live
// ones at `now`), having seen `clock` (observe: the key's clock), with `update` applied
// under the write's `dot` and stamp `written`: what the leader writes for the write it
// issues (Node::apply_update). Errors: merge_siblings' and apply's.
std::error_code next_value(const Update& update, const std::vector<Sibling>& siblings, const VersionVector& clock,
                           const Dot& dot, Time written, Time now, std::string& out);

// What a reader sees: a set's elements in order, a counter's value.
std::vector<std::string> members(const Set& set);
bool contains(const Set& set, std::string_view value);
std::int64_t value(const Counter& counter);
// A map's field by name (nullptr: none, or one that reads as absent: a removed
// register, a set without items, a map without a field that reads as present).
const MapField* find_field(const Map& map, std::string_view name);
bool shown(const MapField& field);

// A state as JSON: a set an array of its items, a counter a number, a map an object
// (registers strings, counters numbers, flags booleans, sets arrays, maps objects;
// fields that read as absent left out).
std::string to_json(const State& state);
std::string to_json(const MapField& field);

// Encodings (the stored value of a sibling; the update a put carries). Decoding is
// bounded by the input and canonical only: anything else is corrupt (a state) or
// bad_request (an update), never a crash.
std::string encode(const State& state);
std::error_code decode(std::string_view bytes, State& out);
std::string encode(const Update& update);
std::error_code decode(std::string_view bytes, Update& out);

// Checks an update a client sent against a key's limits (elements and field names at
// most `max_element_bytes`, at most k_max_update_elements of them, not none, a context
// within the client bound; nested maps at most k_max_map_depth deep, none empty, their
// context empty).
std::error_code check_update(const Update& update, std::size_t max_element_bytes);

// Whether applying `update` twice means what applying it once does: not when it
// increments or decrements a counter (a client must not resend such an update).
bool repeatable(const Update& update);

}  // namespace shoal::replica::dt
