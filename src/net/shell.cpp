#include "net/shell.h"

#include <boost/asio.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>

#include <chrono>
#include <cstdio>
#include <map>
#include <unordered_map>

#include "core/assert.h"
#include "net/log.h"
#include "net/metrics.h"
#include "net/node_metrics.h"
#include "wire/wire.h"

namespace shoal::net {

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;
using asio::ip::tcp;

namespace {

Time wall_now() {
    return Time{
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count()};
}

std::string fields_peer(NodeId id, std::string_view extra = {}) {
    std::string f = "peer=" + std::to_string(id.value);
    if (!extra.empty()) {
        f += ' ';
        f += extra;
    }
    return f;
}

// A JSON string literal: quotes, backslashes and control characters escaped.
std::string json_string(std::string_view s) {
    std::string out = "\"";
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (u < 0x20) {
            char esc[8];
            std::snprintf(esc, sizeof esc, "\\u%04x", u);
            out += esc;
        } else {
            out += c;
        }
    }
    return out + "\"";
}

}  // namespace

// ---- outbound link to one peer ---------------------------------------------------------

namespace {

// Writes whatever gathers in `pending` (others append to it and cancel `wake`), one
// write per batch, so frames that piled up while a write was in flight go out
// together. Returns when `stop` turns true or a write fails.
awaitable<boost::system::error_code> write_batches(tcp::socket& socket, std::string& pending, std::string& writing,
                                                   asio::steady_timer& wake, const bool& stop) {
    boost::system::error_code ec;
    while (!stop) {
        if (pending.empty()) {
            wake.expires_at(asio::steady_timer::time_point::max());
            boost::system::error_code wait_ec;
            co_await wake.async_wait(asio::redirect_error(use_awaitable, wait_ec));
            continue;
        }
        writing.clear();
        std::swap(writing, pending);
        co_await asio::async_write(socket, asio::buffer(writing), asio::redirect_error(use_awaitable, ec));
        if (ec) break;
    }
    co_return ec;
}

// Reads frames from `socket` and hands each to `on_frame` until the connection ends,
// `stop` turns true, or a frame is malformed or refused. Returns why it refused ("" when
// the connection simply ended). `on_frame` returns "" to accept a frame, else the reason.
// (Callers pass named std::function objects: GCC 12 mishandles lambda temporaries
// inside co_await expressions.)
awaitable<std::string> read_frames(tcp::socket& socket, std::size_t max_frame_bytes, const bool& stop,
                                   const std::function<std::string(wire::Frame&)>& on_frame) {
    wire::FrameReader reader(max_frame_bytes);
    std::vector<char> buf(64 * 1024);
    wire::Frame frame;
    while (!stop) {
        boost::system::error_code ec;
        const std::size_t n =
            co_await socket.async_read_some(asio::buffer(buf), asio::redirect_error(use_awaitable, ec));
        if (ec) break;
        reader.feed({buf.data(), n});
        std::error_code bad;
        for (;;) {
            const auto status = reader.next(frame, bad);
            if (status == wire::FrameReader::Status::need_more) break;
            if (status == wire::FrameReader::Status::error) co_return "bad frame: " + bad.message();
            if (std::string why = on_frame(frame); !why.empty()) co_return why;
        }
    }
    co_return std::string();
}

class PeerLink : public std::enable_shared_from_this<PeerLink> {
public:
    PeerLink(asio::io_context& io, NodeId self, PeerAddress to, std::size_t limit, Metrics& metrics)
        : socket_(io), wake_(io), retry_(io), self_(self), to_(std::move(to)), limit_(limit), metrics_(metrics) {}

    void enqueue(const replica::PeerMessage& message) {
        // While (re)connecting, messages wait in the queue and go out on connect; a
        // failed attempt drops them. Past the bound they are dropped at once: the
        // core's timeouts and retries cover both.
        if (queue_.size() >= limit_) {
            ++metrics_.peer_messages_dropped;
            return;
        }
        if (queue_.empty()) queued_ = 0;  // the writer took the earlier ones
        wire::encode_peer(message, queue_);
        ++queued_;
        ++metrics_.peer_messages_out;
        wake_.cancel();
    }

    void stop() {
        stopped_ = true;
        boost::system::error_code ignored;
        socket_.close(ignored);
        wake_.cancel();
        retry_.cancel();
    }

