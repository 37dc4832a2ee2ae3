// One replica a client request was sent to, as its coordinator tracks it: shared by the
// put and get coordinators (put_coordinator.h, get_coordinator.h). Pure data.
#pragma once

#include <vector>

#include "core/types.h"

namespace shoal::replica {

struct Target {
    NodeId node;
    NodeId hint_for;  // a fallback's hint: the primary it stands in for
    bool primary = false;
    bool asked = false;  // reads only: the request went out to it (a put asks every target)
    bool answered = false;
    bool failed = false;
    bool corrupt = false;  // answered that its copy is damaged: read repair rewrites it

    // Neither answered nor failed: an answer from it still counts.
    bool open() const { return !answered && !failed; }
};

// The target `from` of a request while it has neither answered nor failed, else nullptr.
inline Target* open_target(std::vector<Target>& targets, NodeId from) {
    for (auto& t : targets) {
        if (t.node == from && t.open()) return &t;
    }
    return nullptr;
}

}  // namespace shoal::replica
