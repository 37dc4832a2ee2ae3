// Tests for the HTTP server (src/http/server.h) over real loopback sockets: an
// HttpServer on 127.0.0.1 port 0 with an in-memory Backend, its io_context on a
// thread, and blocking client sockets whose every read has a timeout.
#include <sys/socket.h>
#include <sys/time.h>

#include <cerrno>
#include <chrono>
#include <future>
#include <map>
#include <optional>
#include <memory>
#include <string>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <catch2/catch.hpp>

#include "core/errc.h"
#include "http/server.h"
#include "replica/messages.h"

namespace asio = boost::asio;
using asio::ip::tcp;
using shoal::Duration;
using shoal::errc;
using shoal::http::Backend;
using shoal::http::HttpServer;
using shoal::http::ServerOptions;
using shoal::replica::ClientOp;
using shoal::replica::ClientReply;
using shoal::replica::ClientRequest;

namespace {

constexpr int k_read_timeout_ms = 5000;

// A std::map behind the Backend interface. With `defer`, replies come later from a
// timer on the loop thread, as the node's would; otherwise from inside submit().
class MapBackend : public Backend {
public:
    explicit MapBackend(asio::io_context& io) : io_(io) {}

    void submit(ClientRequest request, std::function<void(ClientReply)> done) override {
        ++calls;
        ClientReply reply;
        reply.replies = 1;
        reply.required = 1;
        switch (request.op) {
            case ClientOp::get: {
                auto it = data.find(request.key);
                if (it == data.end()) {
                    reply.code = errc::not_found;
                } else {
                    reply.siblings.emplace_back();
                    reply.siblings.back().value = it->second;
                }
                break;
            }
            case ClientOp::put: data[request.key] = request.value; break;
            case ClientOp::del: data.erase(request.key); break;
            case ClientOp::list: reply.code = errc::bad_request; break;  // HTTP lists no keys
        }
        if (!defer) {
            done(std::move(reply));
            return;
        }
        auto timer = std::make_shared<asio::steady_timer>(io_, std::chrono::milliseconds(5));
        timer->async_wait([timer, done = std::move(done), reply = std::move(reply)](auto) mutable { done(reply); });
    }
    std::string cluster_json() override { return "{\"members\":[]}"; }
    std::string metrics_text() override { return "shoal_requests_total 1\n"; }
    Health health() override { return Health{is_healthy, is_healthy ? "{\"status\":\"serving\"}" : "{}"}; }
    shoal::http::Response membership(const shoal::http::MembershipCall& call) override {
        last_membership = call;
        return shoal::http::Response{202, "text/plain; charset=utf-8", {}, "accepted"};
    }
    shoal::http::Response namespaces(const shoal::http::NamespaceCall&) override {
        return shoal::http::Response{200, "application/json", {}, "{}"};
    }
    const shoal::replica::Namespaces& namespaces() const override { return known_namespaces; }
    std::optional<shoal::http::MembershipCall> last_membership;
    shoal::replica::Namespaces known_namespaces;

    bool defer = false;
    bool is_healthy = true;
    int calls = 0;  // touched on the loop thread only; read after it stops
    std::map<std::string, std::string> data;

private:
    asio::io_context& io_;
};

// The server and its loop thread.
struct Harness {
    explicit Harness(ServerOptions options, bool defer = false) : backend(io) {
        backend.defer = defer;
        std::error_code ec;
        server = std::make_unique<HttpServer>(io, backend, std::move(options), ec);
        REQUIRE_FALSE(ec);
        REQUIRE(server->port() != 0);
        finished = std::async(std::launch::async, [this] { io.run(); });
    }
    ~Harness() {
        if (!stopped()) io.stop();  // never hang a failing test
        finished.wait();
    }
    // Stops the server on its thread; true when the loop then runs out of work in time.
    bool stopped() {
        if (stop_requested_) return finished.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
        stop_requested_ = true;
        asio::post(io, [this] { server->stop(); });
        return finished.wait_for(std::chrono::seconds(5)) == std::future_status::ready;
    }

    asio::io_context io;
    MapBackend backend;
    std::unique_ptr<HttpServer> server;
    std::future<void> finished;

private:
    bool stop_requested_ = false;
};

struct HttpReply {
    int status = 0;                              // 0: none (see closed, timed_out)
    std::map<std::string, std::string> headers;  // names lower-cased
    std::string body;
    bool closed = false;     // the server closed (EOF or reset) before a full response
    bool timed_out = false;  // nothing within k_read_timeout_ms
};

std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

// A blocking client socket: connect with Asio, then plain send/recv with SO_RCVTIMEO,
// which bounds every read.
class Client {
public:
    explicit Client(std::uint16_t port) : socket_(io_) {
        socket_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
        timeval tv{k_read_timeout_ms / 1000, 0};
        ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    }

