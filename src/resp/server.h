// The Redis-protocol listener (resp_listen): accepts connections, reads commands
// (protocol.h) within bounds, runs them one at a time per connection through a Session
// (session.h), writes the replies. Asio is included only in server.cpp.
#pragma once

#include "tls/tls.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <system_error>

#include "core/types.h"
#include "resp/protocol.h"
#include "resp/session.h"

namespace boost::asio {
class io_context;
}

namespace shoal::resp {

struct ServerOptions {
    std::string address = "127.0.0.1";
    std::uint16_t port = 0;  // 0: the OS picks; see RespServer::port()
    std::size_t max_connections = 1024;
    Duration idle_timeout = Duration::seconds(300);  // a connection with no command this long is closed
    ParseLimits limits;                              // max_bulk_bytes: the node's max_value_bytes
    // Commands of one connection read ahead of their replies (a client's pipeline): they
    // run at once when on different keys, and their replies wait in order. What one
    // connection may hold is this many replies.
    std::size_t max_pipeline = 32;
    SessionConfig session;
    // TLS with the node's client-facing context (nullptr: plain TCP; redis-cli --tls).
    std::shared_ptr<const tls::NodeContexts> tls;
};

class RespServer {
public:
    // Binds and starts accepting; errors (address in use, ...) come back in ec.
    RespServer(boost::asio::io_context& io, Core& core, ServerOptions options, std::error_code& ec);
    ~RespServer();
    RespServer(const RespServer&) = delete;
    RespServer& operator=(const RespServer&) = delete;

    std::uint16_t port() const;
    std::size_t connections() const;
    // Stops accepting and closes every connection.
    void stop();

    struct Impl;

private:
    std::shared_ptr<Impl> impl_;
};

}  // namespace shoal::resp
