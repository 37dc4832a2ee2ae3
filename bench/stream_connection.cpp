#include "stream_connection.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/write.hpp>

#include "core/assert.h"
#include "net/address.h"
#include "tls/stream.h"

namespace shoal::bench {

namespace asio = boost::asio;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

struct StreamConnection::State : std::enable_shared_from_this<StreamConnection::State> {
    struct Pending {
        std::string bytes;
        Callback done;
        Clock::time_point deadline;
    };

    State(asio::io_context& io, StreamConnection& owner, const tls::Files& files, std::size_t max_in_flight)
        : io(io), owner(&owner), socket(tcp::socket(io)), timer(io), max_in_flight(max_in_flight) {
        if (files.enabled()) {
            std::string error;
            tls = tls::client_context(files, error);
            SHOAL_ASSERT(tls != nullptr);  // main checked the files before the run
        }
    }

    asio::io_context& io;
    StreamConnection* owner;  // null once closed
    std::shared_ptr<tls::Context> tls;
    tls::Stream socket;
    asio::steady_timer timer;
    std::size_t max_in_flight;
    std::size_t node_index = 0;
    enum class Conn { idle, connecting, backoff, ready } conn = Conn::idle;
    std::uint64_t generation = 0;
    std::deque<Pending> waiting, in_flight;
    std::string out, writing, in;
    bool write_active = false, timer_armed = false;
    std::string prelude;                 // sent first on every connection
    std::vector<bool> prelude_required;  // per reply it draws: must it be ok
    std::vector<char> buf = std::vector<char>(64 * 1024);

    void submit(std::string bytes, Callback done) {
        const auto deadline = Clock::now() + std::chrono::milliseconds(owner->options_.knobs.timeout_ms);
        waiting.push_back(Pending{std::move(bytes), std::move(done), deadline});
        arm_timer();
        if (conn == Conn::idle) connect();
        pump();
    }

    void connect() {
        conn = Conn::connecting;
        const auto g = ++generation;
        const auto& nodes = owner->options_.nodes;
        SHOAL_ASSERT(!nodes.empty());
        std::string host;
        std::uint16_t port = 0;
        boost::system::error_code ec;
        tcp::endpoint ep;
        if (!net::parse_host_port(nodes[node_index % nodes.size()], host, port)) ec = asio::error::invalid_argument;
        if (!ec) ep = tcp::endpoint(net::parse_address(host, ec), port);
        if (ec) {
            asio::post(io, [self = shared_from_this(), g] { self->broken(g, "bad_address"); });
            return;
        }
        socket = tls::Stream(io.get_executor(), tls);
        socket.expect_host(host);
        socket.socket().async_connect(ep, [self = shared_from_this(), g](boost::system::error_code e) {
            if (g != self->generation || !self->owner) return;
            if (e) return self->broken(g, "conn_refused");
            boost::system::error_code ignored;
            self->socket.socket().set_option(tcp::no_delay(true), ignored);
            self->socket.async_handshake(asio::ssl::stream_base::client, [self, g](boost::system::error_code e2) {
                if (g != self->generation || !self->owner) return;
                if (e2) return self->broken(g, "tls_handshake");
                self->conn = Conn::ready;
                self->in.clear();
                self->send_prelude(g);
                self->read();
                self->pump();
            });
        });
    }

    // The commands every connection starts with (RESP: SELECT, SHOAL.OPTIONS): a reply
    // that must be ok and is not gives the connection up ("setup_refused").
    void send_prelude(std::uint64_t g) {
        const auto deadline = Clock::now() + std::chrono::milliseconds(owner->options_.knobs.timeout_ms);
        for (const bool required : prelude_required) {
            auto check = [self = shared_from_this(), g, required](Reply r) {
                if (required && !r.ok) self->broken(g, "setup_refused");
            };
            in_flight.push_back(Pending{{}, std::move(check), deadline});
        }
        out += prelude;
    }

    // The connection failed: what was sent fails; what waits is sent on the next
    // connection, to the next node, after a short back-off (no busy loop when all are down).
    void broken(std::uint64_t g, const char* why) {
        if (g != generation || !owner) return;
        ++generation;
        socket.close();
        write_active = false;
        out.clear();
        ++node_index;
        fail(in_flight, why);
        conn = Conn::backoff;
        timer_backoff();
    }

    void timer_backoff() {
        auto t = std::make_shared<asio::steady_timer>(io, std::chrono::milliseconds(20));
        t->async_wait([self = shared_from_this(), t](boost::system::error_code) {
            if (!self->owner || self->conn != Conn::backoff) return;
            self->conn = Conn::idle;
            if (!self->waiting.empty()) self->connect();
        });
    }

