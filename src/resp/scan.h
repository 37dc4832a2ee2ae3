// SCAN's cursors and MATCH patterns. A Redis cursor is a number, and Shoal's position
// in a listing is a partition and a key: the node keeps each position it handed out
// under a number (ScanCursors), node-wide, so a client's pool may go on with a cursor
// on another connection to the same node. Pure: no clock of its own, no I/O.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/types.h"
#include "replica/messages.h"

namespace shoal::resp {

// The positions a node remembers; past it the oldest is forgotten (a client that comes
// back with it is told its cursor is unknown, and starts again from 0).
inline constexpr std::size_t k_max_scan_cursors = 4096;

struct ScanPosition {
    std::string ns;      // the namespace walked
    std::string prefix;  // the keys walked start with this (MATCH's literal start)
    replica::ListPosition at;
};

class ScanCursors {
public:
    // Remembers `p` and returns its cursor: never 0, below 2^53 (exact in a JavaScript
    // number), and starting from `now`'s seconds so that a restarted node does not hand
    // out the numbers of its earlier life again.
    std::uint64_t open(ScanPosition p, Time now);
    // The position of `cursor`, or nullptr when it is not one this node remembers.
    const ScanPosition* find(std::uint64_t cursor) const;
    std::size_t size() const { return positions_.size(); }

private:
    std::uint64_t next_ = 0;
    std::unordered_map<std::uint64_t, ScanPosition> positions_;
    std::deque<std::uint64_t> order_;  // oldest first
};

// Whether `text` matches the Redis glob `pattern`: `*` any run, `?` one byte, `[abc]`,
// `[^a]`, `[a-z]` a set, `\x` x itself.
bool glob_match(std::string_view pattern, std::string_view text);
// The pattern's literal start: the bytes before its first special character.
std::string literal_prefix(std::string_view pattern);

}  // namespace shoal::resp
