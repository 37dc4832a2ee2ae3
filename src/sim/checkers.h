// The simulator's checkers: pure functions over what a run recorded (its history)
// and what the nodes hold at the end. Each has unit tests on crafted histories that
// violate it (test/unit/test_checkers.cpp).
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "replica/version.h"

namespace shoal::sim {

using replica::Dot;
using replica::SiblingSet;
using replica::VersionVector;

// A cart add the cluster acknowledged: `item` joined the item set of `key` in the
// write that was given `dot`.
struct AckedAdd {
    std::string key;
    std::string item;
    Dot dot;
};

// A delete a client issued (acknowledged or not: an unacknowledged write may still
// have taken effect) with the context it had read.
struct DeleteAttempt {
    std::string key;
    VersionVector context;
};

struct DtRemove {
    std::string key;
    std::string item;
    VersionVector context;
};

struct MapFieldWrite {
    std::string key;
    std::string field;
    std::string value;
};

struct CounterHistory {
    std::uint64_t acked = 0;
    std::uint64_t attempted = 0;
};

struct History {
    std::vector<AckedAdd> acked_adds;
    // The key every item of a plain (not data-type) write was written to: a read that
    // returns an item of another key is a foreign-value violation.
    std::map<std::string, std::string> item_keys;
    std::vector<DeleteAttempt> deletes;
    // Per key, the join of the contexts of its acknowledged deletes: every dot in it
    // was deleted and must never be live again.
    std::map<std::string, VersionVector> acked_deletes;
    // For every (key, dot) issued: the context its writer had read, i.e. its causal
    // past. Dots are issued per key, so the same dot names different writes of
    // different keys.
    std::map<std::pair<std::string, Dot>, VersionVector> writer_context;

    // Data types (--datatypes): acknowledged set adds (the item was tagged with the
    // write's dot), every remove sent (acknowledged or not) with the context of the
    // read it was decided on, and per counter the increments acknowledged and sent.
    std::vector<AckedAdd> dt_adds;
    std::vector<DtRemove> dt_removes;
    std::map<std::string, CounterHistory> counters;
    // Maps: every value sent to a register field (acknowledged or not), the field
    // writes acknowledged, and each map's counter field ("visits").
    std::map<std::pair<std::string, std::string>, std::set<std::string>> map_values;
    std::vector<MapFieldWrite> map_acked;
    std::map<std::string, CounterHistory> map_counters;
};

// A map is its fields' last writes: every acknowledged field write leaves its field
// present in the final map (nothing removes fields here), holding a value some write
// sent to that field. Returns the acknowledged writes whose field is missing or holds
// a value nobody wrote. `final_maps`: per key, field -> value.
std::vector<MapFieldWrite> find_lost_map_fields(const History& history,
                                                const std::map<std::string, std::map<std::string, std::string>>& final_maps);

// A set is exactly its adds minus what removes saw: an acknowledged add is lost when
// the final set (the merge of every node's copies) lacks its item and no remove of
// that item had seen the add's dot.
std::vector<AckedAdd> find_lost_set_adds(const History& history,
                                         const std::map<std::string, std::vector<std::string>>& final_sets);
// A counter of increments only ends at least at what was acknowledged. (It may pass
// what was sent: an increment whose leader applied it but whose answer was lost is
// applied again by the next leader the coordinator asks; counters, like Riak's, count
// at least once. The simulator reports that excess, it is not a violation.)
bool counter_keeps_acked(const CounterHistory& h, std::int64_t value);

// Cart values are item sets: items joined by ','.
std::set<std::string> parse_items(const std::string& value);
std::string format_items(const std::set<std::string>& items);

// Checker 1, no acknowledged write lost. `final_state` is, per key, the merge of
// what every node holds. An acked add is lost when no live sibling of its key
// contains the item and no delete of the key causally covered the add's dot.
std::vector<AckedAdd> find_lost_adds(const History& history, const std::map<std::string, SiblingSet>& final_state);

// Checker 2, no dominated siblings: returns the pairs (older, newer) of siblings in
// one set where the newer one's writer had already seen the older one's dot.
std::vector<std::pair<Dot, Dot>> find_dominated(const std::string& key, const SiblingSet& set, const History& history);

// Checker 4, no resurrection: the live siblings of `state` (a replica's copy of
// `key`) that an acknowledged delete of the key had already seen and removed.
std::vector<Dot> find_resurrected(const std::string& key, const SiblingSet& state, const History& history);

// Checker 5, convergence: the replicas of one key (nullopt: holds nothing) agree.
// A copy whose siblings are all tombstones reads as absent, but it still differs
// from an absent copy until tombstone GC removes it: identical means identical.
bool replicas_agree(const std::vector<const SiblingSet*>& replicas);

// Checker 3, available under minority failure: true when at least `min_ratio` of
// the writes attempted while a minority was down succeeded.
struct Availability {
    std::uint64_t attempted = 0;
    std::uint64_t succeeded = 0;
    double ratio() const {
        return attempted == 0 ? 1.0 : static_cast<double>(succeeded) / static_cast<double>(attempted);
    }
};
bool available_enough(const Availability& a, double min_ratio);

}  // namespace shoal::sim
