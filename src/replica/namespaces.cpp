#include "replica/namespaces.h"

#include "core/assert.h"
#include "replica/datatypes.h"
#include "replica/messages.h"

namespace shoal::replica {

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
