#include "net/peer_link.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <utility>
#include <vector>

#include "core/limits.h"
#include "net/address.h"
#include "net/log.h"

namespace shoal::net {

std::string fields_peer(NodeId id, std::string_view extra) {
    std::string f = "peer=" + std::to_string(id.value);
    if (!extra.empty()) {
        f += ' ';
        f += extra;
    }
    return f;
}

std::error_code listen_on(tcp::acceptor& acceptor, const std::string& host, std::uint16_t port, const char* what) {
    boost::system::error_code ec;
    auto addr = asio::ip::make_address(host, ec);
    if (ec) return std::make_error_code(std::errc::invalid_argument);
    tcp::endpoint ep(addr, port);
    acceptor.open(ep.protocol(), ec);
    if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) acceptor.bind(ep, ec);
    if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
        log::error("cannot listen", std::string("listener=") + what + " address=" +
                                        log::quoted(host + ":" + std::to_string(port)) +
                                        " error=" + log::quoted(ec.message()));
        return ec;  // Boost's code converts with its category kept
    }
    if (!is_loopback_host(host)) {
        log::warn("listener bound beyond loopback: reachable from other machines",
                  std::string("listener=") + what + " address=" + log::quoted(host));
    }
    return {};
}

awaitable<void> pause_after_failed_accept(asio::io_context& io, const char* listener,
                                          boost::system::error_code why) {
    constexpr std::chrono::milliseconds k_pause{100};
    log::warn("accept failed; pausing this listener", std::string("listener=") + listener + " error=" +
                                                          log::quoted(why.message()) +
                                                          " pause_ms=" + std::to_string(k_pause.count()));
    asio::steady_timer t(io);
    t.expires_after(k_pause);
    boost::system::error_code ignored;
    co_await t.async_wait(asio::redirect_error(use_awaitable, ignored));
}

void PeerLink::oversized(std::size_t bytes) {
    ++metrics_.peer_frames_oversized;
    log::warn("peer message over the frame bound not sent",
              link_fields("bytes=" + std::to_string(bytes) + " max_frame_bytes=" + std::to_string(max_frame_)));
}

// Writes whatever gathers in `pending` (others append to it and cancel `wake`), one
// write per batch, so frames that piled up while a write was in flight go out
// together. Returns when `stop` turns true or a write fails.
awaitable<boost::system::error_code> write_batches(tls::Stream& stream, std::string& pending, std::string& writing,
                                                   asio::steady_timer& wake, const bool& stop, WriteProgress* progress,
                                                   const std::function<void()>* after_write) {
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
        if (progress) progress->busy_since = std::chrono::steady_clock::now();
        co_await asio::async_write(stream, asio::buffer(writing), asio::redirect_error(use_awaitable, ec));
        if (progress) {
            progress->busy_since = {};
            if (!ec) progress->last_done = std::chrono::steady_clock::now();
        }
        if (ec) break;
        if (after_write != nullptr) (*after_write)();
    }
    co_return ec;
}

awaitable<std::string> read_frames(tls::Stream& stream, std::size_t max_frame_bytes, const bool& stop,
                                   const std::function<std::string(wire::Frame&)>& on_frame, ReadGate* gate,
                                   ReadGate* own, ReadProgress* progress) {
    // Until its hello, a connection is a stranger: its first frame is small or refused.
    wire::FrameReader reader(std::min(max_frame_bytes, k_max_hello_frame_bytes));
    bool first = true;
    std::vector<char> buf(64 * 1024);
    wire::Frame frame;
    while (!stop) {
        for (;;) {
            ReadGate* shut = gate != nullptr && gate->closed() ? gate : own != nullptr && own->closed() ? own : nullptr;
            if (shut == nullptr || stop) break;
            co_await shut->wait();
        }
        boost::system::error_code ec;
        const std::size_t n =
            co_await stream.async_read_some(asio::buffer(buf), asio::redirect_error(use_awaitable, ec));
        if (ec) break;
        reader.feed({buf.data(), n});
        std::error_code bad;
        for (;;) {
            // Between frames too: a connection's own gate stops it at once.
            while (own != nullptr && own->closed() && !stop) co_await own->wait();
            const auto status = reader.next(frame, bad);
            if (status == wire::FrameReader::Status::need_more) break;
            if (status == wire::FrameReader::Status::error) co_return "bad frame: " + bad.message();
            if (progress != nullptr) {
                progress->last_frame = std::chrono::steady_clock::now();
                progress->greeted = true;
            }
            if (std::string why = on_frame(frame); !why.empty()) co_return why;
            if (first) reader.set_max_frame_bytes(max_frame_bytes);
            first = false;
        }
        if (progress != nullptr) {
            if (reader.buffered() == 0) progress->partial_since = {};
            else if (progress->partial_since == std::chrono::steady_clock::time_point{})
                progress->partial_since = std::chrono::steady_clock::now();
        }
    }
    co_return std::string();
}

