// The HTTP API's socket half: Boost.Beast, included here and nowhere else.
//
// One C++20 coroutine accepts; one coroutine per connection reads a bounded request,
// routes it (api.h), waits for the Backend when it is a key-value call, writes the
// response, and loops while the client keeps the connection alive. One request is
// handled at a time per connection, so responses go out in request order (pipelined
// requests simply wait in the read buffer). Everything runs on the io_context's thread.
#include "http/server.h"

#include <atomic>
#include <chrono>
#include <exception>
#include <map>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "core/errc.h"
#include "http/api.h"
#include "net/listen.h"
#include "net/log.h"
#include "net/metrics.h"
#include "tls/stream.h"

namespace shoal::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using asio::awaitable;
using asio::use_awaitable;
using tcp = asio::ip::tcp;

namespace {

std::chrono::microseconds to_chrono(Duration d) {
    return std::chrono::microseconds(d.us);
}

std::string endpoint_text(const tcp::endpoint& ep) {
    return ep.address().to_string() + ":" + std::to_string(ep.port());
}

bool is_power_of_two(std::uint64_t n) {
    return n != 0 && (n & (n - 1)) == 0;
}

struct Conn;

// The server's state, shared by the accept loop and every session (they hold it by
// shared_ptr, so it outlives an HttpServer destroyed while they wind down).
struct ServerState : std::enable_shared_from_this<ServerState> {
    ServerState(asio::io_context& io, Backend& b, ServerOptions o) : acceptor(io), backend(b), options(std::move(o)) {
        // The core checks keys and values against its own configured Limits and its
        // errc renders as 413; here the bounds only follow what the parser admits.
        limits.max_key_bytes = options.max_header_bytes;
        limits.max_value_bytes = options.max_body_bytes;
    }

    tcp::acceptor acceptor;
    Backend& backend;
    ServerOptions options;
    Limits limits;
    std::uint16_t port = 0;
    bool stopped = false;
    std::atomic<std::size_t> active{0};
    std::uint64_t rejected = 0;  // connections closed for being over max_connections
    std::uint64_t handshakes_refused = 0;  // TLS handshakes that failed
    std::uint64_t forbidden = 0;           // requests refused 401/403 for the caller's role
    bool loopback = true;                  // the listener is on loopback: /health, /metrics, /cluster open
    std::unordered_set<Conn*> conns;
    std::map<unsigned, std::uint64_t> responses;  // by status; the statuses this file sends (a few dozen)

    // shoal_http_* for /metrics, after the backend's.
    void render_metrics(std::string& out) const {
        net::render_family(out, "shoal_http_responses_total", "counter");
        for (const auto& [status, count] : responses)
            out += "shoal_http_responses_total{status=\"" + std::to_string(status) + "\"} " + std::to_string(count) + "\n";
        net::render_gauge(out, "shoal_http_connections_open", active.load());
        net::render_counter(out, "shoal_http_connections_refused_total", rejected);
        net::render_counter(out, "shoal_http_tls_handshakes_refused_total", handshakes_refused);
        net::render_counter(out, "shoal_http_forbidden_total", forbidden);
    }

    awaitable<void> accept_loop();
};

// One connection. Owned by its session coroutine; registered with the server so
// that stop() can close it.
struct Conn {
    Conn(std::shared_ptr<ServerState> s, tls::Stream st, tcp::endpoint p)
        : server(std::move(s)), stream(std::move(st)), deadline(stream.get_executor()), peer(std::move(p)) {
        server->conns.insert(this);
        server->active.fetch_add(1);
    }
    ~Conn() {
        deadline.cancel();
        server->conns.erase(this);
        server->active.fetch_sub(1);
    }
    Conn(const Conn&) = delete;
    Conn& operator=(const Conn&) = delete;

    // The connection is closed if what follows has not finished within `d` (the
    // operation in flight then ends with operation_aborted).
    template <class D>
    void expires_after(D d) {
        deadline.expires_after(d);
        deadline.async_wait([this](const boost::system::error_code& ec) {
            if (!ec) stream.close();  // cancelled (re-armed, or the Conn is going): nothing to do
        });
    }

