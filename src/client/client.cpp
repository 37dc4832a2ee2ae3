#include "client/client.h"

#include <boost/asio.hpp>

#include <chrono>
#include <deque>
#include <map>

#include "core/limits.h"
#include "net/address.h"
#include "replica/codec.h"
#include "tls/stream.h"
#include "wire/wire.h"

namespace shoal::client {

namespace asio = boost::asio;
using asio::ip::tcp;

struct AsyncClient::Impl : std::enable_shared_from_this<AsyncClient::Impl> {
    struct Pending {
        replica::ClientRequest request;
        Callback done;
        std::chrono::steady_clock::time_point deadline;  // of the whole request
        std::chrono::steady_clock::time_point attempt_deadline;
        int attempts = 0;
        // Applied again if sent again (an increment): once sent, never resent; a failed
        // attempt ends it with timeout, its outcome unknown.
        bool once = false;
        bool sent = false;
    };

    Impl(asio::io_context& io, Options o) : io_(io), options_(std::move(o)), stream_(tcp::socket(io)), timer_(io) {
        if (options_.tls.enabled()) tls_ = tls::client_context(options_.tls, tls_error_);
    }

    asio::io_context& io_;
    Options options_;
    std::shared_ptr<tls::Context> tls_;
    std::string tls_error_;  // the TLS files could not be loaded: every request fails
    tls::Stream stream_;
    asio::steady_timer timer_;
    std::size_t node_index_ = 0;
    enum class State { idle, connecting, ready } state_ = State::idle;
    std::uint64_t generation_ = 0;  // bumps per connection: stale callbacks check it
    std::uint64_t next_id_ = 1;
    std::map<std::uint64_t, Pending> pending_;  // sent, or waiting for a connection
    std::deque<std::uint64_t> unsent_;
    std::string out_, writing_;
    bool write_active_ = false;
    bool timer_armed_ = false;
    bool closed_ = false;
    wire::FrameReader reader_;
    std::vector<char> buf_ = std::vector<char>(64 * 1024);

    void submit(replica::ClientRequest request, Callback done, bool once = false) {
        if (closed_) {
            done(Result{errc::shutting_down});
            return;
        }
        const auto now = std::chrono::steady_clock::now();
        const std::uint64_t id = next_id_++;
        Pending p{std::move(request), std::move(done), now + std::chrono::microseconds(options_.request_timeout.us), {},
                  0, once};
        pending_.emplace(id, std::move(p));
        unsent_.push_back(id);
        arm_timer();
        if (state_ == State::ready)
            send_unsent();
        else if (state_ == State::idle)
            connect();
    }

    void connect() {
        if (options_.nodes.empty() || !tls_error_.empty()) {
            fail_all(errc::unavailable);
            return;
        }
        if (!options_.token.empty() && (!options_.tls.enabled() || options_.token.size() < k_min_token_bytes ||
                                        options_.token.size() > k_max_token_bytes)) {
            fail_all(errc::bad_request);  // never in cleartext, nor of a length no node takes
            return;
        }
        state_ = State::connecting;
        ++generation_;
        const std::string& node = options_.nodes[node_index_ % options_.nodes.size()];
        std::string host;
        std::uint16_t port = 0;
        boost::system::error_code ec;
        if (!net::parse_host_port(node, host, port)) ec = asio::error::invalid_argument;
        tcp::endpoint ep;
        if (!ec) ep = tcp::endpoint(net::parse_address(host, ec), port);
        if (ec) {
            asio::post(io_, [self = shared_from_this(), g = generation_] { self->connection_failed(g); });
            return;
        }
        stream_ = tls::Stream(io_.get_executor(), tls_);
        stream_.expect_host(host);
        connect_started_ = std::chrono::steady_clock::now();
        stream_.socket().async_connect(ep, [self = shared_from_this(), g = generation_](boost::system::error_code e) {
            if (g != self->generation_ || self->closed_) return;
            if (e) return self->connection_failed(g);
            self->stream_.async_handshake(asio::ssl::stream_base::client, [self, g](boost::system::error_code e2) {
                if (g != self->generation_ || self->closed_) return;
                if (e2) return self->connection_failed(g);
                self->connected();
            });
        });
    }
    std::chrono::steady_clock::time_point connect_started_;

    void connected() {
        boost::system::error_code ec;
        stream_.socket().set_option(tcp::no_delay(true), ec);
        state_ = State::ready;
        reader_ = wire::FrameReader();
        out_.clear();
        wire::encode_hello(wire::Hello{wire::Hello::Role::client, NodeId{}, 1, options_.token}, out_);
        // Everything outstanding is (re)sent on the new connection.
        unsent_.clear();
        for (auto& [id, p] : pending_) unsent_.push_back(id);
        send_unsent();
        read();
    }

