// The arithmetic of one request's quorum, apart from the coordinator that waits on it
// (as Riak keeps it in riak_kv_put_core): how many good answers a put (w, pw) or a get
// (r, pr) needs, how many of them must come from primaries, and what it has. Pure.
#pragma once

#include <cstdint>

namespace shoal::replica {

struct Quorum {
    std::uint32_t need = 0;          // good answers required: w or r
    std::uint32_t need_primary = 0;  // of which from primaries: pw or pr
    std::uint32_t got = 0;
    std::uint32_t got_primary = 0;

    // One more good answer, from a primary or not.
    void count(bool primary) {
        ++got;
        if (primary) ++got_primary;
    }
    bool met() const { return got >= need && got_primary >= need_primary; }
    // Still short of primaries: only a primary's answer helps.
    bool wants_primary() const { return got_primary < need_primary; }
};

}  // namespace shoal::replica
