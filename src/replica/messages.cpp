#include "replica/messages.h"

#include <string>

namespace shoal::replica {

std::string unavailable_text(std::uint32_t reachable, std::uint32_t needed, std::uint32_t primaries,
                             std::uint32_t primaries_down) {
    std::string out = "unavailable: ";
    if (primaries != 0)
        out += std::to_string(primaries_down) + " of " + std::to_string(primaries) + " primaries known down, ";
    out += std::to_string(reachable) + (reachable == 1 ? " node" : " nodes") + " to ask where " +
           std::to_string(needed) + " are needed (no replica was asked)";
    return out;
}

}  // namespace shoal::replica