    awaitable<void> run() {
        auto self = shared_from_this();
        Duration backoff = Duration::millis(50);
        while (!stopped_) {
            boost::system::error_code ec;
            tcp::endpoint ep(asio::ip::make_address(to_.host, ec), to_.port);
            if (!ec) co_await socket_.async_connect(ep, asio::redirect_error(use_awaitable, ec));
            if (!ec) ec = co_await pump();
            metrics_.peer_messages_dropped += queue_.empty() ? 0 : queued_;
            queue_.clear();
            boost::system::error_code ignored;
            socket_.close(ignored);
            if (stopped_) break;
            if (was_connected_) log::warn("peer link down", fields_peer(to_.id, "error=" + log::quoted(ec.message())));
            was_connected_ = false;
            retry_.expires_after(std::chrono::microseconds(backoff.us));
            co_await retry_.async_wait(asio::redirect_error(use_awaitable, ec));
            backoff = std::min(backoff * 2, Duration::millis(500));
        }
    }

private:
    awaitable<boost::system::error_code> pump() {
        boost::system::error_code ec;
        socket_.set_option(tcp::no_delay(true), ec);
        std::string hello;
        wire::encode_hello(wire::Hello{wire::Hello::Role::peer, self_, 1}, hello);
        co_await asio::async_write(socket_, asio::buffer(hello), asio::redirect_error(use_awaitable, ec));
        if (ec) co_return ec;
        was_connected_ = true;
        log::info("peer link up", fields_peer(to_.id));
        co_return co_await write_batches(socket_, queue_, writing_, wake_, stopped_);
    }

    tcp::socket socket_;
    asio::steady_timer wake_;
    asio::steady_timer retry_;
    NodeId self_;
    PeerAddress to_;
    std::size_t limit_;
    Metrics& metrics_;
    std::string queue_, writing_;
    std::size_t queued_ = 0;  // messages in queue_
    bool was_connected_ = false;
    bool stopped_ = false;
};

// One native client connection: replies are appended to `out` and written in batches.
struct ClientConn : std::enable_shared_from_this<ClientConn> {
    ClientConn(tcp::socket s) : socket(std::move(s)), wake(socket.get_executor()) {}
    tcp::socket socket;
    asio::steady_timer wake;
    std::string out, writing;
    std::size_t inflight = 0;
    bool closed = false;

    void close() {
        closed = true;
        boost::system::error_code ignored;
        socket.close(ignored);
        wake.cancel();
    }
};

}  // namespace

// ---- the shell ------------------------------------------------------------------------

struct Shell::Impl : std::enable_shared_from_this<Shell::Impl> {
    struct Pending {
        std::function<void(replica::ClientReply)> done;
        replica::ClientOp op;
        Time started;
    };

    Impl(asio::io_context& io, replica::Node& node, store::BufferedStore& store, ShellConfig config)
        : io_(io),
          node_(node),
          store_(store),
          config_(std::move(config)),
          peer_acceptor_(io),
          client_acceptor_(io),
          tick_timer_(io) {
        if (config_.max_frame_bytes == 0) config_.max_frame_bytes = wire::k_default_max_frame_bytes;
    }

    std::error_code bind(tcp::acceptor& acceptor, const std::string& host, std::uint16_t port, const char* what) {
        boost::system::error_code ec;
        auto addr = asio::ip::make_address(host, ec);
        if (ec) return std::make_error_code(std::errc::invalid_argument);
        tcp::endpoint ep(addr, port);
        acceptor.open(ep.protocol(), ec);
        if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
        if (!ec) acceptor.bind(ep, ec);
        if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
        if (ec) {
            log::error("cannot listen", std::string("listener=") + what + " address=" + host + ":" +
                                            std::to_string(port) + " error=" + log::quoted(ec.message()));
            return std::make_error_code(static_cast<std::errc>(ec.value()));
        }
        if (!is_loopback_host(host)) {
            log::warn("listener bound beyond loopback: reachable from other machines",
                      std::string("listener=") + what + " address=" + host);
        }
        return {};
    }

    void start() {
        auto self = shared_from_this();
        for (const auto& m : config_.members) {
            if (m.id == config_.id) continue;
            auto link = std::make_shared<PeerLink>(io_, config_.id, m, config_.peer_queue_bytes, metrics_);
            links_.emplace(m.id.value, link);
            asio::co_spawn(io_, link->run(), asio::detached);
        }
        asio::co_spawn(io_, accept_peers(), asio::detached);
        asio::co_spawn(io_, accept_clients(), asio::detached);
        asio::co_spawn(io_, tick_loop(), asio::detached);
    }

    void schedule_flush() {
        if (flush_scheduled_) return;
        flush_scheduled_ = true;
        asio::post(io_, [self = shared_from_this()] { self->flush(); });
    }