std::string PeerLink::link_fields(std::string_view extra) const {
    if (to_.id.valid()) return fields_peer(to_.id, extra);
    std::string f = "seed=" + log::quoted(to_.host + ":" + std::to_string(to_.port));
    if (!extra.empty()) f += " " + std::string(extra);
    return f;
}

void tune_peer_socket(tcp::socket& socket, const LinkTimeouts& t) {
    const int fd = socket.native_handle();
    const int on = 1;
    const int idle_s = static_cast<int>(std::max<std::int64_t>(1, t.keepalive_idle.us / 1'000'000));
    const int interval_s = static_cast<int>(std::max<std::int64_t>(1, t.keepalive_interval.us / 1'000'000));
    const auto user_timeout_ms = static_cast<unsigned>(t.stall.ms());
    // Best effort: a socket that refuses an option still works, with the kernel's bounds.
    (void)::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
    (void)::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle_s, sizeof idle_s);
    (void)::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval_s, sizeof interval_s);
    (void)::setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &t.keepalive_probes, sizeof t.keepalive_probes);
    (void)::setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout_ms, sizeof user_timeout_ms);
}

Duration PeerLink::since_progress() const {
    const auto now = std::chrono::steady_clock::now();
    if (connected_ && progress_.busy_since == std::chrono::steady_clock::time_point{}) return Duration{0};
    const auto from = connected_ ? progress_.busy_since : progress_.last_done;
    return Duration{std::chrono::duration_cast<std::chrono::microseconds>(now - from).count()};
}

void PeerLink::redial() {
    const auto now = std::chrono::steady_clock::now();
    if (now - last_redial_ < std::chrono::microseconds(timeouts_.stall.us)) return;
    last_redial_ = now;
    drop(LinkDrop::suspected);
}

void PeerLink::drop(LinkDrop why) {
    if (stopped_) return;
    dropped_ = why;
    halt_ = true;
    if (why == LinkDrop::suspected) redial_now_ = true;
    stream_.close();  // ends a dial or a write in flight
    wake_.cancel();
    retry_.cancel();         // ends the wait before the next dial
}

awaitable<void> PeerLink::watch() {
    auto self = shared_from_this();
    using clock = std::chrono::steady_clock;
    const auto over = [](clock::time_point since, clock::time_point now, Duration bound) {
        return since != clock::time_point{} && now - since > std::chrono::microseconds(bound.us);
    };
    while (!stopped_) {
        watchdog_.expires_after(std::chrono::milliseconds(250));
        boost::system::error_code ec;
        co_await watchdog_.async_wait(asio::redirect_error(use_awaitable, ec));
        if (stopped_) break;
        const auto now = clock::now();
        if (over(dialling_since_, now, timeouts_.connect)) {
            drop(LinkDrop::connect_timeout);
        } else if (over(progress_.busy_since, now, timeouts_.stall)) {
            log::warn("peer link stalled: a write made no progress; redialling",
                      link_fields("bound_ms=" + std::to_string(timeouts_.stall.ms())));
            drop(LinkDrop::stalled);
        }
    }
}

