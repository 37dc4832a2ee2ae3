#include "replica/namespaces.h"

#include "core/assert.h"
#include "replica/datatypes.h"
#include "replica/messages.h"

namespace shoal::replica {

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
    if (!p.datatype.empty() && !dt::type_by_name(p.datatype))
        return "datatype '" + p.datatype + "' is not known (set, counter, map, or none for plain values)";
    if (!p.datatype.empty() && p.conflict == ConflictMode::lww)
        return "a datatype merges its own concurrent writes: it needs conflict=dvv, not lww";
    return "";
}

std::string scoped_key(std::string_view ns, std::string_view key) {
    if (ns.empty() || ns == k_default_namespace) return std::string(key);
    SHOAL_ASSERT(valid_namespace_name(ns));
    std::string out;
    out.reserve(ns.size() + key.size() + 2);
    out.push_back('\0');
    out.append(ns);
    out.push_back('\0');
    out.append(key);
    return out;
}

std::string_view namespace_of(std::string_view stored_key) {
    if (stored_key.empty() || stored_key.front() != '\0') return k_default_namespace;
    const std::size_t end = stored_key.find('\0', 1);
    if (end == std::string_view::npos) return {};  // malformed (check_stored_key refuses it): no namespace
    return stored_key.substr(1, end - 1);
}

std::string_view client_key_of(std::string_view stored_key) {
    if (stored_key.empty() || stored_key.front() != '\0') return stored_key;
    const std::size_t end = stored_key.find('\0', 1);
    if (end == std::string_view::npos) return stored_key;
    return stored_key.substr(end + 1);
}

ConflictMode conflict_of(const Namespaces& namespaces, std::string_view stored_key, ConflictMode fallback) {
    return namespace_conflict(namespaces, namespace_of(stored_key), fallback);
}

ConflictMode namespace_conflict(const Namespaces& namespaces, std::string_view ns, ConflictMode fallback) {
    if (ns.empty()) ns = k_default_namespace;
    if (auto it = namespaces.find(ns); it != namespaces.end()) return it->second.conflict;
    return ns == k_default_namespace ? fallback : ConflictMode::dvv;
}

}  // namespace shoal::replica
