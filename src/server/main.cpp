// shoald: one Shoal node. Wires the pure core to LevelDB, the Asio shell and the
// HTTP API; handles signals and the data-directory lock.
#include <chrono>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/build_info.h"
#include "core/rng.h"
#include "gossip/gossiper.h"
#include "health/detector.h"
#include "http/server.h"
#include "net/log.h"
#include "net/debug_events.h"
#include "net/membership.h"
#include "net/shell.h"
#include "resp/server.h"
#include "replica/node.h"
#include "ring/ring.h"
#include "server/config.h"
#include "server/store_rebuild.h"
#include "store/buffered_store.h"
#include "store/leveldb_store.h"
#include "tls/context.h"

using namespace shoal;

namespace {

// Holds an exclusive flock on DIR/shoald.lock for the life of the process.
bool lock_data_dir(const std::string& dir, std::string& err) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) {
        err = "cannot create data dir '" + dir + "': " + ec.message();
        return false;
    }
    const std::string path = dir + "/shoald.lock";
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0 || ::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        err = "data dir '" + dir + "' is in use by another shoald (lock: " + path + ")";
        return false;
    }
    std::string pid = std::to_string(::getpid()) + "\n";
    if (::ftruncate(fd, 0) == 0) [[maybe_unused]]
        auto n = ::write(fd, pid.data(), pid.size());
    return true;  // the descriptor stays open until exit
}

// The ring a node routes by before it knows its cluster: itself alone. Client
// requests are refused until the gossiper has a founded view (see Membership).
std::shared_ptr<const ring::Ring> placeholder_ring(const server::NodeOptions& o) {
    std::vector<ring::Member> members{{NodeId{o.id}, o.zone}};
    std::vector<NodeId> owners(o.partitions, NodeId{o.id});
    return std::make_shared<const ring::Ring>(o.partitions, std::move(members), std::move(owners));
}

// Descriptors the node needs besides its connections: LevelDB's table cache (its
// default max_open_files, 1000), its logs, the lock, the listeners and the peer links.
constexpr std::uint64_t k_reserved_fds = 1000 + 100;

// Raises the soft descriptor limit to the hard one, and lowers the client and HTTP
// connection limits to what the descriptors left can hold; says what it chose.
void size_connection_limits(server::NodeOptions& o) {
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return;
    if (rl.rlim_cur < rl.rlim_max) {
        rlimit raised = rl;
        raised.rlim_cur = rl.rlim_max;
        if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) rl = raised;
    }
    const std::uint64_t fds = rl.rlim_cur;
    const std::uint64_t room = fds > k_reserved_fds + 2 ? fds - k_reserved_fds : 2;
    const std::uint64_t want = o.max_client_connections + o.max_http_connections;
    const bool lowered = want > room;
    if (lowered) {
        o.max_client_connections = std::max<std::uint64_t>(1, o.max_client_connections * room / want);
        o.max_http_connections = std::max<std::uint64_t>(1, o.max_http_connections * room / want);
    }
    log::write(lowered ? log::Level::warn : log::Level::info,
               lowered ? "connection limits lowered to fit the descriptor limit" : "descriptor limit",
               "descriptors=" + std::to_string(fds) + " max_client_connections=" +
                   std::to_string(o.max_client_connections) +
                   " max_http_connections=" + std::to_string(o.max_http_connections));
}

// The least time between two rebuilds of a node's store (see store_rebuild.h).
constexpr std::uint64_t k_rebuild_spacing_s = 3600;