    std::shared_ptr<ServerState> server;
    tls::Stream stream;
    asio::steady_timer deadline;
    tcp::endpoint peer;
    beast::flat_buffer buffer;
    tls::Identity identity;  // from the client's certificate, when it presented one
};

using BeastResponse = bhttp::response<bhttp::string_body>;

// `head`: the answer to a HEAD request: the headers a GET would get, no body.
BeastResponse to_beast(Response r, unsigned version, bool keep_alive, bool head = false) {
    BeastResponse res;
    res.version(version);
    res.result(r.status);
    for (auto& [name, value] : r.headers) res.set(name, value);
    res.keep_alive(keep_alive);
    if (r.status == 204 || r.status == 304) return res;  // no body, no Content-Length
    res.set(bhttp::field::content_type, r.content_type);
    if (head) {
        res.content_length(r.body.size());
        return res;
    }
    res.body() = std::move(r.body);
    res.prepare_payload();
    return res;
}

Response plain(unsigned status, std::string body) {
    Response r;
    r.status = status;
    r.body = std::move(body) + "\n";
    return r;
}

// Starts a Backend call; the completion handler is the awaiting coroutine. `done` is
// called once, on the loop thread, now or later; the coroutine resumes through a post
// so that a reply given from inside submit() does not resume it from within its own
// suspension. (A named initiation rather than a capturing lambda: GCC 12 mishandles
// lambda temporaries with init-captures inside co_await expressions.)
struct BackendCall {
    Backend* backend;
    replica::ClientRequest* request;  // lives in the awaiting coroutine's frame
    asio::any_io_executor executor;

