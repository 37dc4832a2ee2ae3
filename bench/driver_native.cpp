// The native driver: a thin adapter over the client library's AsyncClient.
#include <boost/asio/io_context.hpp>

#include "client/client.h"
#include "driver.h"

namespace shoal::bench {

namespace {

class NativeConnection final : public Connection {
public:
    NativeConnection(boost::asio::io_context& io, const ConnectionOptions& o) : knobs_(o.knobs) {
        client::Options co;
        co.nodes = o.nodes;
        co.tls = o.tls;
        co.request_timeout = Duration::millis(o.knobs.timeout_ms);
        client_ = std::make_unique<client::AsyncClient>(io, std::move(co));
        base_.n = knobs_.n;
        base_.r = knobs_.r;
        base_.w = knobs_.w;
        base_.pr = knobs_.pr;
        base_.pw = knobs_.pw;
        base_.timeout_ms = knobs_.timeout_ms;
    }

    void get(const std::string& key, Callback done) override {
        client_->get(key, base_, [done = std::move(done)](client::Result r) { done(convert(std::move(r))); });
    }
    void put(const std::string& key, std::string_view value, const std::string& context, std::int64_t ttl_s,
             Callback done) override {
        auto opts = base_;
        opts.ttl_s = ttl_s;
        client_->put(key, std::string(value), context, opts,
                     [done = std::move(done)](client::Result r) { done(convert(std::move(r))); });
    }
    void del(const std::string& key, const std::string& context, Callback done) override {
        client_->del(key, context, base_, [done = std::move(done)](client::Result r) { done(convert(std::move(r))); });
    }
    std::size_t outstanding() const override { return client_->outstanding(); }
    void close() override { client_->close(); }

private:
    static Reply convert(client::Result r) {
        Reply out;
        if (r.code == errc::ok) {
            out.ok = true;
            out.found = !r.values.empty();
            out.values = std::move(r.values);
            out.context = std::move(r.context);
        } else if (r.code == errc::not_found) {
            out.ok = true;
            out.context = std::move(r.context);
        } else {
            out.error = std::string(errc_name(r.code));
        }
        return out;
    }

    Knobs knobs_;
    client::RequestOptions base_;
    std::unique_ptr<client::AsyncClient> client_;
};

}  // namespace

std::unique_ptr<Connection> make_native_connection(boost::asio::io_context& io, const ConnectionOptions& o) {
    return std::make_unique<NativeConnection>(io, o);
}

std::optional<DriverKind> parse_driver(std::string_view t) {
    if (t == "native") return DriverKind::native;
    if (t == "http") return DriverKind::http;
    if (t == "resp" || t == "redis") return DriverKind::resp;
    return std::nullopt;
}

std::string_view driver_name(DriverKind k) {
    switch (k) {
        case DriverKind::native: return "native";
        case DriverKind::http: return "http";
        case DriverKind::resp: return "resp";
    }
    return "?";
}

void Connection::set_add(const std::string&, const std::string&, Callback done) {
    Reply r;
    r.error = "unsupported";
    done(std::move(r));
}

void Connection::set_members(const std::string&, Callback done) {
    Reply r;
    r.error = "unsupported";
    done(std::move(r));
}

std::unique_ptr<Connection> make_connection(DriverKind kind, boost::asio::io_context& io,
                                            const ConnectionOptions& o) {
    switch (kind) {
        case DriverKind::native: return make_native_connection(io, o);
        case DriverKind::http: return make_http_connection(io, o);
        case DriverKind::resp: return make_resp_connection(io, o);
    }
    return nullptr;
}

}  // namespace shoal::bench
