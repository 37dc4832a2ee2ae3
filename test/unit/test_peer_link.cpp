// PeerLink against a peer that accepts and then never reads (a stalled link: writes
// are taken until the socket buffers fill, then nothing moves): the link is declared
// stalled within its bound and dialled again. And redial() on suspicion.
#include <catch2/catch.hpp>

#include <boost/asio.hpp>

#include <chrono>
#include <memory>
#include <vector>

#include "net/metrics.h"
#include "net/peer_link.h"

using namespace shoal;
using namespace shoal::net;

namespace {

// Accepts connections and keeps them open without ever reading.
struct DeafPeer {
    explicit DeafPeer(asio::io_context& io) : acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
        accept();
    }
    void accept() {
        acceptor.async_accept([this](boost::system::error_code ec, tcp::socket s) {
            if (ec) return;
            sockets.push_back(std::make_unique<tcp::socket>(std::move(s)));
            accept();
        });
    }
    std::uint16_t port() const { return acceptor.local_endpoint().port(); }
    tcp::acceptor acceptor;
    std::vector<std::unique_ptr<tcp::socket>> sockets;
};

replica::PeerMessage big_message() {
    replica::ReplicateReq req;
    req.req = 1;
    req.key = "k";
    req.state.siblings.push_back(replica::Sibling{replica::Dot{1, 1}, false, std::string(1 << 20, 'v'), {}, {}});
    return req;
}

// Runs `io` until `done` holds or `limit` passes; returns whether it held.
template <typename Done>
bool run_until(asio::io_context& io, std::chrono::milliseconds limit, Done done) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done() && std::chrono::steady_clock::now() < deadline) io.run_for(std::chrono::milliseconds(20));
    return done();
}

// A link from node 1 to `peer` (as node 2), running on `io`.
std::shared_ptr<PeerLink> start_link(asio::io_context& io, const DeafPeer& peer, Metrics& metrics,
                                     std::size_t queue_bytes, const LinkTimeouts& timeouts) {
    auto link = std::make_shared<PeerLink>(io, NodeId{1}, PeerAddress{NodeId{2}, "127.0.0.1", peer.port(), {}},
                                           queue_bytes, metrics, timeouts);
    asio::co_spawn(io, link->run(), asio::detached);
    return link;
}

LinkTimeouts quick() {
    LinkTimeouts t;
    t.connect = Duration::millis(500);
    t.stall = Duration::millis(600);
    return t;
}

}  // namespace

TEST_CASE("peer link: a write that makes no progress is declared stalled and the link redialled", "[net][link]") {
    asio::io_context io;
    DeafPeer peer(io);
    Metrics metrics;
    auto link = start_link(io, peer, metrics, std::size_t{256} << 20, quick());
    REQUIRE(run_until(io, std::chrono::seconds(2), [&] { return link->connected(); }));
    // Far more than loopback's socket buffers hold: the write cannot finish.
    const replica::PeerMessage m = big_message();
    for (int i = 0; i < 48; ++i) link->enqueue(m);
    const auto start = std::chrono::steady_clock::now();
    const bool redialled = run_until(io, std::chrono::seconds(5), [&] {
        return metrics.link_reconnects[static_cast<int>(LinkDrop::stalled)] >= 1 && peer.sockets.size() >= 2;
    });
    const auto took = std::chrono::steady_clock::now() - start;
    link->stop();
    io.run_for(std::chrono::milliseconds(50));
    REQUIRE(redialled);
    // Within the bound plus the watchdog's period and a dial, not the kernel's minutes.
    CHECK(took < std::chrono::seconds(3));
    CHECK(metrics.link_reconnects[static_cast<int>(LinkDrop::stalled)] == 1);
    CHECK(metrics.link_reconnects[static_cast<int>(LinkDrop::suspected)] == 0);
}

TEST_CASE("peer link: redial() on suspicion drops a working link and dials at once, once per bound", "[net][link]") {
    asio::io_context io;
    DeafPeer peer(io);
    Metrics metrics;
    auto link = start_link(io, peer, metrics, std::size_t{1} << 20, quick());
    REQUIRE(run_until(io, std::chrono::seconds(2), [&] { return peer.sockets.size() == 1 && link->connected(); }));
    link->redial();
    link->redial();  // within the bound: ignored
    REQUIRE(run_until(io, std::chrono::seconds(2), [&] { return peer.sockets.size() == 2 && link->connected(); }));
    io.run_for(std::chrono::milliseconds(200));
    CHECK(peer.sockets.size() == 2);
    CHECK(metrics.link_reconnects[static_cast<int>(LinkDrop::suspected)] == 1);
    CHECK(link->since_progress().us == 0);  // connected, nothing in flight
    link->stop();
    io.run_for(std::chrono::milliseconds(50));
}
