#include "core/namespace.h"

#include <utility>

#include "core/limits.h"

namespace shoal {

bool known_datatype(std::string_view name) { return name == "set" || name == "counter" || name == "map"; }

std::string props_problem(const NamespaceProps& p) {
    if (p.n > k_max_replicas) return "n=" + std::to_string(p.n) + " exceeds " + std::to_string(k_max_replicas);
    // Quorums are checked against the namespace's n when it has one; against the
    // node's n (unknown here) they are checked again on every request.
    const auto quorum = [&](const char* name, std::uint32_t q) -> std::string {
        const std::uint32_t count = resolve_quorum(q, p.n == 0 ? k_max_replicas : p.n);
        if (count > k_max_replicas || (p.n != 0 && count > p.n))
            return std::string(name) + "=" + std::to_string(count) + " exceeds n=" + std::to_string(p.n);
        return "";
    };
    for (auto [name, q] : {std::pair{"r", p.r}, {"w", p.w}, {"pr", p.pr}, {"pw", p.pw}}) {
        if (auto problem = quorum(name, q); !problem.empty()) return problem;
    }
    if (p.ttl_s < 0 || p.ttl_s > k_max_ttl_s) return "ttl_s must be 0..." + std::to_string(k_max_ttl_s);
    if (!p.datatype.empty() && !known_datatype(p.datatype))
        return "datatype '" + p.datatype + "' is not known (set, counter, map, or none for plain values)";
    if (!p.datatype.empty() && p.conflict == ConflictMode::lww)
        return "a datatype merges its own concurrent writes: it needs conflict=dvv, not lww";
    return "";
}

}  // namespace shoal
