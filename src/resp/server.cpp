#include "resp/server.h"

#include <chrono>
#include <deque>
#include <exception>
#include <optional>
#include <set>
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

struct Pipeline;

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
    awaitable<void> write_replies(std::shared_ptr<tls::Stream> socket, std::shared_ptr<Pipeline> pipe,
                                  std::shared_ptr<asio::steady_timer> done);
};

// A connection's commands between being read and their replies being written. Up to
// max_pipeline run at once (Session::concurrent_key says which may), and their replies
// leave in the order the commands came, several to a write.
struct Pipeline {
    explicit Pipeline(const asio::any_io_executor& ex) : reader_wake(ex), writer_wake(ex) {}
    struct Slot {
        std::optional<std::string> reply;
        bool close = false;  // QUIT, or a protocol error: the connection ends after this reply
    };
    std::deque<std::shared_ptr<Slot>> slots;  // in the order sent; popped once written
    std::multiset<std::string> keys;          // of the commands running
    std::size_t running = 0;
    bool alone = false;        // a command without a concurrent key is running
    bool reader_done = false;  // no command will be added
    bool broken = false;       // a write failed: nothing more is read or written
    bool writer_done = false;
    asio::steady_timer reader_wake, writer_wake;  // cancelled when a reply comes or a slot frees

    static void sleep_until_woken(asio::steady_timer& t) { t.expires_at(asio::steady_timer::time_point::max()); }
    void wake_both() {
        reader_wake.cancel();
        writer_wake.cancel();
    }
};

// One connection: a reader parses commands off the front of the buffer and starts each
// as soon as the pipeline lets it; a writer sends the replies in order.
// What outlives a suspension of either coroutine is shared, not captured by reference:
// the socket (the idle timer's handler may be queued when the connection ends) and
// the pipeline (the core may answer after the connection is gone).
awaitable<void> RespServer::Impl::serve(tcp::socket accepted, tcp::endpoint peer) {
    auto self = shared_from_this();
    auto socket = options.tls ? std::make_shared<tls::Stream>(std::move(accepted), options.tls->client_server())
                              : std::make_shared<tls::Stream>(std::move(accepted));
    auto pipe = std::make_shared<Pipeline>(socket->get_executor());
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
    auto writer_done = std::make_shared<asio::steady_timer>(socket->get_executor());
    Pipeline::sleep_until_woken(*writer_done);
    asio::co_spawn(socket->get_executor(), write_replies(socket, pipe, writer_done),
                   [](const std::exception_ptr& e) { log::log_exception("resp writer failed", e); });
    Session session(core, std::move(config));
    while (!close && !stopped && !pipe->broken) {
        std::size_t consumed = 0;
        std::string error;
        const Parsed p = parse_command(in, options.limits, args, consumed, error);
        if (p == Parsed::bad) {
            auto slot = std::make_shared<Pipeline::Slot>();
            slot->reply.emplace();
            put_error(*slot->reply, "ERR Protocol error: " + error);
            slot->close = true;
            pipe->slots.push_back(std::move(slot));
            pipe->writer_wake.cancel();
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
        // Wait until it may run: room in the pipeline, and nothing running it must not
        // overlap (the same key; anything at all, for a command that runs alone).
        const std::optional<std::string> key = session.concurrent_key(args);
        for (;;) {
            const bool room = pipe->slots.size() < options.max_pipeline && !pipe->alone;
            if (pipe->broken || stopped || (room && (key ? pipe->keys.count(*key) == 0 : pipe->running == 0))) break;
            Pipeline::sleep_until_woken(pipe->reader_wake);
            boost::system::error_code ec;
            co_await pipe->reader_wake.async_wait(asio::redirect_error(use_awaitable, ec));
        }
        if (pipe->broken || stopped) break;
        auto slot = std::make_shared<Pipeline::Slot>();
        pipe->slots.push_back(slot);
        ++pipe->running;
        if (key) pipe->keys.insert(*key);
        else pipe->alone = true;
        // Its reply may come turns later (the core answers on this thread), or at once.
        session.run(std::move(args), [pipe, slot, key](std::string r, bool quit) {
            slot->reply = std::move(r);
            slot->close = quit;
            --pipe->running;
            if (key) pipe->keys.erase(pipe->keys.find(*key));
            else pipe->alone = false;
            pipe->wake_both();
        });
        close = slot->close;  // QUIT runs alone and answers at once
        args.clear();
    }
    pipe->reader_done = true;
    pipe->writer_wake.cancel();
    if (!pipe->writer_done) {
        boost::system::error_code ec;
        co_await writer_done->async_wait(asio::redirect_error(use_awaitable, ec));
    }
    idle.cancel();
    sockets.erase(socket.get());
    socket->close();
    --active;
}

// The replies of one connection, in order: every reply ready at the front goes out in
// one write. Ends when the reader is done and nothing is left to answer, after a reply
// that closes the connection, or when a write fails.
awaitable<void> RespServer::Impl::write_replies(std::shared_ptr<tls::Stream> socket, std::shared_ptr<Pipeline> pipe,
                                                std::shared_ptr<asio::steady_timer> done) {
    std::string out;
    bool close = false;
    while (!close) {
        out.clear();
        while (!close && !pipe->slots.empty() && pipe->slots.front()->reply) {
            out += *pipe->slots.front()->reply;
            close = pipe->slots.front()->close;
            pipe->slots.pop_front();
        }
        if (!out.empty()) {
            pipe->reader_wake.cancel();  // room for another command
            boost::system::error_code ec;
            co_await asio::async_write(*socket, asio::buffer(out), asio::redirect_error(use_awaitable, ec));
            if (ec) break;
            continue;
        }
        // Stopping: the reader is gone; what is still running answers to no one.
        if (pipe->reader_done && (pipe->slots.empty() || stopped)) break;
        Pipeline::sleep_until_woken(pipe->writer_wake);
        boost::system::error_code ec;
        co_await pipe->writer_wake.async_wait(asio::redirect_error(use_awaitable, ec));
    }
    pipe->broken = true;
    pipe->writer_done = true;
    pipe->reader_wake.cancel();
    socket->close();  // a reader still waiting for bytes stops
    done->cancel();
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
