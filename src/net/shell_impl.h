// The shell's state and its loop-side logic, shared by shell.cpp (turns, commits,
// the Backend) and shell_ports.cpp (the peer and client listeners). Included only
// by those two: it brings in Asio.
#pragma once

#include <boost/asio.hpp>

#include <chrono>
#include <map>
#include <unordered_map>

#include "core/assert.h"
#include "net/commit_thread.h"
#include "net/conn_watch.h"
#include "net/log.h"
#include "net/metrics.h"
#include "net/node_metrics.h"
#include "net/peer_link.h"
#include "net/store_health.h"
#include "turn/driver.h"
#include "net/shell.h"
#include "tls/stream.h"
#include "wire/wire.h"

namespace shoal::net {

// One native client connection: replies are appended to `out` and written in batches.
struct ClientConn : std::enable_shared_from_this<ClientConn> {
    ClientConn(tls::Stream s, asio::io_context& io) : stream(std::move(s)), wake(io), backlog(io) {}
    tls::Stream stream;
    tls::Identity identity;  // from its hello's token, else its certificate, when it presented one
    bool token_refused = false;  // its hello's token names no client: every request is forbidden
    std::string token;                  // its hello's token, looked up again after a reload
    std::uint64_t token_generation = 0;  // the tls generation it was looked up in
    asio::steady_timer wake;
    ReadGate backlog;  // closed while too much waits (see pace): no more requests are read
    WriteProgress writing_progress;
    std::string out, writing;
    std::size_t inflight = 0;
    bool closed = false;

    void close() {
        closed = true;
        stream.close();
        wake.cancel();
        backlog.open();
    }
    // A client that does not read its replies, or pipelines more requests than the
    // bound, gets no more of its requests read until it catches up: what the node holds
    // for one connection stays bounded (in-flight requests, and replies unwritten).
    void pace(std::size_t max_out_bytes, std::size_t max_inflight) {
        if (closed) return;
        if (out.size() > max_out_bytes || inflight >= max_inflight)
            backlog.close();
        else
            backlog.open();
    }
};

// ---- the shell ------------------------------------------------------------------------

struct Shell::Impl : std::enable_shared_from_this<Shell::Impl>, turn::Sink {
    struct Pending {
        std::function<void(replica::ClientReply)> done;
        replica::ClientOp op;
        Instant started;
    };

    Impl(asio::io_context& io, replica::Node& node, store::BufferedStore& store, Membership& membership,
         ShellConfig config)
        : io_(io),
          node_(node),
          store_(store),
          membership_(membership),
          config_(std::move(config)),
          peer_acceptor_(io),
          client_acceptor_(io),
          tick_timer_(io),
          gate_(io),
          committer_(io, store.inner(),
                     [this](std::uint64_t seq, std::error_code ec, Duration took) {
                         metrics_.commit_latency.record(took);
                         committed(seq, ec);
                     }),
          driver_(node, &membership.gossiper(), store, committer_, *this,
                  turn::DriverLimits{config_.max_staged_bytes,
                                     config_.max_inflight_per_connection * config_.max_client_connections}),
          store_health_(
              config_.reopen_store, [&store] { return store.inner().sync(); }, config_.rebuild_store, config_.data_dir,
              config_.store_rebuilt) {
        if (config_.max_frame_bytes == 0) config_.max_frame_bytes = wire::k_default_max_frame_bytes;
    }

    void start() {
        auto self = shared_from_this();
        membership_.sync(mono_now());
        update_links();
        asio::co_spawn(io_,
                       accept_on(peer_acceptor_, true, config_.max_peer_connections,
                                 [this](tcp::socket s) { accept_peer(std::move(s)); }),
                       asio::detached);
        asio::co_spawn(io_,
                       accept_on(client_acceptor_, false, config_.max_client_connections,
                                 [this](tcp::socket s) { accept_client(std::move(s)); }),
                       asio::detached);
        asio::co_spawn(io_, tick_loop(), asio::detached);
    }

    void schedule_flush() {
        if (flush_scheduled_) return;
        flush_scheduled_ = true;
        asio::post(io_, [self = shared_from_this()] { self->flush(); });
    }

    std::shared_ptr<PeerLink> make_link(NodeId id, std::string_view address) {
        PeerAddress to{id, {}, 0, {}};
        if (!parse_host_port(address, to.host, to.port)) return nullptr;
        auto link = std::make_shared<PeerLink>(io_, config_.id, to, config_.peer_queue_bytes, metrics_,
                                               config_.link_timeouts, config_.max_frame_bytes, config_.tls);
        asio::co_spawn(io_, link->run(), asio::detached);
        return link;
    }

