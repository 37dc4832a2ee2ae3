#include "net/peer_link.h"

#include <chrono>
#include <vector>

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

awaitable<std::string> read_frames(tcp::socket& socket, std::size_t max_frame_bytes, const bool& stop,
                                   const std::function<std::string(wire::Frame&)>& on_frame, ReadGate* gate) {
    wire::FrameReader reader(max_frame_bytes);
    std::vector<char> buf(64 * 1024);
    wire::Frame frame;
    while (!stop) {
        while (gate != nullptr && gate->closed() && !stop) co_await gate->wait();
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

std::string PeerLink::link_fields(std::string_view extra) const {
    if (to_.id.valid()) return fields_peer(to_.id, extra);
    std::string f = "seed=" + to_.host + ":" + std::to_string(to_.port);
    if (!extra.empty()) f += " " + std::string(extra);
    return f;
}

awaitable<void> PeerLink::run() {
    auto self = shared_from_this();
    Duration backoff = Duration::millis(50);
    while (!stopped_) {
        boost::system::error_code ec;
        tcp::endpoint ep(parse_address(to_.host, ec), to_.port);
        if (!ec) co_await socket_.async_connect(ep, asio::redirect_error(use_awaitable, ec));
        if (!ec) ec = co_await pump();
        metrics_.peer_messages_dropped += queue_.empty() ? 0 : queued_;
        queue_.clear();
        boost::system::error_code ignored;
        socket_.close(ignored);
        if (stopped_) break;
        if (was_connected_) log::warn("peer link down", link_fields("error=" + log::quoted(ec.message())));
        if (!was_connected_ && !to_.id.valid() && !seed_failure_logged_) {
            seed_failure_logged_ = true;  // once: a joining node retries every round
            log::warn("cannot reach seed", link_fields("error=" + log::quoted(ec.message())));
        }
        was_connected_ = false;
        retry_.expires_after(std::chrono::microseconds(backoff.us));
        co_await retry_.async_wait(asio::redirect_error(use_awaitable, ec));
        backoff = std::min(backoff * 2, Duration::millis(500));
    }
}

awaitable<boost::system::error_code> PeerLink::pump() {
    boost::system::error_code ec;
    socket_.set_option(tcp::no_delay(true), ec);
    std::string hello;
    wire::encode_hello(wire::Hello{wire::Hello::Role::peer, self_, 1}, hello);
    co_await asio::async_write(socket_, asio::buffer(hello), asio::redirect_error(use_awaitable, ec));
    if (ec) co_return ec;
    was_connected_ = true;
    log::info("peer link up", link_fields());
    co_return co_await write_batches(socket_, queue_, writing_, wake_, stopped_);
}

}  // namespace shoal::net