    template <class Handler>
    void operator()(Handler handler) const {
        auto shared = std::make_shared<Handler>(std::move(handler));
        backend->submit(std::move(*request), [shared, executor = executor](replica::ClientReply reply) {
            asio::post(executor, [shared, reply = std::move(reply)]() mutable { (*shared)(std::move(reply)); });
        });
    }
};

awaitable<replica::ClientReply> call_backend(Backend& backend, replica::ClientRequest request) {
    const BackendCall call{&backend, &request, co_await asio::this_coro::executor};
    replica::ClientReply reply =
        co_await asio::async_initiate<decltype(use_awaitable), void(replica::ClientReply)>(call, use_awaitable);
    co_return reply;
}

// A request's path as logged: a key-value path names its route, not its key.
std::string logged_path(std::string_view target) {
    const std::string_view path = target.substr(0, target.find('?'));
    if (path.starts_with("/kv/")) return "/kv/{key}";
    return std::string(path.substr(0, 64));
}

// The role a routed request needs: reads readonly, writes readwrite, membership and
// namespace changes admin; the node's own state is open while the listener is on
// loopback, readonly beyond it.
tls::Role needed_role(const Routed& routed, bool loopback) {
    if (const auto* call = std::get_if<KvCall>(&routed))
        return call->request.op == replica::ClientOp::get ? tls::Role::readonly : tls::Role::readwrite;
    if (std::holds_alternative<Admin>(routed)) return loopback ? tls::Role::none : tls::Role::readonly;
    if (std::holds_alternative<MembershipCall>(routed)) return tls::Role::admin;
    if (const auto* call = std::get_if<NamespaceCall>(&routed)) {
        const bool change = call->op == NamespaceCall::Op::create || call->op == NamespaceCall::Op::set;
        return change ? tls::Role::admin : tls::Role::readonly;
    }
    return tls::Role::none;  // an error answer: nothing to protect
}

// 401 (who are you?) or 403 (not you), when the caller may not do what it asked; else none.
std::optional<Response> refuse(Conn& conn, const Routed& routed, std::string_view authorization) {
    ServerState& server = *conn.server;
    if (!server.options.tls) return std::nullopt;  // TLS off: loopback only, every caller is admin
    const tls::Access& access = server.options.tls->access();
    tls::Identity caller = conn.identity;
    constexpr std::string_view bearer = "Bearer ";
    // A token, when given, names the caller over its certificate (as on the native
    // protocol and with Redis AUTH).
    if (authorization.starts_with(bearer)) {
        caller = server.options.tls->identify(authorization.substr(bearer.size()));
        if (caller.kind == tls::Identity::Kind::none) {
            Response r = plain(401, "unknown token");
            r.headers.emplace_back("WWW-Authenticate", "Bearer");
            return r;
        }
    }
    const tls::Role held = tls::role_of(caller, access);
    const tls::Role needed = needed_role(routed, server.loopback);
    if (tls::permits(held, needed)) return std::nullopt;
    const bool anonymous = caller.kind == tls::Identity::Kind::none;
    Response r = plain(anonymous ? 401 : 403, tls::refusal(caller, held, needed));
    if (anonymous) r.headers.emplace_back("WWW-Authenticate", "Bearer");
    return r;
}

awaitable<Response> respond(Conn& conn, const Request& request, std::string_view authorization) {
    ServerState& server = *conn.server;
    Routed routed = route(request, server.limits, server.options.defaults, &server.backend.namespaces());
    if (auto refused = refuse(conn, routed, authorization)) {
        ++server.forbidden;
        log::info("http request refused", "peer=" + endpoint_text(conn.peer) + " status=" +
                                              std::to_string(refused->status) + " path=" +
                                              log::quoted(logged_path(request.target)) +
                                              " reason=" + log::quoted(refused->body.substr(0, refused->body.find('\n'))));
        co_return std::move(*refused);
    }
    if (auto* call = std::get_if<KvCall>(&routed)) {
        const replica::ClientOp op = call->request.op;
        const replica::ClientReply reply = co_await call_backend(server.backend, std::move(call->request));
        const auto wall_us = std::chrono::duration_cast<std::chrono::microseconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count();
        co_return call->datatype ? render_datatype(*call->datatype, op, reply, Time{wall_us})
                                 : render(op, reply, Time{wall_us});
    }
    if (auto* admin = std::get_if<Admin>(&routed)) {
        Response r;
        switch (*admin) {
            case Admin::cluster:
                r.content_type = "application/json";
                r.body = server.backend.cluster_json();
                break;
            case Admin::metrics:
                r.content_type = "text/plain; version=0.0.4";
                r.body = server.backend.metrics_text();
                server.render_metrics(r.body);
                break;
            case Admin::health: {
                Backend::Health h = server.backend.health();
                r.status = h.serving ? 200 : 503;
                r.content_type = "application/json";
                r.body = std::move(h.json);
                break;
            }
        }
        co_return r;
    }
    if (auto* call = std::get_if<MembershipCall>(&routed)) co_return server.backend.membership(*call);
    if (auto* call = std::get_if<NamespaceCall>(&routed)) co_return server.backend.namespaces(*call);
    Response r = std::get<Response>(std::move(routed));
    if (r.status >= 400 && r.status < 500) {
        // A client's mistake, not the node's: info, and without the key (keys are the
        // client's data: a session id, a user's cart).
        log::info("http bad request", "peer=" + endpoint_text(conn.peer) + " status=" + std::to_string(r.status) +
                                          " method=" + log::quoted(request.method) +
                                          " path=" + log::quoted(logged_path(request.target)) +
                                          " reason=" + log::quoted(r.body.substr(0, r.body.find('\n'))));
    }
    co_return r;
}

// Writes a final error response to a client whose request could not be read, then
// closes gracefully: stop sending, discard what it still sends (bounded in bytes and
// time) so that closing does not reset the connection before it reads the response.
awaitable<void> fail_and_close(Conn& conn, unsigned status, std::string message) {
    log::warn("http bad request", "peer=" + endpoint_text(conn.peer) + " status=" + std::to_string(status) +
                                      " reason=" + log::quoted(message));
    ++conn.server->responses[status];
    BeastResponse res = to_beast(plain(status, std::move(message)), 11, false);
    beast::error_code ec;
    conn.expires_after(to_chrono(conn.server->options.read_timeout));
    co_await bhttp::async_write(conn.stream, res, asio::redirect_error(use_awaitable, ec));
    if (ec) co_return;
    if (!conn.stream.tls()) conn.stream.socket().shutdown(tcp::socket::shutdown_send, ec);
    conn.expires_after(std::chrono::seconds(1));
    constexpr std::size_t k_max_drain_bytes = std::size_t{1} << 20;
    char sink[4096];
    for (std::size_t drained = 0; !ec && drained < k_max_drain_bytes;) {
        drained += co_await conn.stream.async_read_some(asio::buffer(sink), asio::redirect_error(use_awaitable, ec));
    }
}

// Reads one request into `parser`. On error, ec says why; a clean end between
// requests is bhttp::error::end_of_stream.
awaitable<void> read_request(Conn& conn, bhttp::request_parser<bhttp::string_body>& parser, beast::error_code& ec) {
    const ServerOptions& options = conn.server->options;
    if (conn.buffer.size() == 0) {  // idle: wait for the first byte of the next request
        conn.expires_after(to_chrono(options.idle_timeout));
        const std::size_t n =
            co_await conn.stream.async_read_some(conn.buffer.prepare(4096), asio::redirect_error(use_awaitable, ec));
        conn.buffer.commit(n);
        if (ec == asio::error::eof) ec = bhttp::error::end_of_stream;
        if (ec) co_return;
    }
    conn.expires_after(to_chrono(options.read_timeout));
    co_await bhttp::async_read_header(conn.stream, conn.buffer, parser, asio::redirect_error(use_awaitable, ec));
    if (ec) co_return;
    const auto& header = parser.get();
    if (header.version() >= 11 && beast::iequals(header[bhttp::field::expect], "100-continue")) {
        static constexpr std::string_view k_continue = "HTTP/1.1 100 Continue\r\n\r\n";
        co_await asio::async_write(conn.stream, asio::buffer(k_continue.data(), k_continue.size()),
                                   asio::redirect_error(use_awaitable, ec));
        if (ec) co_return;
    }
    co_await bhttp::async_read(conn.stream, conn.buffer, parser, asio::redirect_error(use_awaitable, ec));
}

// One connection: read, respond, repeat while keep-alive. Arguments by value: the
// coroutine owns its connection.
awaitable<void> session(std::shared_ptr<Conn> conn) {
    const ServerOptions& options = conn->server->options;
    if (conn->stream.tls()) {
        beast::error_code ec;
        conn->expires_after(to_chrono(options.read_timeout));
        co_await conn->stream.async_handshake(asio::ssl::stream_base::server, asio::redirect_error(use_awaitable, ec));
        if (ec) {
            ++conn->server->handshakes_refused;
            log::info("https handshake failed", "peer=" + endpoint_text(conn->peer) + " error=" + log::quoted(ec.message()));
            conn->stream.close();
            co_return;
        }
        conn->identity = conn->stream.peer();
    }
    for (;;) {
        bhttp::request_parser<bhttp::string_body> parser;
        parser.body_limit(options.max_body_bytes);
        parser.header_limit(static_cast<std::uint32_t>(options.max_header_bytes));
        beast::error_code ec;
        co_await read_request(*conn, parser, ec);
        if (ec == bhttp::error::end_of_stream || ec == asio::error::operation_aborted ||
            ec == asio::error::connection_reset || ec == asio::error::eof || conn->server->stopped) {
            break;
        }
        if (ec == bhttp::error::body_limit) {
            co_await fail_and_close(
                *conn, 413, "request body too large (limit " + std::to_string(options.max_body_bytes) + " bytes)");
            break;
        }
        if (ec == bhttp::error::header_limit) {
            co_await fail_and_close(
                *conn, 431, "request header too large (limit " + std::to_string(options.max_header_bytes) + " bytes)");
            break;
        }
        if (ec) {
            co_await fail_and_close(*conn, 400, "bad HTTP request: " + ec.message());
            break;
        }

        auto& req = parser.get();
        Request request{std::string(req.method_string()), std::string(req.target()), std::string(req[k_context_header]),
                        std::move(req.body()), std::string(req[boost::beast::http::field::if_none_match]),
                        std::string(req[boost::beast::http::field::if_match]),
                        std::string(req[boost::beast::http::field::content_type])};
        const bool keep_alive = req.keep_alive();
        const unsigned version = req.version();
        const std::string authorization(req[bhttp::field::authorization]);
        Response response = co_await respond(*conn, request, authorization);
        if (conn->server->stopped) break;
        ++conn->server->responses[response.status];

        BeastResponse res = to_beast(std::move(response), version, keep_alive, request.method == "HEAD");
        conn->expires_after(to_chrono(options.read_timeout));
        co_await bhttp::async_write(conn->stream, res, asio::redirect_error(use_awaitable, ec));
        if (ec || !keep_alive) break;
    }
    beast::error_code ignored;
    if (!conn->stream.tls()) conn->stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    conn->stream.close();
}

// What a connection over the limit gets before it is closed: an answer it can act on.
void refuse_busy(tcp::socket& socket) {
    static const std::string k_answer = [] {
        const std::string body = "too many connections: try again later\n";
        return "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nRetry-After: 1\r\n"
               "Connection: close\r\nContent-Length: " +
               std::to_string(body.size()) + "\r\n\r\n" + body;
    }();
    // Best effort, without blocking the loop: a fresh socket's send buffer takes it. What
    // the client already sent is read first, so that the close does not reset the answer.
    beast::error_code ec;
    socket.non_blocking(true, ec);
    char sink[4096];
    (void)socket.read_some(asio::buffer(sink), ec);
    (void)socket.write_some(asio::buffer(k_answer), ec);
    socket.shutdown(tcp::socket::shutdown_send, ec);
    socket.close(ec);
}

}  // namespace