    // False when the server closed the connection (EPIPE, reset, timeout).
    bool send(const std::string& bytes) {
        std::size_t sent = 0;
        while (sent < bytes.size()) {
            const ssize_t n = ::send(socket_.native_handle(), bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
            if (n <= 0) return false;
            sent += static_cast<std::size_t>(n);
        }
        return true;
    }

    // Reads one response (Content-Length bodies only; the server sends no other kind).
    // `head`: the answer to a HEAD, which has a Content-Length but no body.
    HttpReply read_response(bool no_body = false) {
        HttpReply reply;
        std::size_t end;
        while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
            if (!fill(reply)) return reply;
        }
        const std::string head = buffer_.substr(0, end);
        buffer_.erase(0, end + 4);
        reply.status = std::stoi(head.substr(9, 3));
        std::size_t pos = head.find("\r\n");
        while (pos != std::string::npos) {
            const std::size_t next = head.find("\r\n", pos + 2);
            const std::string line =
                head.substr(pos + 2, next == std::string::npos ? std::string::npos : next - pos - 2);
            const std::size_t colon = line.find(':');
            if (colon != std::string::npos) {
                std::string value = line.substr(colon + 1);
                while (!value.empty() && value.front() == ' ') value.erase(0, 1);
                reply.headers[lower(line.substr(0, colon))] = value;
            }
            pos = next;
        }
        const std::size_t length =
            !no_body && reply.headers.count("content-length") ? std::stoul(reply.headers["content-length"]) : 0;
        while (buffer_.size() < length) {
            if (!fill(reply)) return reply;
        }
        reply.body = buffer_.substr(0, length);
        buffer_.erase(0, length);
        return reply;
    }

    // True when the server closes the connection (EOF or reset) within the timeout,
    // discarding anything it still sends.
    bool closed_by_server() {
        HttpReply r;
        while (fill(r)) buffer_.clear();
        return r.closed;
    }

    HttpReply request(const std::string& bytes) {
        if (!send(bytes)) {
            HttpReply r;
            r.closed = true;
            return r;
        }
        return read_response();
    }

private:
    bool fill(HttpReply& reply) {
        char chunk[16384];
        const ssize_t n = ::recv(socket_.native_handle(), chunk, sizeof chunk, 0);
        if (n > 0) {
            buffer_.append(chunk, static_cast<std::size_t>(n));
            return true;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            reply.timed_out = true;
        else
            reply.closed = true;
        return false;
    }

    asio::io_context io_;
    tcp::socket socket_;
    std::string buffer_;
};

std::string get(const std::string& target) {
    return "GET " + target + " HTTP/1.1\r\nHost: t\r\n\r\n";
}
std::string del(const std::string& target) {
    return "DELETE " + target + " HTTP/1.1\r\nHost: t\r\n\r\n";
}
std::string put(const std::string& target, const std::string& body) {
    return "PUT " + target + " HTTP/1.1\r\nHost: t\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
           body;
}

// Waits (bounded) until the server counts `n` open connections.
bool wait_connections(const HttpServer& server, std::size_t n) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (server.connections() != n) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return true;
}

void check_health(std::uint16_t port) {
    Client c(port);
    const HttpReply r = c.request(get("/health"));
    CHECK(r.status == 200);
    CHECK(r.body == "{\"status\":\"serving\"}");
}

}  // namespace

TEST_CASE("http server: put, get and delete on one keep-alive connection", "[http]") {
    const bool defer = GENERATE(false, true);
    INFO("defer " << defer);
    Harness h(ServerOptions{}, defer);
    Client c(h.server->port());

    HttpReply r = c.request(put("/kv/cart%2Falice", "hello"));
    CHECK(r.status == 204);
    CHECK(r.headers["x-shoal-replies"] == "1");
    CHECK(r.headers.count("content-length") == 0);

    r = c.request(get("/kv/cart/alice"));
    CHECK(r.status == 200);
    CHECK(r.body == "hello");
    CHECK(r.headers["content-type"] == "application/octet-stream");
    CHECK(r.headers["x-shoal-replies"] == "1");

    // Two pipelined requests in one write: answered in order.
    r = c.request(del("/kv/cart/alice") + get("/kv/cart%2falice"));
    CHECK(r.status == 204);
    r = c.read_response();
    CHECK(r.status == 404);
    CHECK(r.body == "not found\n");

    // A bad request is answered and the connection stays usable.
    r = c.request(get("/nope"));
    CHECK(r.status == 404);
    CHECK(r.body == "no such path: /nope\n");
    r = c.request(get("/kv/k?bogus=1"));
    CHECK(r.status == 400);
    CHECK(r.body == "unknown parameter: bogus\n");
    r = c.request(put("/kv/k", "v2"));
    CHECK(r.status == 204);

    CHECK(h.server->connections() == 1);
    CHECK(h.stopped());
    CHECK(h.backend.calls == 5);
    CHECK(h.backend.data.at("k") == "v2");
    CHECK(h.server->connections() == 0);
}