    // The end of a loop turn: group commit, then send.
    void flush() {
        flush_scheduled_ = false;
        node_.take_output(outbox_);
        std::error_code ec = store_.commit(config_.sync);
        ++metrics_.commits;
        if (ec) {
            // The turn's writes are gone: nothing may acknowledge them.
            ++metrics_.commit_errors;
            log::error("store commit failed; dropping this turn's acknowledgements",
                       "error=" + log::quoted(ec.message()));
            outbox_.messages.clear();
            for (auto& r : outbox_.replies) r = replica::ClientReply{r.token, errc::store_error};
            node_.reload_from_store();
        }
        for (auto& env : outbox_.messages) {
            auto it = links_.find(env.to.value);
            if (it != links_.end()) it->second->enqueue(env.msg);
        }
        const Time now = wall_now();
        for (auto& reply : outbox_.replies) deliver(now, reply);
    }

    void deliver(Time now, replica::ClientReply& reply) {
        auto it = pending_.find(reply.token);
        if (it == pending_.end()) return;
        Pending p = std::move(it->second);
        pending_.erase(it);
        const int op = static_cast<int>(p.op);
        const bool ok = reply.code == errc::ok || reply.code == errc::not_found;
        ++(ok ? metrics_.requests_ok[op] : metrics_.requests_failed[op]);
        LatencyHistogram& h = p.op == replica::ClientOp::get   ? metrics_.get_latency
                              : p.op == replica::ClientOp::put ? metrics_.put_latency
                                                               : metrics_.del_latency;
        h.record(now - p.started);
        p.done(std::move(reply));
    }

    void submit(replica::ClientRequest request, std::function<void(replica::ClientReply)> done) {
        if (stopping_) {
            done(replica::ClientReply{0, errc::shutting_down});
            return;
        }
        const replica::ClientToken token = next_token_++;
        const Time now = wall_now();
        pending_.emplace(token, Pending{std::move(done), request.op, now});
        node_.submit(now, token, std::move(request));
        schedule_flush();
    }

    awaitable<void> tick_loop() {
        auto self = shared_from_this();
        while (!stopped_) {
            tick_timer_.expires_after(std::chrono::microseconds(config_.tick.us));
            boost::system::error_code ec;
            co_await tick_timer_.async_wait(asio::redirect_error(use_awaitable, ec));
            if (stopped_) break;
            node_.tick(wall_now());
            flush();
        }
    }

    awaitable<void> accept_peers() {
        auto self = shared_from_this();
        while (!stopped_) {
            boost::system::error_code ec;
            tcp::socket s = co_await peer_acceptor_.async_accept(asio::redirect_error(use_awaitable, ec));
            if (ec) {
                if (stopped_ || ec == asio::error::operation_aborted) break;
                continue;
            }
            asio::co_spawn(io_, serve_peer(std::move(s)), asio::detached);
        }
    }

    bool is_member(NodeId id) const {
        for (const auto& m : config_.members) {
            if (m.id == id) return true;
        }
        return false;
    }

    awaitable<void> serve_peer(tcp::socket socket) {
        auto self = shared_from_this();
        NodeId from;
        const std::function<std::string(wire::Frame&)> on_frame = [this, &from](wire::Frame& frame) -> std::string {
            if (!from.valid()) {
                if (frame.kind != wire::Frame::Kind::hello || frame.hello.role != wire::Hello::Role::peer ||
                    !is_member(frame.hello.node) || frame.hello.node == config_.id) {
                    return "first frame is not a hello from a member";
                }
                from = frame.hello.node;
                return {};
            }
            if (frame.kind != wire::Frame::Kind::peer) return "unexpected frame kind on a peer connection";
            ++metrics_.peer_messages_in;
            node_.step(wall_now(), from, std::move(frame.peer));
            schedule_flush();
            return {};
        };
        const std::string why = co_await read_frames(socket, config_.max_frame_bytes, stopped_, on_frame);
        if (!why.empty()) {
            ++metrics_.bad_frames;
            log::warn("closing peer connection", fields_peer(from, "reason=" + log::quoted(why)));
        }
        boost::system::error_code ignored;
        socket.close(ignored);
    }

