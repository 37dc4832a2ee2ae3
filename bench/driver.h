// Drivers: one connection to a store, with asynchronous get/put/del on the caller's
// io_context. Three kinds: Shoal's native protocol (the client library), Shoal's HTTP
// API (a keep-alive HTTP/1.1 client of our own, one request in flight per
// connection), and RESP (Redis GET/SET/DEL, and SADD/SMEMBERS for carts kept as sets,
// pipelined), so redis-server runs under the same tool.
//
// Contract: the callback runs exactly once, on the io_context's thread, possibly before
// the call returns (a failure found at once). Not thread-safe: one io_context thread
// per connection. A connection that breaks fails what it had in flight and reconnects
// (to the next node of its list) for what comes next; a request that outlives its
// timeout fails with "timeout".
#pragma once

#include "tls/tls.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace boost::asio {
class io_context;
}

namespace shoal::bench {

enum class DriverKind { native, http, resp };
std::optional<DriverKind> parse_driver(std::string_view text);
std::string_view driver_name(DriverKind k);

struct Reply {
    bool ok = false;
    bool found = false;               // get: a value exists (not_found is ok, not an error)
    std::string error;                // short kind ("quorum_not_met", "http_503", "timeout")
    std::vector<std::string> values;  // get: one per sibling (HTTP: the JSON list for 300)
    std::string context;              // get: pass to the next put of this key
};
using Callback = std::function<void(Reply)>;

// Per-request knobs; 0 means "the store's default". RESP ignores all but timeout_ms.
struct Knobs {
    std::uint32_t n = 0, r = 0, w = 0, pr = 0, pw = 0;
    std::int64_t timeout_ms = 5000;
};

struct ConnectionOptions {
    std::vector<std::string> nodes;  // "host:port"; the first is tried first
    Knobs knobs;
    // RESP: the logical database every connection selects first (-1: none, Redis's 0),
    // and whether it reads at all replicas (SHOAL.OPTIONS R all; Shoal only).
    int resp_db = -1;
    bool resp_read_all = false;
    tls::Files tls;  // TLS to the nodes (a TLS dev cluster's CA and admin certificate); none: plain
};

class Connection {
public:
    virtual ~Connection() = default;
    virtual void get(const std::string& key, Callback done) = 0;
    virtual void put(const std::string& key, std::string_view value, const std::string& context, std::int64_t ttl_s,
                     Callback done) = 0;
    virtual void del(const std::string& key, const std::string& context, Callback done) = 0;
    // Sets (RESP only: SADD, SMEMBERS; the members come back as `values`). Other drivers
    // answer "unsupported".
    virtual void set_add(const std::string& key, const std::string& member, Callback done);
    virtual void set_members(const std::string& key, Callback done);
    virtual std::size_t outstanding() const = 0;
    // Fails everything outstanding (their callbacks run now, with "closed") and closes.
    virtual void close() = 0;
};

std::unique_ptr<Connection> make_native_connection(boost::asio::io_context& io, const ConnectionOptions& o);
std::unique_ptr<Connection> make_http_connection(boost::asio::io_context& io, const ConnectionOptions& o);
std::unique_ptr<Connection> make_resp_connection(boost::asio::io_context& io, const ConnectionOptions& o);
std::unique_ptr<Connection> make_connection(DriverKind kind, boost::asio::io_context& io,
                                            const ConnectionOptions& o);

// Exposed for tests: percent-encodes what is not unreserved or '/'.
std::string url_encode_key(std::string_view key);

}  // namespace shoal::bench
