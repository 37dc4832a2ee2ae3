// Byte patches: a value's next bytes as edits of its previous ones, so that a write
// that changes a few bytes of a large value (a cart's add) reaches the other replicas
// as those bytes. Pure.
//
// A patch is a list of edits, each "keep K bytes of the old value, drop D, insert
// these bytes", the rest of the old value kept after the last. make_patch finds one
// greedily: after a common run it looks for the cheapest place where the two agree
// again (up to k_patch_window bytes dropped and inserted; a search of at most some
// thousands of 16-byte compares), and gives up on a patch that is not small.
// apply_patch is a bounded decode: any patch that does not fit the old value fails,
// never reads out of bounds. A patch applied to another old value makes other bytes:
// the receiver checks what it gets against a hash of the intended value
// (ReplicateDelta's digest).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace shoal::replica {

// The longest replaced, inserted or dropped stretch one edit finds.
inline constexpr std::size_t k_patch_window = 256;
// The most edits a patch holds.
inline constexpr std::size_t k_max_patch_edits = 16;

// A patch from `from` to `to` of at most `max_bytes` bytes; nullopt when there is none
// as small (values that share little, or differ in more than k_max_patch_edits places).
std::optional<std::string> make_patch(std::string_view from, std::string_view to, std::size_t max_bytes);

// `from` with `patch` applied, into `out`: false when the patch does not decode or does
// not fit `from` (an edit past its end, more than k_max_patch_edits edits).
bool apply_patch(std::string_view from, std::string_view patch, std::string& out);

}  // namespace shoal::replica
