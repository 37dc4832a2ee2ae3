// The HTTP API's socket half (Boost.Beast): listens, reads bounded requests with
// keep-alive, routes them through api.h, and asks the Backend for what the core
// knows. Beast is included only in server.cpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <system_error>

#include "core/types.h"
#include "http/api.h"
#include "replica/messages.h"
#include "tls/tls.h"

namespace boost::asio {
class io_context;
}

namespace shoal::http {

// What the HTTP layer needs from the node. Every call is made on the io_context's
// thread, the node's loop thread.
class Backend {
public:
    virtual ~Backend() = default;
    // Hands a request to the core; `done` is called once, on the loop thread.
    virtual void submit(replica::ClientRequest request, std::function<void(replica::ClientReply)> done) = 0;
    virtual std::string cluster_json() = 0;
    virtual std::string metrics_text() = 0;
    // What /health answers: 200 while the node serves (read_only included), else 503;
    // `json` is the body.
    struct Health {
        bool serving = true;
        std::string json;
    };
    virtual Health health() = 0;
    // A membership command (api.h); the answer is the response to send.
    virtual Response membership(const MembershipCall& call) = 0;
    // A namespace command (api.h), and the namespaces requests are checked against.
    virtual Response namespaces(const NamespaceCall& call) = 0;
    virtual const replica::Namespaces& namespaces() const = 0;
};

struct ServerOptions {
    std::string address = "127.0.0.1";
    std::uint16_t port = 0;  // 0: the OS picks; see HttpServer::port()
    std::size_t max_body_bytes = 1024 * 1024 + 1024;
    std::size_t max_header_bytes = 16 * 1024;
    std::size_t max_connections = 1024;
    Duration idle_timeout = Duration::seconds(60);
    Duration read_timeout = Duration::seconds(30);
    RequestDefaults defaults;  // the node's n, r, w: for 400s that name the bound broken
    // HTTPS with the node's client-facing context (nullptr: plain HTTP).
    std::shared_ptr<const tls::NodeContexts> tls;
};

class HttpServer {
public:
    // Binds and starts accepting. Errors (address in use, ...) are returned in ec.
    HttpServer(boost::asio::io_context& io, Backend& backend, ServerOptions options, std::error_code& ec);
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    std::uint16_t port() const;
    std::size_t connections() const;
    // Stops accepting and closes every connection.
    void stop();

private:
    struct Impl;
    std::shared_ptr<Impl> impl_;
};

}  // namespace shoal::http
