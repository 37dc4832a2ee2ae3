// The key layout inside a node's Store. Every stored key starts with a one-byte tag:
//   'd' + partition (4 bytes, big-endian) + user key    -- replica data
//   'h' + target node (4 bytes, big-endian) + seq (8 bytes, big-endian)  -- hints
//   'm' + name                                          -- node metadata (claim, members)
// Big-endian fixed-width ids make byte order equal numeric order, so one partition's
// data (or one target's hints, oldest first) is one contiguous range scan.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/types.h"

namespace shoal::store {

// A half-open key range [begin, end) for Store::scan; `end` is never empty here.
struct KeyRange {
    std::string begin;
    std::string end;
};

// The stored key of `user_key` in partition `p`.
std::string data_key(PartitionId p, std::string_view user_key);

// Exactly the keys data_key(p, *): no key of another partition, hint or metadata.
KeyRange data_range(PartitionId p);

// Every data key of every partition, and every hint of every target.
KeyRange all_data_range();
KeyRange all_hints_range();

// Inverse of data_key. Returns false (leaving the outputs unspecified) when `stored`
// is not a data key. `user_key` points into `stored`.
bool parse_data_key(std::string_view stored, PartitionId& p, std::string_view& user_key);

// The stored key of the metadata record `name`.
std::string meta_key(std::string_view name);

// The stored key of hint number `seq` for node `target`; hints for one target sort by seq.
std::string hint_key(NodeId target, std::uint64_t seq);

// Exactly the keys hint_key(target, *).
KeyRange hint_range(NodeId target);

// Inverse of hint_key. Returns false when `stored` is not a well-formed hint key.
bool parse_hint_key(std::string_view stored, NodeId& target, std::uint64_t& seq);

// A hint's stored value: the bytes it accounts for (8 bytes, big-endian) and the user
// key it names.
std::string hint_value(std::uint64_t bytes, std::string_view user_key);
// Inverse of hint_value; false when `value` is too short. `user_key` points into it.
bool parse_hint_value(std::string_view value, std::uint64_t& bytes, std::string_view& user_key);

}  // namespace shoal::store