struct HttpServer::Impl : ServerState {
    using ServerState::ServerState;
};

awaitable<void> ServerState::accept_loop() {
    auto self = shared_from_this();  // the loop keeps the server state alive
    asio::steady_timer backoff(acceptor.get_executor());
    while (!stopped) {
        beast::error_code ec;
        tcp::socket socket = co_await acceptor.async_accept(asio::redirect_error(use_awaitable, ec));
        if (stopped || ec == asio::error::operation_aborted) break;
        if (ec) {  // e.g. out of file descriptors: say so, and do not spin
            log::warn("http accept failed", "error=" + log::quoted(ec.message()));
            backoff.expires_after(std::chrono::milliseconds(100));
            co_await backoff.async_wait(asio::redirect_error(use_awaitable, ec));
            continue;
        }
        tcp::endpoint peer = socket.remote_endpoint(ec);
        if (active.load() >= options.max_connections) {
            ++rejected;
            if (is_power_of_two(rejected)) {
                log::warn("http connection limit reached, closing new connection",
                          "peer=" + endpoint_text(peer) + " max_connections=" +
                              std::to_string(options.max_connections) + " rejected_total=" + std::to_string(rejected));
            }
            refuse_busy(socket);
            continue;
        }
        socket.set_option(tcp::no_delay(true), ec);
        auto conn = std::make_shared<Conn>(
            self, options.tls ? tls::Stream(std::move(socket), options.tls->client_server()) : tls::Stream(std::move(socket)),
            peer);
        asio::co_spawn(acceptor.get_executor(), session(std::move(conn)),
                       [](const std::exception_ptr& e) { log::log_exception("http session failed", e); });
    }
}