TEST_CASE("http server: HEAD answers with a GET's headers and no body", "[http]") {
    Harness h(ServerOptions{});
    Client c(h.server->port());
    REQUIRE(c.request(put("/kv/k", "hello")).status == 204);
    // HEAD then GET pipelined: were a body sent after the HEAD's headers, the GET's
    // answer would not parse.
    REQUIRE(c.send("HEAD /kv/k HTTP/1.1\r\nHost: t\r\n\r\n" + get("/kv/k")));
    HttpReply head = c.read_response(true);
    CHECK(head.status == 200);
    CHECK(head.headers["content-length"] == "5");
    CHECK(head.body.empty());
    const HttpReply body = c.read_response();
    CHECK(body.status == 200);
    CHECK(body.body == "hello");
    CHECK(h.stopped());
}

TEST_CASE("http server: admin endpoints", "[http]") {
    Harness h(ServerOptions{});
    Client c(h.server->port());
    HttpReply r = c.request(get("/cluster"));
    CHECK(r.status == 200);
    CHECK(r.headers["content-type"] == "application/json");
    CHECK(r.body == "{\"members\":[]}");
    r = c.request(get("/metrics"));
    CHECK(r.status == 200);
    CHECK(r.headers["content-type"] == "text/plain; version=0.0.4");
    // The backend's families, then the server's own: responses by status (the two
    // /cluster answered before it), connections open.
    CHECK(r.body.rfind("shoal_requests_total 1\n", 0) == 0);
    CHECK(r.body.find("shoal_http_responses_total{status=\"200\"} 1\n") != std::string::npos);
    CHECK(r.body.find("shoal_http_connections_open 1\n") != std::string::npos);
    r = c.request(get("/health"));
    CHECK(r.status == 200);
    asio::post(h.io, [&] { h.backend.is_healthy = false; });
    r = c.request(get("/health"));  // posted before this request is read, so it runs first
    CHECK(r.status == 503);
    r = c.request("POST /health HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n");
    CHECK(r.status == 405);
    CHECK(r.headers["allow"] == "GET, HEAD");
}

TEST_CASE("http server: HTTP/1.0 and Connection: close end the connection after the response", "[http]") {
    Harness h(ServerOptions{});
    {
        Client c(h.server->port());
        const HttpReply r = c.request("GET /health HTTP/1.0\r\n\r\n");
        CHECK(r.status == 200);
        CHECK(c.closed_by_server());
    }
    {
        Client c(h.server->port());
        const HttpReply r = c.request("GET /health HTTP/1.1\r\nConnection: close\r\n\r\n");
        CHECK(r.status == 200);
        CHECK(c.closed_by_server());
    }
}

TEST_CASE("http server: garbage gets 400 and a close; the server keeps serving", "[http]") {
    Harness h(ServerOptions{});
    for (const std::string& garbage :
         {std::string("this is not http\r\n\r\n"), std::string("GET /health HTTP/9.9\r\n\r\n"),
          std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", 16),
          std::string("PUT /kv/k HTTP/1.1\r\nContent-Length: abc\r\n\r\n")}) {
        Client c(h.server->port());
        const HttpReply r = c.request(garbage);
        CHECK(r.status == 400);
        CHECK(r.body.starts_with("bad HTTP request: "));
        CHECK(c.closed_by_server());
        check_health(h.server->port());
    }
    CHECK(h.stopped());
    CHECK(h.backend.calls == 0);
}

