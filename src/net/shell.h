// The node's shell: the Boost.Asio loop that feeds the pure replication core and
// flushes what it wants sent. One thread runs everything: peer links, the native
// client listener, the HTTP server (through the Backend interface), the tick timer,
// and the core itself, so requests never hop threads. A second thread only writes
// and fsyncs batches (CommitThread).
//
// Each loop turn ends with the turn driver (turn/driver.h): the turn's writes join
// the next batch to persist, and its messages and replies are written to sockets only
// once that batch is durable (synced under sync=batch|always). While a batch syncs the
// loop goes on; past the driver's bounds it stops reading client requests until a
// commit catches up. Frames for one peer are appended to one buffer and written with
// one call. Asio is included only in the shell's .cpp files.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "core/types.h"
#include "http/server.h"
#include "net/address.h"
#include "net/membership.h"
#include "net/store_health.h"
#include "replica/node.h"
#include "store/buffered_store.h"
#include "tls/tls.h"

namespace boost::asio {
class io_context;
}

namespace shoal::net {

struct PeerAddress {
    NodeId id;
    std::string host;
    std::uint16_t port = 0;
    std::string zone;
};

// How long a peer link may go without progress. The kernel's own retransmission
// backoff reaches two minutes on a network that drops packets silently; these bound
// it to seconds.
struct LinkTimeouts {
    Duration connect = Duration::seconds(2);  // a dial that has not connected by then fails
    Duration stall = Duration::seconds(4);    // a write not done by then: the link is dead
    Duration keepalive_idle = Duration::seconds(2);  // TCP keepalive on an idle link:
    Duration keepalive_interval = Duration::seconds(1);  // probes every second,
    int keepalive_probes = 3;                             // dead after three unanswered
};

// How long a connection to the peer or client port may sit without finishing what it
// started; past a bound it is closed (a client or peer that is gone, or one holding
// the node's memory on purpose).
struct ConnTimeouts {
    Duration hello = Duration::seconds(5);          // connected, no hello yet
    Duration frame = Duration::seconds(10);         // a frame begun and not finished
    Duration client_idle = Duration::seconds(300);  // a native client that sends nothing
    Duration peer_idle = Duration::seconds(60);     // a peer sends gossip every round
    Duration write = Duration::seconds(30);         // replies to a client not taken by it
};

// This node's two clocks (core/types.h). The wall clock is what the core stamps and
// the front ends compute TTLs with; the monotonic one times deadlines, the failure
// detector and latencies, and does not move when the host's clock is set.
Time wall_now();
Instant mono_now();
Now clocks_now();
// For chaos tests (shoald's clock_offset_ms, `shoal dev clock`): every reading of
// wall_now() is off by `d`, as on a host whose clock is set wrong. The monotonic clock
// is not: deadlines and liveness keep their pace, as they do when NTP steps a clock.
void set_clock_offset(Duration d);

struct ShellConfig {
    NodeId id;
    std::string peer_host = "127.0.0.1";
    std::uint16_t peer_port = 0;  // 0: the OS picks
    std::string client_host = "127.0.0.1";
    std::uint16_t client_port = 0;
    store::SyncMode sync = store::SyncMode::batch;
    std::size_t max_frame_bytes = 0;                  // 0: wire::k_default_max_frame_bytes
    std::size_t peer_queue_bytes = 32 * 1024 * 1024;  // per peer; past it messages are dropped
    std::size_t max_client_connections = 1024;
    std::size_t max_peer_connections = 256;  // inbound; a cluster has far fewer members
    std::size_t max_unnamed_connections = 32;  // inbound on either port, before their hello
    ConnTimeouts conn_timeouts;
    // Reopens the inner store after it failed a commit (LevelDB's errors are sticky);
    // called on the loop with no batch out. Empty: no recovery.
    std::function<std::error_code()> reopen_store;
    // Moves a store that cannot go on aside and starts the node again on a fresh one
    // (see StoreHealth); returns only when that failed. Empty: it stays failing.
    std::function<void(std::error_code)> rebuild_store;
    StoreRebuilt store_rebuilt;  // from the store's metadata, for /health
    std::string data_dir;  // for the free space /health and /metrics report
    std::size_t max_inflight_per_connection = 128;  // past it the connection is not read (pipelining depth)
    std::size_t max_staged_bytes = 64u << 20;  // writes staged or syncing; past it, backpressure
    Duration tick = Duration::millis(10);
    LinkTimeouts link_timeouts;  // peer links, both ends
    // TLS on the peer port (both ends present certificates from the cluster CA, and the
    // node id comes from the certificate) and the client port. nullptr: plain TCP.
    std::shared_ptr<const tls::NodeContexts> tls;
    // Called (on the loop thread) once this node has left the cluster: it owns
    // nothing any more and should shut down.
    std::function<void()> on_exit;
};

class Shell final : public http::Backend {
public:
    // Binds the peer and client listeners; errors come back in ec.
    Shell(boost::asio::io_context& io, replica::Node& node, store::BufferedStore& store, Membership& membership,
          ShellConfig config, std::error_code& ec);
    ~Shell() override;
    Shell(const Shell&) = delete;
    Shell& operator=(const Shell&) = delete;

    // Starts accepting, connecting to peers and ticking.
    void start();
    // Stops accepting, lets in-flight requests finish (up to `grace`), commits the
    // store synced, closes every connection, then calls done.
    void stop(Duration grace, std::function<void()> done);

    std::uint16_t peer_port() const;
    std::uint16_t client_port() const;

    // http::Backend
    void submit(replica::ClientRequest request, std::function<void(replica::ClientReply)> done) override;
    std::string cluster_json() override;
    std::string metrics_text() override;
    Health health() override;
    http::Response membership(const http::MembershipCall& call) override;
    http::Response namespaces(const http::NamespaceCall& call) override;
    const replica::Namespaces& namespaces() const override;

    struct Impl;

private:
    std::shared_ptr<Impl> impl_;
};

}  // namespace shoal::net