    void connection_failed(std::uint64_t g) {
        if (g != generation_ || closed_) return;
        stream_.close();
        state_ = State::idle;
        write_active_ = false;
        ++node_index_;
        // Count an attempt against every outstanding request; give up on spent ones, and
        // on sent ones that must not be applied twice (the node may have applied them).
        std::vector<std::uint64_t> spent, unknown;
        for (auto& [id, p] : pending_) {
            if (p.once && p.sent)
                unknown.push_back(id);
            else if (++p.attempts >= options_.max_attempts)
                spent.push_back(id);
        }
        for (auto id : spent) finish(id, Result{errc::unavailable});
        for (auto id : unknown) finish(id, Result{errc::timeout});
        if (!pending_.empty()) connect();
    }

    void send_unsent() {
        const auto now = std::chrono::steady_clock::now();
        const auto per_attempt = std::chrono::microseconds(options_.request_timeout.us / options_.max_attempts);
        while (!unsent_.empty()) {
            auto it = pending_.find(unsent_.front());
            unsent_.pop_front();
            if (it == pending_.end()) continue;
            it->second.attempt_deadline = std::min(it->second.deadline, now + per_attempt);
            it->second.sent = true;
            wire::encode_request(it->first, it->second.request, out_);
        }
        write();
    }

    void write() {
        if (write_active_ || out_.empty() || state_ != State::ready) return;
        write_active_ = true;
        writing_.clear();
        std::swap(writing_, out_);
        asio::async_write(stream_, asio::buffer(writing_),
                          [self = shared_from_this(), g = generation_](boost::system::error_code e, std::size_t) {
                              if (g != self->generation_) return;
                              self->write_active_ = false;
                              if (e) return self->connection_failed(g);
                              self->write();
                          });
    }

    void read() {
        stream_.async_read_some(asio::buffer(buf_), [self = shared_from_this(), g = generation_](
                                                        boost::system::error_code e, std::size_t n) {
            if (g != self->generation_ || self->closed_) return;
            if (e) return self->connection_failed(g);
            self->reader_.feed({self->buf_.data(), n});
            wire::Frame frame;
            std::error_code bad;
            for (;;) {
                auto status = self->reader_.next(frame, bad);
                if (status == wire::FrameReader::Status::need_more) break;
                if (status == wire::FrameReader::Status::error || frame.kind != wire::Frame::Kind::client_reply) {
                    return self->connection_failed(g);
                }
                self->on_reply(frame.reply);
            }
            self->read();
        });
    }

    void on_reply(wire::ReplyFrame& f) {
        if (!pending_.count(f.request_id)) return;
        Result r;
        r.code = f.reply.code;
        r.replies = f.reply.replies;
        r.required = f.reply.required;
        r.primaries = f.reply.primaries;
        r.primaries_down = f.reply.primaries_down;
        r.node = options_.nodes[node_index_ % options_.nodes.size()];
        for (auto& s : f.reply.siblings) r.values.push_back(std::move(s.value));
        r.context = replica::context_to_token(f.reply.context);
        finish(f.request_id, std::move(r));
    }

    void finish(std::uint64_t id, Result r) {
        auto it = pending_.find(id);
        if (it == pending_.end()) return;
        Callback done = std::move(it->second.done);
        pending_.erase(it);
        done(std::move(r));
    }

    void arm_timer() {
        if (timer_armed_) return;
        timer_armed_ = true;
        timer_.expires_after(std::chrono::milliseconds(20));
        timer_.async_wait([self = shared_from_this()](boost::system::error_code e) {
            self->timer_armed_ = false;
            if (e || self->closed_) return;
            self->check_deadlines();
            if (!self->pending_.empty()) self->arm_timer();
        });
    }

    // A silent node (stopped, partitioned) is left for the next one.
    void check_deadlines() {
        const auto now = std::chrono::steady_clock::now();
        std::vector<std::uint64_t> expired;
        bool silent = false;
        for (auto& [id, p] : pending_) {
            if (now >= p.deadline)
                expired.push_back(id);
            else if (state_ == State::ready && p.attempt_deadline.time_since_epoch().count() != 0 &&
                     now >= p.attempt_deadline)
                silent = true;
        }
        for (auto id : expired) finish(id, Result{errc::timeout});
        if (state_ == State::connecting &&
            now - connect_started_ >= std::chrono::microseconds(options_.connect_timeout.us)) {
            silent = true;
        }
        if (silent && !pending_.empty()) connection_failed(generation_);
    }