    // One link per active member of the view (at its current address); links to
    // members that left are closed.
    void update_links() {
        std::map<std::uint32_t, std::shared_ptr<PeerLink>> next;
        for (const auto& [id, m] : membership_.gossiper().view().members) {
            // Members that have left but may still hand data over keep their links too.
            const bool reachable = gossip::is_active(m.status) || m.status == gossip::MemberStatus::exiting;
            if (id == config_.id || !reachable || m.peer_address.empty()) continue;
            auto it = links_.find(id.value);
            PeerAddress want{id, {}, 0, {}};
            if (!parse_host_port(m.peer_address, want.host, want.port)) continue;
            if (it != links_.end() && it->second->address().host == want.host &&
                it->second->address().port == want.port) {
                next.emplace(id.value, std::move(it->second));
                links_.erase(it);
            } else if (auto link = make_link(id, m.peer_address)) {
                next.emplace(id.value, std::move(link));
            }
        }
        for (auto& [id, link] : links_) link->stop();
        links_ = std::move(next);
    }

    void send_gossip(gossip::GossipEnvelope& env) {
        if (env.to.valid()) {
            auto it = links_.find(env.to.value);
            if (it == links_.end()) {
                auto link = make_link(env.to, env.address);
                if (!link) return;
                it = links_.emplace(env.to.value, std::move(link)).first;
            }
            it->second->enqueue(env.message);
            return;
        }
        auto it = seed_links_.find(env.address);
        if (it == seed_links_.end()) {
            auto link = make_link(NodeId{}, env.address);
            if (!link) return;
            it = seed_links_.emplace(env.address, std::move(link)).first;
        }
        it->second->enqueue(env.message);
    }

    // The end of a loop turn: membership changes reach the core, then the driver
    // persists the turn's writes and releases its output once they are durable.
    void flush() {
        flush_scheduled_ = false;
        const Instant turn = mono_now();
        if (membership_.sync(turn)) update_links();
        driver_.end_turn();
        if (driver_.saturated()) gate_.close();
        const Instant now = mono_now();
        if (membership_.exited() && !exit_reported_) {
            // It owns nothing now. What it still holds for others (hints, copies of
            // partitions it stopped serving) goes out first: a node that leaves drops
            // no data. Logged every 10 s while it waits.
            if (left_at_.us == 0 || now - left_logged_ >= Duration::seconds(10)) {
                if (left_at_.us == 0) left_at_ = now;
                left_logged_ = now;
                log::info("this node has left the cluster; handing over what it holds before exiting",
                          "hints=" + std::to_string(node_.hints_pending()));
            }
            membership_.gossiper().set_following(!node_.handed_over());  // keep learning who is left
            if (node_.handed_over()) {
                exit_reported_ = true;
                log::info("shutting down",
                          "status=" + std::string(gossip::status_name(membership_.gossiper().self_status())) +
                              " waited_ms=" + std::to_string((now - left_at_).ms()));
                if (config_.on_exit) asio::post(io_, config_.on_exit);
            }
        }
    }

    // A batch reached the disk (or failed): the driver releases what waited for it.
    void committed(std::uint64_t seq, std::error_code ec) {
        if (ec) {
            log::error("store commit failed; failing the requests that depended on it",
                       "error=" + log::quoted(ec.message()));
            store_health_.commit_failed(ec, std::chrono::steady_clock::now());
            node_.set_store_failing(store_health_.failure());
        }
        driver_.committed(seq, ec);
        // An unusable store is rebuilt as soon as no batch is out (under load the
        // once-a-second check could wait long for that).
        if (store_health_.unusable() && driver_.idle())
            (void)store_health_.try_recover(std::chrono::steady_clock::now());
        if (!driver_.saturated()) gate_.open();
    }

    // turn::Sink: where a released turn goes.
    void send(replica::Envelope& env) override {
        auto it = links_.find(env.to.value);
        if (it != links_.end()) it->second->enqueue(env.msg);
    }
    void send(gossip::GossipEnvelope& env) override { send_gossip(env); }
    void reply(replica::ClientReply& reply) override { deliver(mono_now(), reply); }

    void deliver(Instant now, replica::ClientReply& reply) {
        auto it = pending_.find(reply.token);
        if (it == pending_.end()) return;
        Pending p = std::move(it->second);
        pending_.erase(it);
        const int op = static_cast<int>(p.op);
        const bool ok = reply.code == errc::ok || reply.code == errc::not_found;
        ++(ok ? metrics_.requests_ok[op] : metrics_.requests_failed[op]);
        if (!ok) ++metrics_.errors_by_code[static_cast<int>(reply.code)];
        if (p.op == replica::ClientOp::get && reply.code == errc::ok)
            metrics_.read_siblings.record(reply.siblings.size());
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
        if (!membership_.joined()) {
            // Not part of a founded cluster yet: there is no ring to route by.
            done(replica::ClientReply{0, errc::unavailable});
            return;
        }
        const replica::ClientToken token = next_token_++;
        const Now now = clocks_now();
        pending_.emplace(token, Pending{std::move(done), request.op, now.mono});
        node_.submit(now, token, std::move(request));
        schedule_flush();
    }