    static void fail(std::deque<Pending>& q, const char* why) {
        auto doomed = std::move(q);
        q.clear();
        for (auto& p : doomed) {
            Reply r;
            r.error = why;
            p.done(std::move(r));
        }
    }

    void pump() {
        if (conn != Conn::ready || write_active) return;
        while (!waiting.empty() && in_flight.size() < max_in_flight) {
            out += waiting.front().bytes;
            waiting.front().bytes.clear();
            in_flight.push_back(std::move(waiting.front()));
            waiting.pop_front();
        }
        if (out.empty()) return;
        write_active = true;
        writing.clear();
        std::swap(writing, out);
        asio::async_write(socket, asio::buffer(writing),
                          [self = shared_from_this(), g = generation](boost::system::error_code e, std::size_t) {
                              if (g != self->generation || !self->owner) return;
                              self->write_active = false;
                              if (e) return self->broken(g, "conn_error");
                              self->pump();
                          });
    }

    void read() {
        socket.async_read_some(asio::buffer(buf), [self = shared_from_this(), g = generation](
                                                      boost::system::error_code e, std::size_t n) {
            if (g != self->generation || !self->owner) return;
            if (e) return self->broken(g, "conn_error");
            self->in.append(self->buf.data(), n);
            if (!self->consume(g)) return;
            self->read();
        });
    }

    // Parses every complete reply; false when the connection was given up.
    bool consume(std::uint64_t g) {
        std::size_t pos = 0;
        while (pos < in.size()) {
            if (in_flight.empty()) {
                broken(g, "protocol_error");  // a reply nobody asked for
                return false;
            }
            std::size_t used = 0;
            Reply r;
            bool close_after = false;
            const auto p = owner->parse(std::string_view(in).substr(pos), used, r, close_after);
            if (p == Parse::need_more) break;
            if (p == Parse::bad) {
                broken(g, "protocol_error");
                return false;
            }
            pos += used;
            auto done = std::move(in_flight.front().done);
            in_flight.pop_front();
            done(std::move(r));
            if (g != generation || !owner) return false;  // the callback closed us
            if (close_after) {
                --node_index;  // same node again: it only asked to reconnect
                broken(g, "conn_closed");
                return false;
            }
        }
        in.erase(0, pos);
        pump();
        return true;
    }

    void arm_timer() {
        if (timer_armed) return;
        timer_armed = true;
        timer.expires_after(std::chrono::milliseconds(20));
        timer.async_wait([self = shared_from_this()](boost::system::error_code e) {
            self->timer_armed = false;
            if (e || !self->owner) return;
            self->check_deadlines();
            if (!self->waiting.empty() || !self->in_flight.empty()) self->arm_timer();
        });
    }

    void check_deadlines() {
        const auto now = Clock::now();
        if (!in_flight.empty() && in_flight.front().deadline <= now) {
            broken(generation, "timeout");  // a silent server: give up on this connection
            return;
        }
        while (!waiting.empty() && waiting.front().deadline <= now) {
            auto p = std::move(waiting.front());
            waiting.pop_front();
            Reply r;
            r.error = "timeout";
            p.done(std::move(r));
            if (!owner) return;
        }
    }
};

StreamConnection::StreamConnection(asio::io_context& io, const ConnectionOptions& o, std::size_t max_in_flight)
    : state_(std::make_shared<State>(io, *this, o.tls, max_in_flight)), options_(o) {
    SHOAL_ASSERT(!o.nodes.empty());
    SHOAL_ASSERT(max_in_flight >= 1);
}

StreamConnection::~StreamConnection() {
    close();
}

std::size_t StreamConnection::outstanding() const {
    return state_->waiting.size() + state_->in_flight.size();
}

const std::string& StreamConnection::current_node() const {
    return options_.nodes[state_->node_index % options_.nodes.size()];
}

void StreamConnection::set_prelude(std::string bytes, std::vector<bool> required) {
    state_->prelude = std::move(bytes);
    state_->prelude_required = std::move(required);
}

void StreamConnection::submit(std::string bytes, Callback done) {
    state_->submit(std::move(bytes), std::move(done));
}

void StreamConnection::close() {
    if (!state_->owner) return;
    ++state_->generation;
    state_->socket.close();
    state_->timer.cancel();
    auto in_flight = std::move(state_->in_flight);
    auto waiting = std::move(state_->waiting);
    state_->in_flight.clear();
    state_->waiting.clear();
    state_->owner = nullptr;
    State::fail(in_flight, "closed");
    State::fail(waiting, "closed");
}

}  // namespace shoal::bench
