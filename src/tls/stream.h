// One TCP connection, with or without TLS over it: what every Shoal listener and link
// reads and writes through, so each is written once for both. Meets Asio's
// AsyncReadStream and AsyncWriteStream, for callbacks and coroutines alike. Brings in
// Asio's SSL (and OpenSSL): include it from .cpp files only.
#pragma once

#include <optional>
#include <string>
#include <utility>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/stream.hpp>

#include "tls/context.h"
#include "tls/identity.h"

namespace shoal::tls {

class Stream {
public:
    using tcp = boost::asio::ip::tcp;
    using executor_type = tcp::socket::executor_type;
    using Tls = boost::asio::ssl::stream<tcp::socket>;

    // Plain TCP.
    explicit Stream(tcp::socket socket) : socket_(std::move(socket)) {}
    // TLS over `socket`, with `context` (the Stream keeps it alive).
    Stream(tcp::socket socket, std::shared_ptr<Context> context)
        : socket_(socket.get_executor()), context_(std::move(context)), tls_(std::in_place, std::move(socket), *context_) {
        // Asio asks OpenSSL to free a connection's record buffers whenever they empty,
        // so every record allocated and freed ~17 KiB twice over. Kept instead: ~34 KiB
        // per TLS connection (bounded by the listeners' connection limits) for ~2% of
        // a node's instructions under load (callgrind, 1 node, TLS, preset a).
        SSL_clear_mode(tls_->native_handle(), SSL_MODE_RELEASE_BUFFERS);
    }
    // A fresh socket, not yet connected; TLS when `context` is set.
    Stream(const executor_type& ex, std::shared_ptr<Context> context)
        : Stream(make(ex, std::move(context))) {}
    Stream(Stream&&) = default;
    Stream& operator=(Stream&&) = default;

    bool tls() const { return tls_.has_value(); }
    tcp::socket& socket() { return tls_ ? tls_->next_layer() : socket_; }
    executor_type get_executor() { return socket().get_executor(); }
    Tls& tls_stream() { return *tls_; }

    // Client side: the server's certificate must name `host` (IP or DNS); sent as SNI.
    void expect_host(const std::string& host) {
        if (!tls_) return;
        tls_->set_verify_callback(boost::asio::ssl::host_name_verification(host));
        SSL_set_tlsext_host_name(tls_->native_handle(), host.c_str());
    }
    // The verified identity of the other end (none for plain TCP or no certificate).
    Identity peer() { return tls_ ? peer_identity(tls_->native_handle()) : Identity{}; }

    // The TLS handshake; completes at once, without error, for plain TCP.
    template <class Token>
    auto async_handshake(boost::asio::ssl::stream_base::handshake_type side, Token&& token) {
        if (tls_) return tls_->async_handshake(side, std::forward<Token>(token));
        return boost::asio::async_initiate<Token, void(boost::system::error_code)>(
            [](auto handler, executor_type ex) {
                boost::asio::post(ex, [h = std::move(handler)]() mutable { h(boost::system::error_code{}); });
            },
            token, socket_.get_executor());
    }

    template <class Buffers, class Token>
    auto async_read_some(const Buffers& buffers, Token&& token) {
        if (tls_) return tls_->async_read_some(buffers, std::forward<Token>(token));
        return socket_.async_read_some(buffers, std::forward<Token>(token));
    }
    template <class Buffers, class Token>
    auto async_write_some(const Buffers& buffers, Token&& token) {
        if (tls_) return tls_->async_write_some(buffers, std::forward<Token>(token));
        return socket_.async_write_some(buffers, std::forward<Token>(token));
    }

    // Closes the socket (no TLS close_notify: every Shoal protocol frames its own end).
    void close() {
        boost::system::error_code ignored;
        socket().close(ignored);
    }

private:
    static Stream make(const executor_type& ex, std::shared_ptr<Context> context) {
        if (context) return Stream(tcp::socket(ex), std::move(context));
        return Stream(tcp::socket(ex));
    }

    tcp::socket socket_;  // the connection, when plain; an unused one under TLS
    std::shared_ptr<Context> context_;
    std::optional<Tls> tls_;
};

}  // namespace shoal::tls