TEST_CASE("http server: a 20 KiB header is refused and the connection closed", "[http]") {
    Harness h(ServerOptions{});  // max_header_bytes 16 KiB
    Client c(h.server->port());
    const HttpReply r =
        c.request("GET /kv/k HTTP/1.1\r\nHost: t\r\nX-Big: " + std::string(20 * 1024, 'a') + "\r\n\r\n");
    CHECK(r.status == 431);
    CHECK_FALSE(r.timed_out);
    CHECK(c.closed_by_server());
    check_health(h.server->port());
    CHECK(h.stopped());
    CHECK(h.backend.calls == 0);
}

TEST_CASE("http server: a body over max_body_bytes is 413 and a close", "[http]") {
    ServerOptions options;
    options.max_body_bytes = 1024;
    Harness h(options);
    {  // declared too large: refused at the header
        Client c(h.server->port());
        const HttpReply r = c.request(put("/kv/k", std::string(4096, 'v')));
        CHECK(r.status == 413);
        CHECK(r.body == "request body too large (limit 1024 bytes)\n");
        CHECK(c.closed_by_server());
    }
    {  // chunked: refused while reading
        Client c(h.server->port());
        std::string chunked = "PUT /kv/k HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n";
        for (int i = 0; i < 4; ++i) chunked += "200\r\n" + std::string(512, 'v') + "\r\n";
        chunked += "0\r\n\r\n";
        const HttpReply r = c.request(chunked);
        CHECK(r.status == 413);
        CHECK(c.closed_by_server());
    }
    {  // at the limit: accepted
        Client c(h.server->port());
        CHECK(c.request(put("/kv/k", std::string(1024, 'v'))).status == 204);
    }
    CHECK(h.stopped());
    CHECK(h.backend.calls == 1);
}

TEST_CASE("http server: Expect: 100-continue", "[http]") {
    Harness h(ServerOptions{});
    Client c(h.server->port());
    REQUIRE(c.send("PUT /kv/k HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n"));
    HttpReply r = c.read_response();
    CHECK(r.status == 100);
    REQUIRE(c.send("abc"));
    r = c.read_response();
    CHECK(r.status == 204);
    r = c.request(get("/kv/k"));
    CHECK(r.body == "abc");
}

TEST_CASE("http server: connections over max_connections get a 503 and are closed at once", "[http]") {
    ServerOptions options;
    options.max_connections = 2;
    Harness h(options);
    auto a = std::make_unique<Client>(h.server->port());
    Client b(h.server->port());
    CHECK(a->request(get("/health")).status == 200);
    CHECK(b.request(get("/health")).status == 200);
    REQUIRE(wait_connections(*h.server, 2));

    Client extra(h.server->port());
    const HttpReply refused = extra.read_response();  // (regress: it was a bare close)
    CHECK(refused.status == 503);
    CHECK(extra.closed_by_server());
    CHECK(b.request(get("/health")).status == 200);  // the others are unaffected

    a.reset();  // frees a slot
    REQUIRE(wait_connections(*h.server, 1));
    check_health(h.server->port());
}

TEST_CASE("http server: idle connections time out", "[http]") {
    ServerOptions options;
    options.idle_timeout = Duration::millis(100);
    options.read_timeout = Duration::millis(100);
    Harness h(options);
    Client idle(h.server->port());
    Client slow(h.server->port());
    CHECK(idle.request(get("/health")).status == 200);
    REQUIRE(slow.send("GET /health HTTP/1.1\r\n"));  // a request that never ends
    const auto start = std::chrono::steady_clock::now();
    CHECK(idle.closed_by_server());
    CHECK(slow.closed_by_server());
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(3));
    REQUIRE(wait_connections(*h.server, 0));
}

TEST_CASE("http server: stop closes every connection", "[http]") {
    Harness h(ServerOptions{});
    Client a(h.server->port());
    Client b(h.server->port());
    CHECK(a.request(get("/health")).status == 200);
    REQUIRE(wait_connections(*h.server, 2));
    CHECK(h.stopped());
    CHECK(a.closed_by_server());
    CHECK(b.closed_by_server());
    CHECK(h.server->connections() == 0);
}

TEST_CASE("http server: a bad address is an error, not an exception", "[http]") {
    asio::io_context io;
    MapBackend backend(io);
    ServerOptions options;
    options.address = "not-an-address";
    std::error_code ec;
    HttpServer server(io, backend, options, ec);
    CHECK(ec);

    // The port of a listening server is in use.
    ServerOptions first_options;
    std::error_code first_ec;
    HttpServer first(io, backend, first_options, first_ec);
    REQUIRE_FALSE(first_ec);
    ServerOptions second_options;
    second_options.port = first.port();
    HttpServer second(io, backend, second_options, ec);
    CHECK(ec);
}
