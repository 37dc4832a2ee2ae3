// The shell's two listeners: the peer port (nodes of the cluster, TLS with their
// certificates when on) and the native client port.
#include "net/shell_impl.h"

namespace shoal::net {

// Closes a just-accepted connection when its port holds `limit` already, or too many
// connections are still without their hello; says so. True when it closed it.
bool Shell::Impl::refuse_over_limit(tcp::socket& s, bool peer, std::size_t limit) {
    if (conns_.count(peer) < limit && conns_.unnamed() < config_.max_unnamed_connections) return false;
    ++metrics_.connections_refused;
    log::warn(peer ? "peer connection refused: limit reached" : "client connection refused: limit reached",
              "connections=" + std::to_string(conns_.count(peer)) + " limit=" + std::to_string(limit) +
                  " unnamed=" + std::to_string(conns_.unnamed()));
    boost::system::error_code ignored;
    s.close(ignored);
    return true;
}

awaitable<void> Shell::Impl::accept_on(tcp::acceptor& acceptor, bool peer, std::size_t limit,
                                       std::function<void(tcp::socket)> serve) {
    auto self = shared_from_this();
    while (!stopped_) {
        boost::system::error_code ec;
        tcp::socket s = co_await acceptor.async_accept(asio::redirect_error(use_awaitable, ec));
        if (ec) {
            if (stopped_ || ec == asio::error::operation_aborted) break;
            ++metrics_.accept_failures;
            co_await pause_after_failed_accept(io_, peer ? "peer" : "client", ec);
            continue;
        }
        if (refuse_over_limit(s, peer, limit)) continue;
        serve(std::move(s));
    }
}

void Shell::Impl::accept_peer(tcp::socket s) {
    // Watched from here on: the limits count it before its reader starts (and the hello
    // bound covers the TLS handshake).
    auto stream = config_.tls ? std::make_shared<tls::Stream>(std::move(s), config_.tls->peer_server())
                              : std::make_shared<tls::Stream>(std::move(s));
    const auto watched = conns_.add(true, nullptr, [stream] { stream->close(); });
    asio::co_spawn(io_, serve_peer(stream, watched), asio::detached);
}

std::string Shell::Impl::check_peer_hello(const wire::Frame& frame, const tls::Identity& certified) const {
    if (frame.kind != wire::Frame::Kind::hello || frame.hello.role != wire::Hello::Role::peer ||
        !frame.hello.node.valid() || frame.hello.node == config_.id) {
        return "first frame is not a hello from another node";
    }
    if (frame.hello.protocol != wire::k_protocol_version) {
        // Another release: its frames may not read here, nor ours there.
        return "node " + std::to_string(frame.hello.node.value) + " speaks peer protocol " +
               std::to_string(frame.hello.protocol) + ", this node " + std::to_string(wire::k_protocol_version) +
               " (a cluster runs one release: stop every node, upgrade, start them again)";
    }
    if (config_.tls && frame.hello.node.value != certified.node) {
        return "hello claims node " + std::to_string(frame.hello.node.value) + " but the certificate names " +
               tls::describe(certified);
    }
    return {};
}

awaitable<void> Shell::Impl::serve_peer(std::shared_ptr<tls::Stream> held, ConnWatch::Handle watched) {
    auto self = shared_from_this();
    tls::Stream& stream = *held;
    tune_peer_socket(stream.socket(), config_.link_timeouts);
    boost::system::error_code ec;
    co_await stream.async_handshake(asio::ssl::stream_base::server, asio::redirect_error(use_awaitable, ec));
    tls::Identity certified = stream.peer();
    if (!ec && config_.tls && !certified.is_node()) ec = asio::error::access_denied;
    if (ec) {
        conns_.remove(watched);
        ++metrics_.peer_handshakes_refused;
        log::warn("peer connection refused: TLS handshake", "presented=" + log::quoted(tls::describe(certified)) +
                                                                " error=" + log::quoted(ec.message()));
        stream.close();
        co_return;
    }
    NodeId from;
    const std::function<std::string(wire::Frame&)> on_frame = [this, &from,
                                                               &certified](wire::Frame& frame) -> std::string {
        if (!from.valid()) {
            // Any node of the cluster may introduce itself (a joining one is in no view
            // yet); what it says is validated by the gossiper and the core. Under TLS
            // it is the node its certificate names, or nobody.
            if (std::string refused = check_peer_hello(frame, certified); !refused.empty()) return refused;
            from = frame.hello.node;
            return {};
        }
        const Now now = clocks_now();
        ++metrics_.peer_messages_in;
        // Gossip from anyone (a joiner's first comes before it is a member: the
        // gossiper validates it, and counts it as liveness only from members);
        // replica traffic only from members of the view.
        if (frame.kind == wire::Frame::Kind::gossip) {
            membership_.gossiper().step(now.mono, from, frame.gossip);
        } else if (frame.kind == wire::Frame::Kind::peer) {
            if (!gossip::find_member(membership_.gossiper().view(), from)) {
                ++metrics_.peer_messages_dropped;
                return {};
            }
            node_.step(now, from, std::move(frame.peer));
        } else {
            return "unexpected frame kind on a peer connection";
        }
        schedule_flush();
        return {};
    };
    const std::string why = co_await read_frames(stream, config_.max_frame_bytes, stopped_, on_frame, nullptr,
                                                 nullptr, &watched->reading);
    conns_.remove(watched);
    if (!why.empty()) {
        ++metrics_.bad_frames;
        log::warn("closing peer connection", fields_peer(from, "reason=" + log::quoted(why)));
    }
    stream.close();
}

void Shell::Impl::accept_client(tcp::socket s) {
    boost::system::error_code ec;
    s.set_option(tcp::no_delay(true), ec);
    ++metrics_.client_connections;
    auto conn = std::make_shared<ClientConn>(
        config_.tls ? tls::Stream(std::move(s), config_.tls->client_server()) : tls::Stream(std::move(s)), io_);
    const auto watched = conns_.add(false, &conn->writing_progress, [conn] { conn->close(); });
    asio::co_spawn(io_, serve_client(conn, watched), asio::detached);
    asio::co_spawn(io_, write_client(conn), asio::detached);
}

awaitable<void> Shell::Impl::write_client(std::shared_ptr<ClientConn> c) {
    auto self = shared_from_this();
    const std::function<void()> paced = [this, c] { pace(*c); };
    if (co_await write_batches(c->stream, c->out, c->writing, c->wake, c->closed, &c->writing_progress, &paced))
        c->close();
}

void Shell::Impl::on_client_frame(const std::shared_ptr<ClientConn>& c, wire::ClientFrame& f) {
    const std::uint64_t id = f.request_id;
    // Reads need readonly, writes readwrite (roles from the hello's token or the certificate; tls/identity.h).
    if (config_.tls) {
        // The tokens were reloaded (SIGHUP): a token revoked since the hello stops here.
        if (!c->token.empty() && c->token_generation != config_.tls->generation()) {
            c->token_generation = config_.tls->generation();
            c->identity = config_.tls->identify(c->token);
            c->token_refused = c->identity.kind == tls::Identity::Kind::none;
        }
        const tls::Role held = c->token_refused ? tls::Role::none : tls::role_of(c->identity, config_.tls->access());
        const tls::Role needed =
            f.request.op == replica::ClientOp::get ? tls::Role::readonly : tls::Role::readwrite;
        if (!tls::permits(held, needed)) {
            ++metrics_.requests_forbidden;
            const std::string why = c->token_refused ? "the token in its hello names no client"
                                                     : tls::refusal(c->identity, held, needed);
            log::info("client request refused", "reason=" + log::quoted(why));
            wire::encode_reply(id, replica::ClientReply{0, errc::forbidden}, c->out);
            c->wake.cancel();
            return;
        }
    }
    ++c->inflight;
    pace(*c);
    std::weak_ptr<ClientConn> weak = c;
    submit(std::move(f.request), [this, weak, id](replica::ClientReply reply) {
        auto conn = weak.lock();
        if (!conn || conn->closed) return;
        --conn->inflight;
        wire::encode_reply(id, reply, conn->out);
        pace(*conn);
        conn->wake.cancel();
    });
}

awaitable<void> Shell::Impl::serve_client(std::shared_ptr<ClientConn> c, ConnWatch::Handle watched) {
    auto self = shared_from_this();
    boost::system::error_code ec;
    co_await c->stream.async_handshake(asio::ssl::stream_base::server, asio::redirect_error(use_awaitable, ec));
    if (ec) {
        conns_.remove(watched);
        ++metrics_.client_handshakes_refused;
        log::warn("client connection refused: TLS handshake", "error=" + log::quoted(ec.message()));
        c->close();
        co_return;
    }
    c->identity = c->stream.peer();
    bool greeted = false;
    const std::function<std::string(wire::Frame&)> on_frame = [this, &c,
                                                               &greeted](wire::Frame& frame) -> std::string {
        if (!greeted) {
            if (frame.kind != wire::Frame::Kind::hello) return "first frame is not a hello";
            greeted = true;
            // A token names the client (over its certificate, as Redis AUTH does). One
            // that names nobody gets it no role, not even the anonymous one: each of its
            // requests is answered forbidden.
            if (!frame.hello.token.empty() && config_.tls) {
                c->token = frame.hello.token;
                c->token_generation = config_.tls->generation();
                c->identity = config_.tls->identify(c->token);
                c->token_refused = c->identity.kind == tls::Identity::Kind::none;
                if (c->token_refused) log::info("client token refused", "reason=" + log::quoted("it names no client"));
            }
            return {};
        }
        if (frame.kind != wire::Frame::Kind::client_request) return "unexpected frame kind on a client connection";
        on_client_frame(c, frame.request);
        return {};
    };
    // A closed connection (its writer failed) also ends the read: its socket is closed.
    const std::string why = co_await read_frames(c->stream, config_.max_frame_bytes, stopped_, on_frame, &gate_,
                                                 &c->backlog, &watched->reading);
    conns_.remove(watched);
    if (!why.empty()) {
        ++metrics_.bad_frames;
        log::warn("closing client connection", "reason=" + log::quoted(why));
    }
    // Let queued replies go out before closing, unless the peer is gone.
    if (why.empty())
        c->close();
    else
        asio::post(io_, [c] { c->close(); });
}

}  // namespace shoal::net
