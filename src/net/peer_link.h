// The shell's socket plumbing shared by its connections: batched writes, frame
// reading, and the outbound link to one peer. Included only by the shell's .cpp
// files (it brings in Asio).
#pragma once

#include <boost/asio.hpp>

#include <chrono>
#include <functional>
#include <optional>
#include <memory>
#include <string>

#include "core/types.h"
#include "net/metrics.h"
#include "net/shell.h"
#include "tls/stream.h"
#include "tls/tls.h"
#include "wire/wire.h"

namespace shoal::net {

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;
using asio::ip::tcp;

// Backpressure for readers: while closed, a reader given this gate waits before its
// next read until open() is called.
class ReadGate {
public:
    explicit ReadGate(asio::io_context& io) : timer_(io) { timer_.expires_at(asio::steady_timer::time_point::max()); }
    bool closed() const { return closed_; }
    void close() { closed_ = true; }
    void open() {
        if (!closed_) return;
        closed_ = false;
        timer_.expires_at(asio::steady_timer::time_point::max());  // wakes every waiter
    }
    awaitable<void> wait() {
        boost::system::error_code ignored;
        co_await timer_.async_wait(asio::redirect_error(use_awaitable, ignored));
    }

private:
    asio::steady_timer timer_;
    bool closed_ = false;
};

// Writes whatever gathers in `pending` (others append to it and cancel `wake`), one
// write per batch, so frames that piled up while a write was in flight go out
// together. Returns when `stop` turns true or a write fails. With `progress`, it
// records when the write in flight started and when the last one finished. With
// `after_write`, it calls that after each write that succeeded.
struct WriteProgress {
    std::chrono::steady_clock::time_point busy_since;  // {}: no write in flight
    std::chrono::steady_clock::time_point last_done;
};
awaitable<boost::system::error_code> write_batches(tls::Stream& stream, std::string& pending, std::string& writing,
                                                   asio::steady_timer& wake, const bool& stop,
                                                   WriteProgress* progress = nullptr,
                                                   const std::function<void()>* after_write = nullptr);

// Opens, binds and listens; says so in the log when it fails, and when the address is
// beyond loopback. `what` names the listener ("peer", "client").
std::error_code listen_on(tcp::acceptor& acceptor, const std::string& host, std::uint16_t port, const char* what);

// After a failed accept (out of descriptors, most often): says so and waits 100 ms,
// instead of retrying at once (which spins the loop and serves nothing).
awaitable<void> pause_after_failed_accept(asio::io_context& io, const char* listener,
                                          boost::system::error_code why);

// Keepalive and TCP_USER_TIMEOUT (= the stall bound) on a peer socket, either end.
void tune_peer_socket(tcp::socket& socket, const LinkTimeouts& t);

// What a reader's connection last did, for a sweep that closes connections that sit idle
// or leave a frame unfinished (read_frames keeps it current).
struct ReadProgress {
    std::chrono::steady_clock::time_point last_frame = std::chrono::steady_clock::now();  // or the accept
    std::chrono::steady_clock::time_point partial_since;  // {}: no frame begun
    bool greeted = false;                                 // the first frame (a hello) came
};

// Reads frames from `socket` and hands each to `on_frame` until the connection ends,
// `stop` turns true, or a frame is malformed or refused. Returns why it refused ("" when
// the connection simply ended). `on_frame` returns "" to accept a frame, else the reason.
// The first frame (the hello) may be at most k_max_hello_frame_bytes.
// (Asio, as of Boost 1.81, tries a read before waiting for readability after every
// read: when nothing is there yet that costs one recv returning EAGAIN.)
// With a `gate` (shared backpressure) or an `own` gate (this connection's), it waits
// while either is closed. (Callers pass named std::function objects: GCC 12
// mishandles lambda temporaries inside co_await expressions.)
awaitable<std::string> read_frames(tls::Stream& stream, std::size_t max_frame_bytes, const bool& stop,
                                   const std::function<std::string(wire::Frame&)>& on_frame,
                                   ReadGate* gate = nullptr, ReadGate* own = nullptr,
                                   ReadProgress* progress = nullptr);

// A peer's id in log fields.
std::string fields_peer(NodeId id, std::string_view extra = {});

// The outbound link to one peer: a bounded queue of encoded frames, written in
// batches; reconnects with backoff while the link is down. A watchdog closes a link
// whose dial or write makes no progress within its LinkTimeouts, and redial() drops
// a link on request (its peer is suspected): either way it is dialled again at once.
class PeerLink : public std::enable_shared_from_this<PeerLink> {
public:
    // `limit`: bytes queued; `max_frame`: the largest frame the peer reads (a larger one
    // is never queued: it would cost the link everything queued behind it).
    // `tls`: the node's contexts (nullptr: plain TCP); a link dials with the current
    // client context and accepts only a certificate naming the node it dials.
    PeerLink(asio::io_context& io, NodeId self, PeerAddress to, std::size_t limit, Metrics& metrics,
             LinkTimeouts timeouts = {}, std::size_t max_frame = wire::k_default_max_frame_bytes,
             std::shared_ptr<const tls::NodeContexts> tls = nullptr)
        : stream_(tcp::socket(io)),
          wake_(io),
          retry_(io),
          watchdog_(io),
          self_(self),
          to_(std::move(to)),
          limit_(limit),
          max_frame_(max_frame),
          metrics_(metrics),
          timeouts_(timeouts),
          tls_(std::move(tls)) {}