    void fail_all(errc code) {
        auto all = std::move(pending_);
        pending_.clear();
        for (auto& [id, p] : all) p.done(Result{code});
    }

    void close() {
        closed_ = true;
        ++generation_;
        stream_.close();
        timer_.cancel();
        fail_all(errc::shutting_down);
    }
};

AsyncClient::AsyncClient(asio::io_context& io, Options options)
    : impl_(std::make_shared<Impl>(io, std::move(options))) {}

AsyncClient::~AsyncClient() {
    impl_->close();
}

void AsyncClient::get(std::string key, RequestOptions options, Callback done) {
    replica::ClientRequest r;
    r.op = replica::ClientOp::get;
    r.key = std::move(key);
    r.options = options;
    impl_->submit(std::move(r), std::move(done));
}

namespace {
bool decode_context(std::string_view token, replica::VersionVector& vv, Callback& done) {
    if (replica::context_from_token(token, vv)) {
        done(Result{errc::bad_context});
        return false;
    }
    return true;
}
}  // namespace

void AsyncClient::put(std::string key, std::string value, std::string context, RequestOptions options, Callback done) {
    replica::ClientRequest r;
    r.op = replica::ClientOp::put;
    r.key = std::move(key);
    r.value = std::move(value);
    r.options = options;
    if (!decode_context(context, r.context, done)) return;
    impl_->submit(std::move(r), std::move(done));
}

void AsyncClient::del(std::string key, std::string context, RequestOptions options, Callback done) {
    replica::ClientRequest r;
    r.op = replica::ClientOp::del;
    r.key = std::move(key);
    r.options = options;
    if (!decode_context(context, r.context, done)) return;
    impl_->submit(std::move(r), std::move(done));
}

void AsyncClient::update(std::string key, replica::dt::Update update, RequestOptions options, Callback done) {
    replica::ClientRequest r;
    r.op = replica::ClientOp::put;
    r.key = std::move(key);
    r.update = replica::dt::encode(update);
    r.options = options;
    // An increment sent twice counts twice: it is never resent (client.h).
    const bool once = !replica::dt::repeatable(update);
    impl_->submit(std::move(r), std::move(done), once);
}

void AsyncClient::close() {
    impl_->close();
}
std::size_t AsyncClient::outstanding() const {
    return impl_->pending_.size();
}

Client::Client(Options options)
    : io_(std::make_unique<asio::io_context>(1)), async_(std::make_unique<AsyncClient>(*io_, std::move(options))) {}

Client::~Client() {
    async_.reset();
    io_->run_for(std::chrono::milliseconds(10));
}

Result Client::wait(const std::function<void(Callback)>& start) {
    bool done = false;
    Result out;
    start([&](Result r) {
        out = std::move(r);
        done = true;
    });
    if (io_->stopped()) io_->restart();
    while (!done) {
        if (io_->run_one() == 0) io_->restart();
    }
    return out;
}

Result Client::get(std::string_view key, const RequestOptions& options) {
    return wait([&](Callback cb) { async_->get(std::string(key), options, std::move(cb)); });
}

Result Client::put(std::string_view key, std::string_view value, std::string_view context,
                   const RequestOptions& options) {
    return wait([&](Callback cb) {
        async_->put(std::string(key), std::string(value), std::string(context), options, std::move(cb));
    });
}

Result Client::del(std::string_view key, std::string_view context, const RequestOptions& options) {
    return wait([&](Callback cb) { async_->del(std::string(key), std::string(context), options, std::move(cb)); });
}

Result Client::update(std::string_view key, const replica::dt::Update& update, const RequestOptions& options) {
    return wait([&](Callback cb) { async_->update(std::string(key), update, options, std::move(cb)); });
}

Client::DatatypeRead Client::read_datatype(std::string_view key, replica::dt::Type type, const RequestOptions& options) {
    DatatypeRead out;
    out.result = get(key, options);
    if (out.result.code == errc::not_found) out.result.code = errc::ok;
    if (out.result.code != errc::ok) return out;
    // The values are the live siblings: merge them as the node's readers do.
    std::vector<replica::Sibling> siblings(out.result.values.size());
    for (std::size_t i = 0; i < siblings.size(); ++i) siblings[i].value = out.result.values[i];
    if (auto ec = replica::dt::merge_siblings(type, siblings, Time{0}, out.state)) {
        out.result.code = to_errc(ec, errc::corrupt);
        return out;
    }
    if (replica::context_from_token(out.result.context, out.context)) out.result.code = errc::bad_context;
    return out;
}

}  // namespace shoal::client
