// What datatypes.cpp and datatypes_map.cpp share: the counter's and the set's
// operations (a map's counter and set fields are counters and sets), the strings
// encoding and the map's entry points. Not part of the API.
#pragma once

#include <string>
#include <system_error>
#include <vector>

#include "core/byte_codec.h"
#include "replica/datatypes.h"

namespace shoal::replica::dt::detail {

inline constexpr std::uint8_t k_format = 1;  // the byte after the type, for later formats
// A map's: format 2 added the map's causal context and set, map and multi-value
// register fields; a format 1
// map (registers, counters and flags, no context) still decodes.
inline constexpr std::uint8_t k_map_format = 2;

void merge_counters(Counter& into, const Counter& other);
// The dots of `a` the other side has not dropped (in `b`, or not seen by `b_seen`), and
// of `b` likewise: the observed-remove join of two dot sets (a set's element, a flag).
std::vector<Dot> merge_dots(const std::vector<Dot>& a, const VersionVector& a_seen, const std::vector<Dot>& b,
                            const VersionVector& b_seen);
std::error_code apply_counter(Counter& c, std::int64_t delta, ActorId actor);
void put_counter(std::string& out, const Counter& c);
bool get_counter(ByteReader& r, Counter& c);

// Sets, with the causal context given apart (a set's own, or the map's for a set field).
// merge_set_items joins the elements and the waiting removes, not the contexts;
// settle_deferred then applies the waiting removes under the joined context.
void merge_set_items(Set& into, const VersionVector& into_seen, const Set& other, const VersionVector& other_seen);
void settle_deferred(Set& set, const VersionVector& seen);
// Adds and removes items (`remove_all`: every item) under the write's dot; a remove
// `seen` does not yet cover waits in the set (bounded: overloaded past it).
std::error_code apply_set_ops(Set& set, const VersionVector& seen, const std::vector<std::string>& add,
                              const std::vector<std::string>& remove, bool remove_all, const VersionVector& context,
                              const Dot& dot);
// A set's elements and waiting removes, without its context; `field`: a map's set
// field, whose waiting removes may name every item.
void put_set_items(std::string& out, const Set& s);
bool get_set_items(ByteReader& r, Set& set, const VersionVector& seen, bool field);

// A dot set (a set element's, a flag's enables): a count, then sorted, distinct dots,
// each covered by `seen`; at least one when `nonempty`.
void put_dots(std::string& out, const std::vector<Dot>& dots);
bool get_dots(ByteReader& r, std::vector<Dot>& dots, const VersionVector& seen, bool nonempty);

void put_strings(std::string& out, const std::vector<std::string>& v);
// A count and that many strings, strictly increasing when `sorted`.
bool get_strings(ByteReader& r, std::vector<std::string>& out, bool sorted);

// Maps (datatypes_map.cpp).
void merge_maps(Map& into, const Map& other);
std::error_code apply_map(Map& map, const MapUpdate& u, const Dot& dot, Time written);
void put_map(std::string& out, const Map& m);
bool get_map(ByteReader& r, Map& m, std::uint8_t format);
void put_map_update(std::string& out, const MapUpdate& u);
bool get_map_update(ByteReader& r, MapUpdate& u);
std::error_code check_map_update(const MapUpdate& u, std::size_t max_name_bytes);
void observe_map(Map& m, const VersionVector& clock);
// The update increments or decrements a counter field, at any depth.
bool increments(const MapUpdate& u);

}  // namespace shoal::replica::dt::detail