    awaitable<void> accept_clients() {
        auto self = shared_from_this();
        while (!stopped_) {
            boost::system::error_code ec;
            tcp::socket s = co_await client_acceptor_.async_accept(asio::redirect_error(use_awaitable, ec));
            if (ec) {
                if (stopped_ || ec == asio::error::operation_aborted) break;
                continue;
            }
            if (client_conns_ >= config_.max_client_connections) {
                log::warn("client connection refused: limit reached",
                          "limit=" + std::to_string(config_.max_client_connections));
                s.close(ec);
                continue;
            }
            s.set_option(tcp::no_delay(true), ec);
            ++metrics_.client_connections;
            auto conn = std::make_shared<ClientConn>(std::move(s));
            asio::co_spawn(io_, serve_client(conn), asio::detached);
            asio::co_spawn(io_, write_client(conn), asio::detached);
        }
    }

    awaitable<void> write_client(std::shared_ptr<ClientConn> c) {
        auto self = shared_from_this();
        if (co_await write_batches(c->socket, c->out, c->writing, c->wake, c->closed)) c->close();
    }

    void on_client_frame(const std::shared_ptr<ClientConn>& c, wire::ClientFrame& f) {
        if (c->inflight >= config_.max_inflight_per_connection) {
            wire::encode_reply(f.request_id, replica::ClientReply{0, errc::overloaded}, c->out);
            c->wake.cancel();
            return;
        }
        ++c->inflight;
        std::weak_ptr<ClientConn> weak = c;
        const std::uint64_t id = f.request_id;
        submit(std::move(f.request), [weak, id](replica::ClientReply reply) {
            auto conn = weak.lock();
            if (!conn || conn->closed) return;
            --conn->inflight;
            wire::encode_reply(id, reply, conn->out);
            conn->wake.cancel();
        });
    }

    awaitable<void> serve_client(std::shared_ptr<ClientConn> c) {
        auto self = shared_from_this();
        ++client_conns_;
        bool greeted = false;
        const std::function<std::string(wire::Frame&)> on_frame = [this, &c,
                                                                   &greeted](wire::Frame& frame) -> std::string {
            if (!greeted) {
                if (frame.kind != wire::Frame::Kind::hello) return "first frame is not a hello";
                greeted = true;
                return {};
            }
            if (frame.kind != wire::Frame::Kind::client_request) return "unexpected frame kind on a client connection";
            on_client_frame(c, frame.request);
            return {};
        };
        // A closed connection (its writer failed) also ends the read: its socket is closed.
        const std::string why = co_await read_frames(c->socket, config_.max_frame_bytes, stopped_, on_frame);
        if (!why.empty()) {
            ++metrics_.bad_frames;
            log::warn("closing client connection", "reason=" + log::quoted(why));
        }
        --client_conns_;
        // Let queued replies go out before closing, unless the peer is gone.
        if (why.empty())
            c->close();
        else
            asio::post(io_, [c] { c->close(); });
    }

    void stop(Duration grace, std::function<void()> done) {
        stopping_ = true;
        boost::system::error_code ignored;
        peer_acceptor_.close(ignored);
        client_acceptor_.close(ignored);
        asio::co_spawn(io_, drain(grace, std::move(done)), asio::detached);
    }

    awaitable<void> drain(Duration grace, std::function<void()> done) {
        auto self = shared_from_this();
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::microseconds(grace.us);
        asio::steady_timer t(io_);
        while (!pending_.empty() && std::chrono::steady_clock::now() < deadline) {
            t.expires_after(std::chrono::milliseconds(10));
            boost::system::error_code ec;
            co_await t.async_wait(asio::redirect_error(use_awaitable, ec));
        }
        flush();
        if (auto ec = store_.sync()) log::error("final sync failed", "error=" + log::quoted(ec.message()));
        stopped_ = true;
        tick_timer_.cancel();
        for (auto& [id, link] : links_) link->stop();
        log::info("stopped", "unanswered=" + std::to_string(pending_.size()));
        done();
    }

    std::string cluster_json();
    std::string metrics_text();

    asio::io_context& io_;
    replica::Node& node_;
    store::BufferedStore& store_;
    ShellConfig config_;
    tcp::acceptor peer_acceptor_;
    tcp::acceptor client_acceptor_;
    asio::steady_timer tick_timer_;
    std::map<std::uint32_t, std::shared_ptr<PeerLink>> links_;
    std::unordered_map<replica::ClientToken, Pending> pending_;
    replica::ClientToken next_token_ = 1;
    replica::Outbox outbox_;
    Metrics metrics_;
    std::size_t client_conns_ = 0;
    bool flush_scheduled_ = false;
    bool stopping_ = false;
    bool stopped_ = false;
};

