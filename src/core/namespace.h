// Namespaces as the cluster records them: the vocabulary that membership gossips, the
// replication core applies and the front ends show (Riak's bucket types). Pure data
// and its validation; what a namespace does to a key lives in replica/namespaces.h.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace shoal {

inline constexpr std::string_view k_default_namespace = "default";

// How a key's replicas settle concurrent writes.
enum class ConflictMode : std::uint8_t {
    dvv,  // default: concurrent writes become siblings
    lww,  // last writer wins by (written, dot): concurrent writes are lost. A leader
          // stamps a write after every stamp it holds for the key (apply_write).
};

// Quorums a request may name instead of a number (r, w, pr, pw, dw); the core
// resolves them against the request's n: one, a majority (n/2 + 1), or all n.
inline constexpr std::uint32_t k_quorum_one = 0xfffffffd;
inline constexpr std::uint32_t k_quorum_majority = 0xfffffffe;
inline constexpr std::uint32_t k_quorum_all = 0xffffffff;

// The count a quorum parameter names for `n` replicas: a named one resolved, a number
// (0 included: "the default") as given.
constexpr std::uint32_t resolve_quorum(std::uint32_t given, std::uint32_t n) {
    return given == k_quorum_one ? 1 : given == k_quorum_majority ? n / 2 + 1 : given == k_quorum_all ? n : given;
}

// A quorum given by name (one, quorum, all) as its k_quorum_* value; false for
// anything else.
constexpr bool quorum_by_name(std::string_view value, std::uint32_t& out) {
    if (value == "one") out = k_quorum_one;
    else if (value == "quorum") out = k_quorum_majority;
    else if (value == "all") out = k_quorum_all;
    else return false;
    return true;
}

// The data types a namespace may name (replica/datatypes.h implements each).
bool known_datatype(std::string_view name);

struct NamespaceProps {
    // Request defaults; 0: the node's (n at most the node's n; quorums may be the
    // named k_quorum_* values above).
    std::uint32_t n = 0;
    std::uint32_t r = 0;
    std::uint32_t w = 0;
    std::uint32_t pr = 0;
    std::uint32_t pw = 0;
    ConflictMode conflict = ConflictMode::dvv;
    std::uint32_t max_siblings = 0;  // 0: the node's limit
    std::int64_t ttl_s = 0;          // writes expire after this unless they say; 0: never
    std::string datatype;            // a known_datatype; empty: plain values
    friend bool operator==(const NamespaceProps&, const NamespaceProps&) = default;
};

using Namespaces = std::map<std::string, NamespaceProps, std::less<>>;

// Why `p` cannot be a namespace's properties ("" when it can), as far as it can tell
// alone: quorums above its own n, a ttl past k_max_ttl_s, an unknown datatype. (Against
// a node's n, r and w the membership layer checks the rest when the namespace is set.)
std::string props_problem(const NamespaceProps& p);

}  // namespace shoal
