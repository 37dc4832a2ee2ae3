#include "resp/server.h"

#include <chrono>
#include <exception>
#include <optional>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "net/log.h"

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
    std::unordered_set<tcp::socket*> sockets;

    awaitable<void> accept_loop();
    awaitable<void> serve(tcp::socket socket, tcp::endpoint peer);
};

// One connection: bytes in, commands parsed off the front of the buffer, each run to
// its reply before the next (pipelined commands wait in the buffer), replies out.
awaitable<void> RespServer::Impl::serve(tcp::socket socket, tcp::endpoint peer) {
    auto self = shared_from_this();
    ++active;
    sockets.insert(&socket);
    Session session(core, options.session);
    std::string in, out;
    std::vector<std::string> args;
    asio::steady_timer idle(socket.get_executor()), wait(socket.get_executor());
    bool close = false;
    // Closes the socket when no command arrives within the idle bound.
    const auto arm_idle = [&] {
        idle.expires_after(std::chrono::microseconds(options.idle_timeout.us));
        idle.async_wait([&socket](const boost::system::error_code& ec) {
            if (!ec) socket.close();
        });
    };
    arm_idle();
    while (!close && !stopped) {
        std::size_t consumed = 0;
        std::string error;
        const Parsed p = parse_command(in, options.limits, args, consumed, error);
        if (p == Parsed::bad) {
            out.clear();
            put_error(out, "ERR Protocol error: " + error);
            boost::system::error_code ec;
            co_await asio::async_write(socket, asio::buffer(out), asio::redirect_error(use_awaitable, ec));
            log::info("resp protocol error, closing", "peer=" + endpoint_text(peer) + " reason=" + log::quoted(error));
            break;
        }
        if (p == Parsed::incomplete) {
            const std::size_t old = in.size();
            in.resize(old + k_read_chunk);
            boost::system::error_code ec;
            const std::size_t n = co_await socket.async_read_some(asio::buffer(in.data() + old, k_read_chunk),
                                                                  asio::redirect_error(use_awaitable, ec));
            in.resize(old + n);
            if (ec) break;
            continue;
        }
        in.erase(0, consumed);
        if (args.empty()) continue;  // a blank inline line
        arm_idle();
        // Run the command; its reply may come turns later (the core answers on this thread).
        std::optional<std::string> reply;
        wait.expires_at(asio::steady_timer::time_point::max());
        session.run(std::move(args), [&](std::string r, bool quit) {
            reply = std::move(r);
            close = quit;
            wait.cancel();
        });
        if (!reply) {
            boost::system::error_code ec;
            co_await wait.async_wait(asio::redirect_error(use_awaitable, ec));
        }
        if (!reply) break;  // stopping
        boost::system::error_code ec;
        co_await asio::async_write(socket, asio::buffer(*reply), asio::redirect_error(use_awaitable, ec));
        if (ec) break;
        args.clear();
    }
    idle.cancel();
    sockets.erase(&socket);
    boost::system::error_code ignored;
    socket.close(ignored);
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
        asio::co_spawn(acceptor.get_executor(), serve(std::move(socket), peer), [](const std::exception_ptr& e) {
            if (!e) return;
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& x) {
                log::warn("resp session failed", "error=" + log::quoted(x.what()));
            }
        });
    }
}

RespServer::RespServer(asio::io_context& io, Core& core, ServerOptions options, std::error_code& ec)
    : impl_(std::make_shared<Impl>(io, core, std::move(options))) {
    ec.clear();
    Impl& s = *impl_;
    boost::system::error_code bec;
    const auto address = asio::ip::make_address(s.options.address, bec);
    if (bec) {
        ec = bec;
        return;
    }
    const tcp::endpoint endpoint(address, s.options.port);
    if (s.acceptor.open(endpoint.protocol(), bec); bec) {
        ec = bec;
        return;
    }
    s.acceptor.set_option(asio::socket_base::reuse_address(true), bec);
    if (s.acceptor.bind(endpoint, bec); !bec) s.acceptor.listen(asio::socket_base::max_listen_connections, bec);
    if (bec) {
        ec = bec;
        s.acceptor.close(bec);
        return;
    }
    s.port = s.acceptor.local_endpoint(bec).port();
    log::info("resp listening", "address=" + log::quoted(s.options.address) + " port=" + std::to_string(s.port));
    if (!address.is_loopback())
        log::warn("the Redis-protocol listener is reachable beyond this machine (no authentication, no TLS)",
                  "address=" + log::quoted(s.options.address) + " port=" + std::to_string(s.port));
    asio::co_spawn(io, s.accept_loop(), asio::detached);
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
    for (tcp::socket* sock : s.sockets) sock->close(ec);
}

}  // namespace shoal::resp