std::string Shell::Impl::cluster_json() {
    std::string j = "{\"node\":" + std::to_string(config_.id.value) + ",\"members\":[";
    bool first = true;
    for (const auto& m : config_.members) {
        if (!first) j += ',';
        first = false;
        j += "{\"id\":" + std::to_string(m.id.value) + ",\"zone\":" + json_string(m.zone) +
             ",\"peer\":" + json_string(m.host + ":" + std::to_string(m.port)) +
             ",\"status\":\"valid\",\"up\":" + (node_.believes_up(m.id) ? "true" : "false") + "}";
    }
    const auto& cfg = node_.config();
    j += "],\"n\":" + std::to_string(cfg.n) + ",\"r\":" + std::to_string(cfg.r) + ",\"w\":" + std::to_string(cfg.w);
    j += ",\"sync\":" + json_string(store::sync_mode_name(config_.sync));
    const auto& ring = *node_.ring();
    j += ",\"partition_count\":" + std::to_string(ring.partition_count()) + ",\"partitions\":[";
    for (std::uint32_t p = 0; p < ring.partition_count(); ++p) {
        if (p != 0) j += ',';
        j += "{\"id\":" + std::to_string(p) + ",\"owner\":" + std::to_string(ring.owner(PartitionId{p}).value) +
             ",\"replicas\":[";
        const auto order = ring.preference_order(PartitionId{p});
        for (std::size_t i = 0; i < std::min<std::size_t>(cfg.n, order.size()); ++i) {
            if (i != 0) j += ',';
            j += std::to_string(order[i].value);
        }
        j += "]}";
    }
    return j + "]}";
}

std::string Shell::Impl::metrics_text() {
    std::string out;
    static const char* ops[3] = {"get", "put", "del"};
    out += "# TYPE shoal_requests_total counter\n";
    for (int i = 0; i < 3; ++i) {
        out += std::string("shoal_requests_total{op=\"") + ops[i] + "\",result=\"ok\"} " +
               std::to_string(metrics_.requests_ok[i]) + "\n";
        out += std::string("shoal_requests_total{op=\"") + ops[i] + "\",result=\"error\"} " +
               std::to_string(metrics_.requests_failed[i]) + "\n";
    }
    out += "# TYPE shoal_request_duration_seconds histogram\n";
    metrics_.get_latency.render(out, "shoal_request_duration_seconds", "op=\"get\"");
    metrics_.put_latency.render(out, "shoal_request_duration_seconds", "op=\"put\"");
    metrics_.del_latency.render(out, "shoal_request_duration_seconds", "op=\"del\"");
    render_node_metrics(node_, out);
    auto counter = [&](const char* name, std::uint64_t v) { render_counter(out, name, v); };
    counter("shoal_bad_frames_total", metrics_.bad_frames);
    counter("shoal_peer_messages_in_total", metrics_.peer_messages_in);
    counter("shoal_peer_messages_out_total", metrics_.peer_messages_out);
    counter("shoal_peer_messages_dropped_total", metrics_.peer_messages_dropped);
    counter("shoal_commits_total", metrics_.commits);
    counter("shoal_commit_errors_total", metrics_.commit_errors);
    counter("shoal_client_connections_total", metrics_.client_connections);
    render_gauge(out, "shoal_inflight_requests", node_.inflight());
    return out;
}

Shell::Shell(asio::io_context& io, replica::Node& node, store::BufferedStore& store, ShellConfig config,
             std::error_code& ec)
    : impl_(std::make_shared<Impl>(io, node, store, std::move(config))) {
    ec = impl_->bind(impl_->peer_acceptor_, impl_->config_.peer_host, impl_->config_.peer_port, "peer");
    if (!ec)
        ec = impl_->bind(impl_->client_acceptor_, impl_->config_.client_host, impl_->config_.client_port, "client");
}

Shell::~Shell() = default;

void Shell::start() {
    impl_->start();
}
void Shell::stop(Duration grace, std::function<void()> done) {
    impl_->stop(grace, std::move(done));
}
std::uint16_t Shell::peer_port() const {
    return impl_->peer_acceptor_.local_endpoint().port();
}
std::uint16_t Shell::client_port() const {
    return impl_->client_acceptor_.local_endpoint().port();
}

void Shell::submit(replica::ClientRequest request, std::function<void(replica::ClientReply)> done) {
    impl_->submit(std::move(request), std::move(done));
}

std::string Shell::cluster_json() {
    return impl_->cluster_json();
}

std::string Shell::metrics_text() {
    return impl_->metrics_text();
}
bool Shell::healthy() {
    return !impl_->stopping_;
}

}  // namespace shoal::net