awaitable<void> PeerLink::run() {
    auto self = shared_from_this();
    asio::co_spawn(stream_.get_executor(), watch(), asio::detached);
    const Duration first_backoff = Duration::millis(50);
    Duration backoff = first_backoff;
    while (!stopped_) {
        dropped_.reset();
        halt_ = false;
        boost::system::error_code ec;
        tcp::endpoint ep(parse_address(to_.host, ec), to_.port);
        dialling_since_ = std::chrono::steady_clock::now();
        stream_ = tls::Stream(stream_.get_executor(), tls_ ? tls_->peer_client() : nullptr);
        // The dial bound covers the handshake too: a peer that accepts and never answers
        // it is dialled again.
        if (!ec) co_await stream_.socket().async_connect(ep, asio::redirect_error(use_awaitable, ec));
        if (!ec && !dropped_) {
            co_await stream_.async_handshake(asio::ssl::stream_base::client, asio::redirect_error(use_awaitable, ec));
            if (ec && !dropped_) log::warn("peer link TLS handshake failed", link_fields("error=" + log::quoted(ec.message())));
        }
        dialling_since_ = {};
        LinkDrop why = LinkDrop::connect_failed;
        if (!ec && !dropped_) {
            if (std::string refused = check_identity(); !refused.empty()) {
                log::warn("peer link refused: its certificate names another node", link_fields(refused));
                ec = asio::error::access_denied;
                why = LinkDrop::refused;
            }
        }
        if (!ec && !dropped_) {
            connected_ = true;
            progress_.last_done = std::chrono::steady_clock::now();
            backoff = first_backoff;
            tune_peer_socket(stream_.socket(), timeouts_);
            ec = co_await pump();
            why = LinkDrop::write_failed;
        }
        if (dropped_) why = *dropped_;
        connected_ = false;
        progress_.busy_since = {};
        metrics_.peer_messages_dropped += queue_.empty() ? 0 : queued_;
        queue_.clear();
        stream_.close();
        if (stopped_) break;
        ++metrics_.link_reconnects[static_cast<int>(why)];
        if (was_connected_) {
            // A link this node dropped itself (stalled, suspected) has no socket error to say.
            const std::string error = ec ? " error=" + log::quoted(ec.message()) : "";
            log::warn("peer link down", link_fields("reason=" + std::string(link_drop_name(why)) + error));
        }
        if (!was_connected_ && !to_.id.valid() && !seed_failure_logged_) {
            seed_failure_logged_ = true;  // once: a joining node retries every round
            log::warn("cannot reach seed", link_fields("error=" + log::quoted(ec.message())));
        }
        was_connected_ = false;
        if (std::exchange(redial_now_, false)) continue;  // suspected: dial again at once
        retry_.expires_after(std::chrono::microseconds(backoff.us));
        co_await retry_.async_wait(asio::redirect_error(use_awaitable, ec));
        backoff = std::min(backoff * 2, Duration::millis(500));
    }
}

std::string PeerLink::check_identity() {
    if (!stream_.tls()) return {};
    const tls::Identity id = stream_.peer();
    if (!id.is_node()) return "presented=" + log::quoted(tls::describe(id));
    if (to_.id.valid() && id.node != to_.id.value) return "presented=" + log::quoted(tls::describe(id));
    return {};
}

awaitable<boost::system::error_code> PeerLink::pump() {
    boost::system::error_code ec;
    stream_.socket().set_option(tcp::no_delay(true), ec);
    std::string hello;
    wire::encode_hello(wire::Hello{wire::Hello::Role::peer, self_, wire::k_protocol_version}, hello);
    progress_.busy_since = std::chrono::steady_clock::now();
    co_await asio::async_write(stream_, asio::buffer(hello), asio::redirect_error(use_awaitable, ec));
    progress_.busy_since = {};
    if (ec) co_return ec;
    was_connected_ = true;
    log::info("peer link up", link_fields());
    co_return co_await write_batches(stream_, queue_, writing_, wake_, halt_, &progress_);
}

}  // namespace shoal::net
