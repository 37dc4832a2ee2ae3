// Bounds on everything a client can make the node hold, derived from each other in
// this one place. Exceeding one is a clear error (errc::key_too_large, ...), never an
// allocation, and never a frame too large to send.
//
// How they fit together:
//   value     <= max_value_bytes                         (a write is refused past it)
//   state     <= max_state_bytes                         (a write whose resulting state
//                                                         would pass it is refused)
//   carried   <= k_state_merge_factor * max_state_bytes  (concurrent writes admitted by
//                                                         different leaders merge into
//                                                         a larger state; replicas store
//                                                         and carry up to this, and
//                                                         refuse a merge beyond it)
//   batch     <= k_batch_bytes, or one carried state     (hints, handoff, anti-entropy)
//   frame     <= max_frame_bytes(limits)                 (one batch or one carried state,
//                                                         its key and the encoding)
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

namespace shoal {

struct Limits {
    std::size_t max_key_bytes = 1024;               // 1 KiB
    std::size_t max_value_bytes = 1024 * 1024;      // 1 MiB
    std::size_t max_siblings = 64;                  // per key, checked when a write is admitted
    std::size_t max_state_bytes = 2 * 1024 * 1024;  // a key's stored state: siblings and context
    std::size_t max_inflight_requests = 10000;      // per coordinator node
};

// How much larger than max_state_bytes a merged state may grow (two leaders, each
// admitting a write onto the same state, concurrently).
inline constexpr std::size_t k_state_merge_factor = 2;
// What a batch of states (hints, handoff, anti-entropy keys) fills to; a batch always
// carries at least one state, however large.
inline constexpr std::size_t k_batch_bytes = 512 * 1024;
// A page of a key listing (SCAN): at most this many keys, and it stops once its keys
// fill k_batch_bytes (a page always carries at least one key, so it fits a frame like
// a batch). A replica looks at no more than k_max_list_examined stored entries for one
// page (tombstones and expired values are looked at and not listed), and decodes no
// more than k_max_list_scanned_bytes of them (each is decoded to see whether it is
// live), so a page costs a bounded scan however much garbage, or however large the
// values, a partition holds.
inline constexpr std::uint32_t k_max_list_keys = 1000;
inline constexpr std::uint32_t k_max_list_examined = 4 * k_max_list_keys;
inline constexpr std::size_t k_max_list_scanned_bytes = 16 * k_batch_bytes;
// Room in a frame for everything but keys and states: the message's own fields, the
// encoding's pointers and padding (counted per state by replica::state_bytes).
inline constexpr std::size_t k_frame_overhead_bytes = 64 * 1024;
// The most siblings a stored state holds (a merge could pass max_siblings; bytes bound
// it long before this).
inline constexpr std::size_t k_max_stored_siblings = 65536;
// The most actors a stored context names (and the decode limit of every context).
inline constexpr std::size_t k_max_context_entries = 4096;
// A context a client sends may name at most this many: joined with a stored context it
// must still fit k_max_context_entries.
inline constexpr std::size_t k_max_client_context_entries = k_max_context_entries / 2;
static_assert(k_max_client_context_entries * 2 <= k_max_context_entries);
// No dot counter reaches this (2^62: a billion writes a second for 146 years); a
// context naming one is refused, so counters never wrap.
inline constexpr std::uint64_t k_max_counter = 1ULL << 62;

// A bearer token a client presents (tls/tokens.h): 16..128 bytes.
inline constexpr std::size_t k_min_token_bytes = 16, k_max_token_bytes = 128;
// The largest first frame a connection may send: its hello (a role, a node id, a
// protocol version, and for a native client a token: a few dozen bytes encoded, plus
// the token). Until it has said hello a connection holds no more than this and one
// read buffer, so the unnamed connections a port admits cost little (the wire tests
// check that the largest hello fits).
inline constexpr std::size_t k_max_hello_frame_bytes = 128 + k_max_token_bytes;

// A namespace's name: 1 to this many of [a-z0-9_-] (replica/namespaces.h). A key in
// any namespace but `default` is stored and carried with its namespace in front
// (NUL, name, NUL), so stored keys are longer than client keys by at most this.
inline constexpr std::size_t k_max_namespace_bytes = 32;
inline constexpr std::size_t k_namespace_key_overhead = k_max_namespace_bytes + 2;
// The most namespaces a cluster holds (they travel in every gossiped view).
inline constexpr std::size_t k_max_namespaces = 256;
// The most Redis logical databases a node maps to namespaces (SELECT 0..15, as Redis).
inline constexpr std::size_t k_max_resp_databases = 16;
// The most key prefixes a node maps to namespaces (resp_prefixes), and the longest
// prefix: both small, as each command's keys are matched against every prefix.
inline constexpr std::size_t k_max_resp_prefixes = 32;
inline constexpr std::size_t k_max_resp_prefix_bytes = 64;

// The longest media type a value may carry (a PUT's Content-Type, stored with it).
inline constexpr std::size_t k_max_content_type_bytes = 128;

// The most replicas a key may have (n, and so r, w, pr, pw, dw).
inline constexpr std::uint32_t k_max_replicas = 16;
// The longest time-to-live a write may ask for: ten years.
inline constexpr std::int64_t k_max_ttl_s = 10LL * 365 * 24 * 3600;

// The longest key a node stores or carries: a client key in its namespace.
constexpr std::size_t max_stored_key_bytes(const Limits& l) { return l.max_key_bytes + k_namespace_key_overhead; }

// The largest state a node stores or carries.
constexpr std::size_t max_carried_state_bytes(const Limits& l) {
    return l.max_state_bytes * k_state_merge_factor;
}
// The most bytes of states a coordinator keeps for data-type writes it sent to replicas
// as patches (replica::Node::deltas_), until each replica has answered or the put's
// deadline has passed; past it, writes replicate whole.
constexpr std::size_t max_pending_delta_bytes(const Limits& l) { return 4 * l.max_state_bytes; }
// The largest frame a peer or client may send: a batch or one carried state with its key.
constexpr std::size_t max_frame_bytes(const Limits& l) {
    const std::size_t one = max_carried_state_bytes(l) + max_stored_key_bytes(l);
    return (one > k_batch_bytes ? one : k_batch_bytes) + max_stored_key_bytes(l) + k_frame_overhead_bytes;
}
static_assert(max_frame_bytes(Limits{}) > Limits{}.max_value_bytes * 4);

// The largest max_state_bytes may be (config.cpp names it: 67108864); frames stay
// under ~129 MiB.
inline constexpr std::size_t k_max_state_bytes_limit = 64u << 20;
// Why `l` does not hold together ("" when it does): a state must hold at least one
// largest value with its key and a full client context.
std::string limits_problem(const Limits& l);

// Checks a client key and value against the limits; an empty key, or one that begins
// with a NUL byte (the mark of a namespaced stored key), is bad_request.
std::error_code check_key(const Limits& limits, std::string_view key);
// A namespace's name: 1 to k_max_namespace_bytes characters of [a-z0-9_-].
bool valid_namespace_name(std::string_view name);
// Checks a key as stored and carried between nodes: a client key, or a client key
// behind its namespace (NUL, a valid name, NUL).
std::error_code check_stored_key(const Limits& limits, std::string_view key);
std::error_code check_value(const Limits& limits, std::string_view value);

}  // namespace shoal