    void enqueue(const replica::PeerMessage& message) {
        append([&](std::string& out) { wire::encode_peer(message, out); });
    }
    void enqueue(const gossip::GossipMessage& message) {
        append([&](std::string& out) { wire::encode_gossip(message, out); });
    }
    const PeerAddress& address() const { return to_; }

    void stop() {
        stopped_ = true;
        halt_ = true;
        stream_.close();
        wake_.cancel();
        retry_.cancel();
        watchdog_.cancel();
    }
    // Drops the connection (or a dial in progress, or the wait before the next) and
    // dials again at once; at most once per stall bound, so a detector that keeps
    // suspecting a peer while a fresh link proves itself does not keep cutting it.
    void redial();

    // Connects (again and again, with backoff) and writes the queue until stop().
    awaitable<void> run();
    // How long since the link last made progress: connected, or finished a write.
    Duration since_progress() const;
    bool connected() const { return connected_; }

private:
    template <typename Encode>
    void append(Encode&& encode) {
        // While (re)connecting, messages wait in the queue and go out on connect; a
        // failed attempt drops them. Past the bound they are dropped at once: the
        // core's timeouts and retries (and the next gossip round) cover both.
        if (queue_.size() >= limit_) {
            ++metrics_.peer_messages_dropped;
            return;
        }
        if (queue_.empty()) queued_ = 0;  // the writer took the earlier ones
        const std::size_t before = queue_.size();
        encode(queue_);
        if (queue_.size() - before > max_frame_) {
            // The core sizes what it sends to fit (core/limits.h); this is the last guard.
            oversized(queue_.size() - before);
            queue_.resize(before);
            return;
        }
        ++queued_;
        ++metrics_.peer_messages_out;
        wake_.cancel();
    }

    awaitable<boost::system::error_code> pump();
    // After the TLS handshake: "" when the certificate names the node dialled (any node
    // for a seed, whose id is not known yet), else why not.
    std::string check_identity();
    // Checks the dial and the write in flight against the timeouts, until stop().
    awaitable<void> watch();
    void drop(LinkDrop why);
    void oversized(std::size_t bytes);
    // Log fields naming the other end: its id, or the seed address it was dialled at.
    std::string link_fields(std::string_view extra = {}) const;

    tls::Stream stream_;  // a new one per dial
    asio::steady_timer wake_;
    asio::steady_timer retry_;
    asio::steady_timer watchdog_;
    NodeId self_;
    PeerAddress to_;
    std::size_t limit_;
    std::size_t max_frame_;
    Metrics& metrics_;
    LinkTimeouts timeouts_;
    std::shared_ptr<const tls::NodeContexts> tls_;
    std::chrono::steady_clock::time_point dialling_since_;  // {}: not dialling
    WriteProgress progress_{{}, std::chrono::steady_clock::now()};  // last_done: also the last connect
    std::optional<LinkDrop> dropped_;  // why the watchdog or redial() closed the socket
    std::chrono::steady_clock::time_point last_redial_;
    bool connected_ = false;
    bool redial_now_ = false;
    bool halt_ = false;  // the writer stops: stop(), or a drop of this connection
    std::string queue_, writing_;
    std::size_t queued_ = 0;  // messages in queue_
    bool was_connected_ = false;
    bool seed_failure_logged_ = false;
    bool stopped_ = false;
};


}  // namespace shoal::net
