#include "replica/patch.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

#include "core/byte_codec.h"

namespace shoal::replica {

namespace {

// Two stretches resynchronize where they agree on this many bytes (or both end).
constexpr std::size_t k_resync_bytes = 16;
// Windows of `to` whose first eight bytes match one of `from` that realign compares
// further, at most: it bounds an edit's search to k_patch_window times this.
constexpr std::ptrdiff_t k_max_same_prefix = 8;

std::size_t common_prefix(std::string_view a, std::string_view b) {
    const std::size_t n = std::min(a.size(), b.size());
    std::size_t i = 0;
    while (i < n && a[i] == b[i]) ++i;
    return i;
}

std::uint64_t load8(const char* p) {
    std::uint64_t v = 0;
    std::memcpy(&v, p, sizeof v);
    return v;
}

// The cheapest (drop, insert), each at most k_patch_window, after which from[i..] and
// to[j..] agree on k_resync_bytes; nullopt when there is none. The windows of `to` are
// sorted by their first eight bytes, and each window of `from` looked up among them.
std::optional<std::pair<std::size_t, std::size_t>> realign(std::string_view from, std::size_t i, std::string_view to,
                                                           std::size_t j) {
    if (from.size() - i < k_resync_bytes || to.size() - j < k_resync_bytes) return std::nullopt;
    const std::size_t last_insert = std::min(k_patch_window, to.size() - j - k_resync_bytes);
    const std::size_t last_drop = std::min(k_patch_window, from.size() - i - k_resync_bytes);
    std::vector<std::pair<std::uint64_t, std::size_t>> windows;  // (first eight bytes, insert)
    windows.reserve(last_insert + 1);
    for (std::size_t n = 0; n <= last_insert; ++n) windows.emplace_back(load8(to.data() + j + n), n);
    std::sort(windows.begin(), windows.end());
    std::optional<std::pair<std::size_t, std::size_t>> best;
    for (std::size_t d = 0; d <= last_drop; ++d) {
        if (best && d >= best->first + best->second) break;  // no cheaper one is left
        const char* f = from.data() + i + d;
        const std::uint64_t key = load8(f);
        auto it = std::lower_bound(windows.begin(), windows.end(), std::pair{key, std::size_t{0}});
        // By insert, smallest first; a few at most (repetitive bytes share many).
        const auto stop = it + std::min<std::ptrdiff_t>(k_max_same_prefix, windows.end() - it);
        for (; it != stop && it->first == key; ++it) {
            const std::size_t n = it->second;
            if (best && d + n >= best->first + best->second) break;
            if (std::memcmp(f, to.data() + j + n, k_resync_bytes) == 0) {
                best = std::pair{d, n};
                break;
            }
        }
    }
    return best;
}

}  // namespace

std::optional<std::string> make_patch(std::string_view from, std::string_view to, std::size_t max_bytes) {
    std::string out;
    std::size_t i = 0, j = 0, edits = 0;
    while (true) {
        const std::size_t keep = common_prefix(from.substr(i), to.substr(j));
        i += keep;
        j += keep;
        if (i == from.size() && j == to.size()) break;  // the rest (none) is kept
        // Where the two agree again; failing that, the rest of `to` replaces the rest.
        const auto shape = realign(from, i, to, j);
        const std::size_t drop = shape ? shape->first : from.size() - i;
        const std::size_t insert = shape ? shape->second : to.size() - j;
        if (++edits > k_max_patch_edits || insert > max_bytes) return std::nullopt;
        put_varint(out, keep);
        put_varint(out, drop);
        put_string(out, to.substr(j, insert));
        if (out.size() > max_bytes) return std::nullopt;
        i += drop;
        j += insert;
    }
    return out;
}

bool apply_patch(std::string_view from, std::string_view patch, std::string& out) {
    out.clear();
    ByteReader r(patch);
    std::size_t i = 0, edits = 0;
    std::string inserted;
    while (!r.done()) {
        std::uint64_t keep = 0, drop = 0;
        if (++edits > k_max_patch_edits || !r.varint(keep) || keep > from.size() - i) return false;
        out.append(from.substr(i, keep));
        i += keep;
        if (!r.varint(drop) || drop > from.size() - i || !r.string(inserted)) return false;
        i += drop;
        out.append(inserted);
    }
    out.append(from.substr(i));
    return true;
}

}  // namespace shoal::replica