int fail(const std::string& msg) {
    log::error("cannot start", "error=" + log::quoted(msg));
    std::fprintf(stderr, "shoald: %s\n", msg.c_str());
    return 1;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc == 2 && std::string_view(argv[1]) == "--version") {
        std::puts(shoal::version_line("shoald").c_str());
        return 0;
    }
    server::NodeOptions o;
    bool help = false;
    if (auto err = server::parse_options(argc - 1, argv + 1, o, help); !err.empty()) {
        std::fprintf(stderr, "shoald: %s\n\n%s", err.c_str(), server::usage().c_str());
        return 2;
    }
    if (help) {
        std::fputs(server::usage().c_str(), stdout);
        return 0;
    }
    log::Level level;
    if (log::parse_level(o.log_level, level)) log::set_level(level);
    if (o.clock_offset_ms != 0) {
        net::set_clock_offset(Duration::millis(o.clock_offset_ms));
        log::warn("this node's wall clock is set off on purpose (clock_offset_ms)",
                  "offset_ms=" + std::to_string(o.clock_offset_ms));
    }

    size_connection_limits(o);
    std::string err;
    if (!lock_data_dir(o.data_dir, err)) return fail(err);
    std::error_code ec;
    store::LevelOptions db_options;
    db_options.compress = o.compression;
    db_options.write_buffer_bytes = store::staggered_write_buffer(db_options.write_buffer_bytes, o.id);
    const std::string db_dir = o.data_dir + "/db";
    auto db = server::open_or_rebuild(db_dir, db_options, ec, err);
    if (!db) return fail(err);
    if (auto why = server::claim_node_id(*db, o.id); !why.empty()) return fail(why);
    const net::StoreRebuilt rebuilt = server::read_rebuilt(*db);
    std::uint32_t incarnation = 0;
    // The wall clock floors it: a node whose disk was replaced still gets a new one.
    const auto wall_s = static_cast<std::uint32_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                                       std::chrono::system_clock::now().time_since_epoch())
                                                       .count());
    if (auto e = replica::bump_incarnation(*db, incarnation, wall_s))
        return fail("cannot record the incarnation: " + e.message());

    store::BufferedStore buffered(*db, o.sync, o.read_cache_mb << 20);
    replica::NodeConfig nc;
    nc.id = NodeId{o.id};
    nc.incarnation = incarnation;
    nc.limits = o.limits;
    nc.n = o.n;
    nc.r = o.r;
    nc.w = o.w;
    nc.conflict = o.conflict;
    nc.request_timeout = Duration::millis(o.request_timeout_ms);
    nc.read_fanout = o.read_fanout;
    nc.read_retry = Duration::millis(o.read_retry_ms);
    nc.repair.hinted_handoff = o.hinted_handoff;
    nc.repair.anti_entropy = o.anti_entropy;
    nc.repair.hint_interval = Duration::millis(o.hint_interval_ms);
    nc.repair.max_hints = o.max_hints;
    nc.repair.max_hint_bytes = o.max_hint_bytes;
    nc.repair.ae_interval = Duration::millis(o.ae_interval_ms);
    nc.repair.scrub_interval = Duration::millis(o.scrub_interval_ms);
    nc.repair.tombstone_grace = Duration::seconds(o.tombstone_grace_s);

    // Membership: the view is saved straight to the store with synced writes.
    gossip::GossipConfig gc;
    gc.id = nc.id;
    gc.peer_address = o.peer_listen;
    gc.client_address = o.client_listen;
    gc.http_address = o.http_listen;
    gc.zone = o.zone;
    gc.partition_count = o.partitions;
    gc.seeds = o.seeds;
    gc.interval = Duration::millis(o.gossip_interval_ms);
    gc.heartbeat_interval = gc.interval;
    // The node's one failure detector, shared by its gossiper and its Node: heartbeats
    // come every gossip interval.
    health::DetectorConfig dc;
    dc.first_estimate = gc.interval;
    dc.acceptable_pause = gc.interval;
    health::Detector detector(dc);
    Rng rng(static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) ^
            (static_cast<std::uint64_t>(o.id) << 32) ^ static_cast<std::uint64_t>(::getpid()));
    {
        // An unreadable view is replaced by a fresh one, which is only safe on a node
        // without data (with data it would found a cluster of its own).
        std::optional<gossip::ClusterView> saved;
        if (auto e = gossip::load_view(*db, saved)) {
            if (net::holds_data(*db))
                return fail("the saved cluster view is unreadable (" + e.message() +
                            ") and this node holds data; restore the data dir, or start it empty");
            log::warn("saved cluster view unreadable; this empty node starts afresh",
                      "error=" + log::quoted(e.message()));
        }
    }
    gossip::Gossiper gossiper(gc, rng, *db, detector);
    auto ring = gossiper.ring();
    // At log_level = debug the core's routing and repair decisions are logged.
    net::DebugEvents debug_events;
    replica::Node node(nc, buffered, ring ? ring : placeholder_ring(o), detector,
                       log::enabled(log::Level::debug) ? &debug_events : nullptr);
    net::Membership membership(gossiper, node, detector, *db);

    // TLS: every listener and every peer link, with this node's certificate, which must
    // name this node.
    std::shared_ptr<tls::NodeContexts> tls_contexts;
    if (o.tls.enabled()) {
        tls_contexts = std::make_shared<tls::NodeContexts>();
        tls_contexts->set_access(tls::Access{true, o.anonymous_role});
        if (auto why = tls_contexts->load(o.tls); !why.empty()) return fail("tls: " + why);
        const tls::Identity own = tls::file_identity(o.tls.cert, err);
        if (!own.is_node() || own.node != o.id) {
            return fail("tls_cert " + o.tls.cert + " names " + tls::describe(own) + ", not node " +
                        std::to_string(o.id) + " (issue one with `shoal cert node " + std::to_string(o.id) + "`)");
        }
        log::info("tls on", "ca=" + log::quoted(o.tls.ca) + " cert=" + log::quoted(o.tls.cert) +
                                " min_version=" + o.tls.min_version);
    } else if (o.insecure) {
        log::warn("insecure = true: TLS is off and listeners beyond loopback serve in the clear; anyone who "
                  "reaches the peer port can read and change every key",
                  "");
    } else {
        log::info("tls off: every listener is on loopback", "");
    }

    boost::asio::io_context io(1);
    net::ShellConfig sc;
    sc.tls = tls_contexts;
    sc.id = nc.id;
    sc.sync = o.sync;
    sc.max_client_connections = o.max_client_connections;
    sc.max_frame_bytes = max_frame_bytes(o.limits);
    sc.data_dir = o.data_dir;
    // A peer's links carry gossip every round: silent for several rounds, it is gone.
    sc.conn_timeouts.peer_idle = std::max(sc.conn_timeouts.peer_idle, Duration::millis(o.gossip_interval_ms) * 5);
    sc.reopen_store = [&db] { return db->reopen(); };
    sc.store_rebuilt = rebuilt;
    sc.rebuild_store = [&, argv](std::error_code why) {
        // A disk that damages every store it is given would have the node rebuild over
        // and over: after one rebuild within the hour it stays failing instead.
        const auto now_s = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                                          std::chrono::system_clock::now().time_since_epoch())
                                                          .count());
        if (rebuilt.count > 0 && now_s < rebuilt.at_unix_s + k_rebuild_spacing_s) {
            log::error("store unusable again within an hour of its rebuild; left failing for the operator",
                       "rebuilt_at_unix_s=" + std::to_string(rebuilt.at_unix_s));
            return;
        }
        server::rebuild_and_restart(*db, db_dir, db_options, gossiper.view(), node.config().incarnation, why,
                                     argv);
    };
    if (!net::parse_host_port(o.peer_listen, sc.peer_host, sc.peer_port) ||
        !net::parse_host_port(o.client_listen, sc.client_host, sc.client_port)) {
        return fail("bad listen address");
    }
    std::function<void()> shutdown;
    sc.on_exit = [&] { shutdown(); };
    net::Shell shell(io, node, buffered, membership, sc, ec);
    if (ec) return fail("cannot listen: " + ec.message());

    http::ServerOptions ho;
    if (!net::parse_host_port(o.http_listen, ho.address, ho.port)) return fail("bad http_listen");
    ho.max_body_bytes = o.limits.max_value_bytes;
    ho.max_connections = o.max_http_connections;
    ho.tls = tls_contexts;
    ho.defaults = http::RequestDefaults{o.n, std::min(o.r, o.n), std::min(o.w, o.n), nc.max_request_timeout.ms()};
    http::HttpServer http_server(io, shell, ho, ec);
    if (ec) return fail("cannot listen for HTTP on " + o.http_listen + ": " + ec.message());

    // The Redis-protocol front end: its commands go to the core as the HTTP API's do.
    struct RespCore final : resp::Core {
        net::Shell& shell;
        replica::Node& node;
        RespCore(net::Shell& s, replica::Node& n, boost::asio::io_context& c) : shell(s), node(n), io(c) {}
        void call(replica::ClientRequest q, std::function<void(replica::ClientReply)> done) override {
            shell.submit(std::move(q), std::move(done));
        }
        Time now() override { return net::wall_now(); }
        bool last_writer_wins(const std::string& ns) override {
            return replica::namespace_conflict(node.namespaces(), ns, node.config().conflict) ==
                   replica::ConflictMode::lww;
        }
        std::string datatype(const std::string& ns) override {
            const auto& all = node.namespaces();
            auto it = all.find(ns);
            return it == all.end() ? std::string{} : it->second.datatype;
        }
        tls::Identity authenticate(std::string_view token) override {
            return tls ? tls->identify(token) : tls::Identity{};
        }
        std::uint64_t credentials_generation() override { return tls ? tls->generation() : 0; }
        std::shared_ptr<const tls::NodeContexts> tls;
        void after(Duration delay, std::function<void()> fn) override {
            auto timer = std::make_shared<boost::asio::steady_timer>(io, std::chrono::microseconds(delay.us));
            timer->async_wait([timer, fn = std::move(fn)](const boost::system::error_code&) { fn(); });
        }
        boost::asio::io_context& io;
    } resp_core(shell, node, io);
    resp_core.tls = tls_contexts;
    std::unique_ptr<resp::RespServer> resp_server;
    if (o.resp_listen != "off") {
        resp::ServerOptions ro;
        if (!net::parse_host_port(o.resp_listen, ro.address, ro.port)) return fail("bad resp_listen");
        ro.max_connections = o.max_resp_connections;
        ro.limits.max_bulk_bytes = o.limits.max_value_bytes;
        ro.limits.max_command_bytes = 4 * o.limits.max_value_bytes + 64 * 1024;  // MSET of a few full values
        ro.tls = tls_contexts;
        ro.session.databases = o.resp_databases;
        for (const auto& [prefix, ns] : o.resp_prefixes) ro.session.prefixes.push_back({prefix, ns});
        ro.session.max_value_bytes = o.limits.max_value_bytes;
        resp_server = std::make_unique<resp::RespServer>(io, resp_core, ro, ec);
        if (ec) return fail("cannot listen for the Redis protocol on " + o.resp_listen + ": " + ec.message());
    }

    shell.start();
    log::info("started", "node=" + std::to_string(o.id) + " incarnation=" + std::to_string(incarnation) +
                             " peer=" + o.peer_listen + " client=" + o.client_listen + " http=" + o.http_listen +
                             " seeds=" + std::to_string(o.seeds.size()) + " view_members=" +
                             std::to_string(gossiper.view().members.size()) +
                             " sync=" + std::string(store::sync_mode_name(o.sync)));

    boost::asio::signal_set hangups(io, SIGHUP);
    bool stopping = false;
    shutdown = [&] {
        if (stopping) return;
        stopping = true;
        if (resp_server) resp_server->stop();
        hangups.cancel();
        shell.stop(Duration::seconds(5), [&] {
            http_server.stop();
            io.stop();
        });
    };
    boost::asio::signal_set signals(io, SIGTERM, SIGINT);
    signals.async_wait([&](const boost::system::error_code& e, int sig) {
        if (e) return;
        log::info("signal received; finishing in-flight requests", "signal=" + std::to_string(sig));
        shutdown();
    });
    // SIGHUP reloads the TLS files (renewed certificates): new connections use them.
    std::function<void()> await_hangup = [&] {
        hangups.async_wait([&](const boost::system::error_code& e, int) {
            if (e) return;
            if (!tls_contexts) {
                log::info("SIGHUP: TLS is off, nothing to reload", "");
            } else if (auto why = tls_contexts->reload(); !why.empty()) {
                log::error("SIGHUP: TLS files not reloaded; the old ones stay in use", "error=" + log::quoted(why));
            } else {
                log::info("SIGHUP: TLS files reloaded", "cert=" + log::quoted(o.tls.cert));
            }
            await_hangup();
        });
    };
    await_hangup();
    io.run();
    if (auto e = db->sync()) log::error("final sync failed", "error=" + log::quoted(e.message()));
    log::info("exit");
    return 0;
}
