// The native client's retries, against nodes that take a request and never answer:
// an increment is sent once (a second copy would count twice); other updates go on to
// the next node.
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>

#include <catch2/catch.hpp>

#include "client/client.h"
#include "wire/wire.h"

using namespace shoal;

namespace {

// A node on 127.0.0.1:`port` that accepts one connection, reads it for at most
// `seconds`, counts the client requests in it and answers none.
class MuteNode {
public:
    MuteNode(std::uint16_t port, int seconds) : port_(port) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        REQUIRE(fd_ >= 0);
        const int one = 1;
        ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(port);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
        REQUIRE(::listen(fd_, 4) == 0);
        thread_ = std::thread([this, seconds] { serve(seconds); });
    }
    ~MuteNode() {
        thread_.join();
        ::close(fd_);
    }
    MuteNode(const MuteNode&) = delete;
    MuteNode& operator=(const MuteNode&) = delete;
    std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
    int requests() const { return requests_.load(); }

private:
    void serve(int seconds) {
        const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
        const auto left_ms = [&] {
            return static_cast<int>(std::max<std::int64_t>(
                0, std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now()).count()));
        };
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, left_ms()) != 1) return;
        const int conn = ::accept(fd_, nullptr, nullptr);
        if (conn < 0) return;
        wire::FrameReader reader;
        wire::Frame frame;
        char buf[4096];
        for (;;) {
            pollfd c{conn, POLLIN, 0};
            if (::poll(&c, 1, left_ms()) != 1) break;
            const ssize_t n = ::recv(conn, buf, sizeof buf, 0);
            if (n <= 0) break;
            reader.feed({buf, static_cast<std::size_t>(n)});
            std::error_code why;
            while (reader.next(frame, why) == wire::FrameReader::Status::frame)
                if (frame.kind == wire::Frame::Kind::client_request) requests_ += 1;
        }
        ::close(conn);
    }

    std::uint16_t port_;
    int fd_ = -1;
    std::atomic<int> requests_{0};
    std::thread thread_;
};

client::Options two_mute_nodes(const MuteNode& a, const MuteNode& b) {
    client::Options o;
    o.nodes = {a.address(), b.address()};
    o.request_timeout = Duration::millis(1200);  // 400 ms per attempt
    o.max_attempts = 3;
    return o;
}

}  // namespace

TEST_CASE("client: an increment is sent once; a silent node ends it with timeout, not a second count",
          "[client]") {
    MuteNode a(27961, 3), b(27962, 3);
    client::Client cl(two_mute_nodes(a, b));
    const client::Result r = cl.update("visits", replica::dt::CounterUpdate{1}, {});
    CHECK(r.code == errc::timeout);
    const auto total = [&] { return a.requests() + b.requests(); };
    for (int i = 0; i < 30 && total() == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    CHECK(a.requests() == 1);
    CHECK(b.requests() == 0);
}

TEST_CASE("client: a set add is retried on the next node when the first falls silent", "[client]") {
    MuteNode a(27963, 3), b(27964, 3);
    client::Client cl(two_mute_nodes(a, b));
    replica::dt::SetUpdate add;
    add.add = {"apple"};
    const client::Result r = cl.update("cart", add, {});
    CHECK(r.code != errc::ok);
    for (int i = 0; i < 30 && b.requests() == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    CHECK(a.requests() >= 1);
    CHECK(b.requests() >= 1);  // the teeth: the same wiring does retry what may be repeated
}