    Health health() const {
        const char* status = stopping_ ? "not_serving" : store_health_.failure() ? "read_only" : "serving";
        std::string json = std::string("{\"status\":\"") + status + "\"," + store_health_.health_json() +
                           ",\"keys\":" + std::to_string(node_.stats().keys_stored) +
                           ",\"joined\":" + (membership_.joined() ? "true" : "false") + "}";
        return Health{!stopping_, std::move(json)};
    }

    // Closes inbound connections past their ConnTimeouts. Once a second, from the tick loop.
    void sweep_connections() {
        conns_.sweep(config_.conn_timeouts, std::chrono::steady_clock::now(), [this](bool peer, const char* why) {
            ++metrics_.connections_timed_out;
            log::warn("closing connection",
                      std::string("port=") + (peer ? "peer" : "client") + " reason=" + log::quoted(why));
        });
    }

    awaitable<void> tick_loop() {
        auto self = shared_from_this();
        int ticks = 0;
        const int sweep_every = static_cast<int>(std::max<std::int64_t>(1, Duration::seconds(1).us / config_.tick.us));
        while (!stopped_) {
            tick_timer_.expires_after(std::chrono::microseconds(config_.tick.us));
            boost::system::error_code ec;
            co_await tick_timer_.async_wait(asio::redirect_error(use_awaitable, ec));
            if (stopped_) break;
            const Now now = clocks_now();
            for (NodeId peer : membership_.tick(now.mono)) {
                // Fell silent: whatever the link's socket believes, dial it again; the
                // core probes the peer, which is up again once it answers.
                if (auto it = links_.find(peer.value); it != links_.end()) it->second->redial();
            }
            node_.tick(now);
            flush();
            if (++ticks % sweep_every == 0) {
                sweep_connections();
                if (driver_.idle() && store_health_.try_recover(std::chrono::steady_clock::now()))
                    node_.set_store_failing({});
            }
        }
    }

    // The two listeners (shell_ports.cpp).
    // Closes a just-accepted connection when its port holds `limit` already, or too many
    // connections are still without their hello; says so. True when it closed it.
    bool refuse_over_limit(tcp::socket& s, bool peer, std::size_t limit);
    // Accepts on `acceptor` until stopped, handing each connection under the limits to `serve`.
    awaitable<void> accept_on(tcp::acceptor& acceptor, bool peer, std::size_t limit,
                              std::function<void(tcp::socket)> serve);
    void accept_peer(tcp::socket s);
    awaitable<void> serve_peer(std::shared_ptr<tls::Stream> held, ConnWatch::Handle watched);
    // The first frame on the peer port: "" when it is a hello from another node that
    // the certificate (under TLS) names, else why the connection is refused.
    std::string check_peer_hello(const wire::Frame& frame, const tls::Identity& certified) const;
    void accept_client(tcp::socket s);
    awaitable<void> write_client(std::shared_ptr<ClientConn> c);
    void pace(ClientConn& c) { c.pace(config_.max_frame_bytes, config_.max_inflight_per_connection); }
    void on_client_frame(const std::shared_ptr<ClientConn>& c, wire::ClientFrame& f);
    awaitable<void> serve_client(std::shared_ptr<ClientConn> c, ConnWatch::Handle watched);

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
        while (!driver_.idle() && std::chrono::steady_clock::now() < deadline + std::chrono::seconds(5)) {
            t.expires_after(std::chrono::milliseconds(1));
            boost::system::error_code ec;
            co_await t.async_wait(asio::redirect_error(use_awaitable, ec));
        }
        if (!driver_.idle())
            log::error("the last batch did not reach the disk in time", "");
        else if (auto ec = store_.sync())
            log::error("final sync failed", "error=" + log::quoted(ec.message()));
        stopped_ = true;
        tick_timer_.cancel();
        for (auto& [id, link] : links_) link->stop();
        for (auto& [address, link] : seed_links_) link->stop();
        log::info("stopped", "unanswered=" + std::to_string(pending_.size()));
        done();
    }

    std::string cluster_json();
    std::string metrics_text();

    asio::io_context& io_;
    replica::Node& node_;
    store::BufferedStore& store_;
    Membership& membership_;
    ShellConfig config_;
    tcp::acceptor peer_acceptor_;
    tcp::acceptor client_acceptor_;
    asio::steady_timer tick_timer_;
    ReadGate gate_;  // closed while the driver is saturated: client reads wait
    CommitThread committer_;
    turn::Driver driver_;
    std::map<std::uint32_t, std::shared_ptr<PeerLink>> links_;
    std::map<std::string, std::shared_ptr<PeerLink>> seed_links_;  // seeds not yet known by id
    gossip::GossipOutbox gossip_out_;
    bool exit_reported_ = false;
    Instant left_at_;  // when this node found itself exiting (0: not yet)
    Instant left_logged_;
    std::unordered_map<replica::ClientToken, Pending> pending_;
    replica::ClientToken next_token_ = 1;
    Metrics metrics_;
    ConnWatch conns_;  // inbound connections, from accept to the end of their readers
    StoreHealth store_health_;
    bool flush_scheduled_ = false;
    bool stopping_ = false;
    bool stopped_ = false;
};

}  // namespace shoal::net
