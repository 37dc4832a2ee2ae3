// shoald's settings: from command-line flags and an optional config file with the
// same keys ("key = value" lines, '#' comments). Flags win over the file. Every
// value is validated; a bad one is an error naming the key.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/limits.h"
#include "replica/node.h"
#include "store/store.h"
#include "tls/tls.h"

namespace shoal::server {

struct NodeOptions {
    std::uint32_t id = 0;                        // id: required, 1..4294967295
    std::string zone;                            // zone
    std::string peer_listen = "127.0.0.1:7101";  // peer_listen
    std::string client_listen = "127.0.0.1:7102";
    std::string http_listen = "127.0.0.1:7103";
    std::string resp_listen = "127.0.0.1:7104";  // the Redis-protocol listener; "off": none
    std::vector<std::string> resp_databases{"default"};  // Redis database i -> namespace
    std::vector<std::pair<std::string, std::string>> resp_prefixes;  // Redis key prefix -> namespace
    std::string data_dir;                   // data_dir: required
    std::vector<std::string> seeds;         // seeds: HOST:PORT,... (peer addresses)
    std::int64_t gossip_interval_ms = 1000;
    std::uint32_t partitions = 64;
    std::uint32_t n = 3, r = 2, w = 2;
    store::SyncMode sync = store::SyncMode::batch;
    std::size_t read_cache_mb = 32;  // hot stored values kept in memory in front of LevelDB (0: none)
    bool compression = false;        // LevelDB snappy block compression
    replica::ConflictMode conflict = replica::ConflictMode::dvv;
    Limits limits;
    bool state_bytes_set = false;  // max_state_bytes was given (else derived from max_value_bytes)
    std::int64_t request_timeout_ms = 2000;
    replica::ReadFanout read_fanout = replica::ReadFanout::quorum;
    std::int64_t read_retry_ms = 20;
    std::size_t max_client_connections = 1024;
    std::size_t max_http_connections = 1024;
    std::size_t max_resp_connections = 1024;
    std::string log_level = "info";
    std::int64_t clock_offset_ms = 0;  // chaos tests only: this node's wall clock reads that far off
    // TLS on every listener: tls_ca, tls_cert, tls_key (all three, or none), tls_ciphers,
    // tls_min_version. Without TLS every listener must be on loopback, unless
    // insecure = true says in so many words that it may be reached in the clear.
    tls::Files tls;
    bool insecure = false;
    // Under TLS, what a client that presents neither a certificate nor a token may do
    // (anonymous_role = none | readonly | readwrite | admin). tokens_file: tls/tokens.h.
    tls::Role anonymous_role = tls::Role::none;
    // Repair.
    bool hinted_handoff = true;         // hinted_handoff = on | off
    bool anti_entropy = true;           // anti_entropy = on | off
    std::int64_t hint_interval_ms = 200;
    std::uint64_t max_hints = 100000;
    std::uint64_t max_hint_bytes = 256ULL << 20;
    std::int64_t ae_interval_ms = 250;
    std::int64_t scrub_interval_ms = 10000;
    std::int64_t tombstone_grace_s = 24 * 3600;
};

// Parses argv (after the program name). Returns "" on success, else an error
// message; sets `help` when --help was asked for.
std::string parse_options(int argc, char** argv, NodeOptions& out, bool& help);

// "" when the TLS settings hold together: all three files or none, and without TLS no
// listener beyond loopback unless insecure.
std::string tls_problem(const NodeOptions& o);

// The --help text, listing every key.
std::string usage();

}  // namespace shoal::server
