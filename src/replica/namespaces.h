// Namespaces: named groups of keys with their own semantics (Riak's bucket types).
//
// A namespace's properties are the defaults its requests take (n, r, w, pr, pw, ttl_s)
// and the rules its replicas keep (conflict mode, max_siblings). They live in the
// gossiped cluster view (gossip/view.h), so every node applies the same ones.
//
// The namespace is part of the key everywhere below the client: a key of namespace
// `carts` is hashed, stored, repaired and handed off as "\0carts\0" + key. Keys of the
// `default` namespace keep their bytes, which is why no client key may begin with NUL
// (core/limits.h: check_key). Pure.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "core/limits.h"
#include "core/namespace.h"
#include "replica/version.h"

namespace shoal::replica {

// The cluster-recorded vocabulary (core/namespace.h), under its replica names.
using shoal::ConflictMode;
using shoal::k_default_namespace;
using shoal::NamespaceProps;
using shoal::Namespaces;
using shoal::props_problem;

// 1 to k_max_namespace_bytes characters of [a-z0-9_-] (core/limits.h: stored keys
// are checked by the same rule).
using shoal::valid_namespace_name;

// The key as stored: `key` itself in the default namespace (ns empty or "default"),
// else NUL, ns, NUL, key. Precondition: valid name, checked key.
std::string scoped_key(std::string_view ns, std::string_view key);
// The namespace of a stored key ("default" for a plain one; empty for a malformed
// one, which check_stored_key refuses) and its client key.
std::string_view namespace_of(std::string_view stored_key);
std::string_view client_key_of(std::string_view stored_key);

// The conflict mode a stored key's replicas keep: its namespace's; the node's own
// (`fallback`) for the default namespace unless the view sets it; dvv for a namespace
// this node has not heard of yet (siblings lose nothing; a later merge under the
// namespace's lww keeps the winner).
ConflictMode conflict_of(const Namespaces& namespaces, std::string_view stored_key, ConflictMode fallback);
// The same for a namespace by name ("" or "default": the default namespace).
ConflictMode namespace_conflict(const Namespaces& namespaces, std::string_view ns, ConflictMode fallback);

}  // namespace shoal::replica