HttpServer::HttpServer(asio::io_context& io, Backend& backend, ServerOptions options, std::error_code& ec)
    : impl_(std::make_shared<Impl>(io, backend, std::move(options))) {
    ec.clear();
    Impl& s = *impl_;
    bool loopback = true;
    if (const auto bec = net::listen_on(s.acceptor, s.options.address, s.options.port, loopback)) {
        ec = bec;
        return;
    }
    s.loopback = loopback;
    beast::error_code bec;
    s.port = s.acceptor.local_endpoint(bec).port();
    log::info("http listening", "address=" + log::quoted(s.options.address) + " port=" + std::to_string(s.port));
    if (!loopback && !s.options.tls) {
        log::warn("the HTTP API is reachable beyond this machine without TLS",
                  "address=" + log::quoted(s.options.address) + " port=" + std::to_string(s.port));
    }
    asio::co_spawn(io, s.accept_loop(),
                   [](const std::exception_ptr& e) { log::log_exception("http accept loop failed", e); });
}

HttpServer::~HttpServer() {
    stop();
}

std::uint16_t HttpServer::port() const {
    return impl_->port;
}

std::size_t HttpServer::connections() const {
    return impl_->active.load();
}

void HttpServer::stop() {
    Impl& s = *impl_;
    if (s.stopped) return;
    s.stopped = true;
    beast::error_code ec;
    s.acceptor.close(ec);
    for (Conn* conn : s.conns) conn->stream.close();  // their coroutines end on operation_aborted
}

}  // namespace shoal::http
