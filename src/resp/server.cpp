#include "resp/server.h"

#include <chrono>
#include <exception>
#include <optional>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "net/listen.h"
#include "net/log.h"
#include "tls/stream.h"

namespace shoal::resp {

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;
using tcp = asio::ip::tcp;

namespace {

constexpr std::size_t k_read_chunk = 64 * 1024;

std::string endpoint_text(const tcp::endpoint& e) {
    return e.address().to_string() + ":" + std::to_string(e.port());
}

}  // namespace

struct RespServer::Impl : std::enable_shared_from_this<Impl> {
    Impl(asio::io_context& io, Core& c, ServerOptions o) : acceptor(io), core(c), options(std::move(o)) {}

    tcp::acceptor acceptor;
    Core& core;
    ServerOptions options;
    std::uint16_t port = 0;
    bool stopped = false;
    std::size_t active = 0;
    std::uint64_t rejected = 0;
    std::unordered_set<tls::Stream*> sockets;

    awaitable<void> accept_loop();
    awaitable<void> serve(tcp::socket socket, tcp::endpoint peer);
};

// One connection: bytes in, commands parsed off the front of the buffer, each run to
// its reply before the next (pipelined commands wait in the buffer), replies out.
// What outlives a suspension of this coroutine is shared, not captured by reference:
// the socket (the idle timer's handler may be queued when the connection ends) and
// the command's answer (the core may answer after the connection is gone).
awaitable<void> RespServer::Impl::serve(tcp::socket accepted, tcp::endpoint peer) {
    auto self = shared_from_this();
    auto socket = options.tls ? std::make_shared<tls::Stream>(std::move(accepted), options.tls->client_server())
                              : std::make_shared<tls::Stream>(std::move(accepted));
    struct Answer {
        explicit Answer(const asio::any_io_executor& ex) : ready(ex) {}
        asio::steady_timer ready;  // cancelled when the reply is in
        std::optional<std::string> reply;
        bool close = false;
    };
    auto answer = std::make_shared<Answer>(socket->get_executor());
    ++active;
    sockets.insert(socket.get());
    std::string in;
    std::vector<std::string> args;
    asio::steady_timer idle(socket->get_executor());
    // Closes the socket when no command arrives within the idle bound.
    const auto arm_idle = [&] {
        idle.expires_after(std::chrono::microseconds(options.idle_timeout.us));
        idle.async_wait([weak = std::weak_ptr<tls::Stream>(socket)](const boost::system::error_code& ec) {
            if (auto s = weak.lock(); s && !ec) s->close();
        });
    };
    arm_idle();
    bool close = false;
    SessionConfig config = options.session;
    if (socket->tls()) {
        boost::system::error_code ec;
        co_await socket->async_handshake(asio::ssl::stream_base::server, asio::redirect_error(use_awaitable, ec));
        if (ec) {
            log::info("resp tls handshake failed", "peer=" + endpoint_text(peer) + " error=" + log::quoted(ec.message()));
            close = true;
        }
        // What it may do until AUTH: its certificate's role, or the anonymous one.
        config.identity = socket->peer();
        config.role = tls::role_of(config.identity, options.tls->access());
    }
    Session session(core, std::move(config));
    while (!close && !stopped) {
        std::size_t consumed = 0;
        std::string error;
        const Parsed p = parse_command(in, options.limits, args, consumed, error);
        if (p == Parsed::bad) {
            std::string out;
            put_error(out, "ERR Protocol error: " + error);
            boost::system::error_code ec;
            co_await asio::async_write(*socket, asio::buffer(out), asio::redirect_error(use_awaitable, ec));
            log::info("resp protocol error, closing", "peer=" + endpoint_text(peer) + " reason=" + log::quoted(error));
            break;
        }
        if (p == Parsed::incomplete) {
            const std::size_t old = in.size();
            in.resize(old + k_read_chunk);
            boost::system::error_code ec;
            const std::size_t n = co_await socket->async_read_some(asio::buffer(in.data() + old, k_read_chunk),
                                                                   asio::redirect_error(use_awaitable, ec));
            in.resize(old + n);
            if (ec) break;
            continue;
        }
        in.erase(0, consumed);
        if (args.empty()) continue;  // a blank inline line
        arm_idle();
        // Run the command; its reply may come turns later (the core answers on this thread).
        answer->reply.reset();
        answer->ready.expires_at(asio::steady_timer::time_point::max());
        session.run(std::move(args), [answer](std::string r, bool quit) {
            answer->reply = std::move(r);
            answer->close = quit;
            answer->ready.cancel();
        });
        if (!answer->reply) {
            boost::system::error_code ec;
            co_await answer->ready.async_wait(asio::redirect_error(use_awaitable, ec));
        }
        if (!answer->reply) break;  // woken without a reply: stopping
        close = answer->close;
        boost::system::error_code ec;
        co_await asio::async_write(*socket, asio::buffer(*answer->reply), asio::redirect_error(use_awaitable, ec));
        if (ec) break;
        args.clear();
    }
    idle.cancel();
    sockets.erase(socket.get());
    socket->close();
    --active;
}

awaitable<void> RespServer::Impl::accept_loop() {
    auto self = shared_from_this();
    asio::steady_timer backoff(acceptor.get_executor());
    while (!stopped) {
        boost::system::error_code ec;
        tcp::socket socket = co_await acceptor.async_accept(asio::redirect_error(use_awaitable, ec));
        if (stopped || ec == asio::error::operation_aborted) break;
        if (ec) {
            log::warn("resp accept failed", "error=" + log::quoted(ec.message()));
            backoff.expires_after(std::chrono::milliseconds(100));
            co_await backoff.async_wait(asio::redirect_error(use_awaitable, ec));
            continue;
        }
        const tcp::endpoint peer = socket.remote_endpoint(ec);
        if (active >= options.max_connections) {
            ++rejected;
            static const std::string busy = "-ERR max number of clients reached\r\n";
            (void)socket.write_some(asio::buffer(busy), ec);
            socket.close(ec);
            continue;
        }
        socket.set_option(tcp::no_delay(true), ec);
        asio::co_spawn(acceptor.get_executor(), serve(std::move(socket), peer),
                       [](const std::exception_ptr& e) { log::log_exception("resp session failed", e); });
    }
}

RespServer::RespServer(asio::io_context& io, Core& core, ServerOptions options, std::error_code& ec)
    : impl_(std::make_shared<Impl>(io, core, std::move(options))) {
    ec.clear();
    Impl& s = *impl_;
    bool loopback = true;
    if (const auto bec = net::listen_on(s.acceptor, s.options.address, s.options.port, loopback)) {
        ec = bec;
        return;
    }
    boost::system::error_code bec;
    s.port = s.acceptor.local_endpoint(bec).port();
    log::info("resp listening", "address=" + log::quoted(s.options.address) + " port=" + std::to_string(s.port));
    if (!loopback && !s.options.tls)
        log::warn("the Redis-protocol listener is reachable beyond this machine without TLS",
                  "address=" + log::quoted(s.options.address) + " port=" + std::to_string(s.port));
    asio::co_spawn(io, s.accept_loop(),
                   [](const std::exception_ptr& e) { log::log_exception("resp accept loop failed", e); });
}

RespServer::~RespServer() {
    stop();
}

std::uint16_t RespServer::port() const {
    return impl_->port;
}
std::size_t RespServer::connections() const {
    return impl_->active;
}

void RespServer::stop() {
    Impl& s = *impl_;
    if (s.stopped) return;
    s.stopped = true;
    boost::system::error_code ec;
    s.acceptor.close(ec);
    for (tls::Stream* stream : s.sockets) stream->close();
}

}  // namespace shoal::resp
