// The RESP driver: Redis GET, SET (EX for a TTL) and DEL, pipelined on one connection.
// Redis has no causal contexts or quorums: those knobs are ignored.
#include <charconv>

#include "resp/protocol.h"
#include "stream_connection.h"

namespace shoal::bench {

namespace {

using resp::put_bulk;  // a command's arguments are bulk strings, as a node's replies

class RespConnection final : public StreamConnection {
public:
    RespConnection(boost::asio::io_context& io, const ConnectionOptions& o) : StreamConnection(io, o, 4096) {}

    void get(const std::string& key, Callback done) override {
        std::string c = "*2\r\n$3\r\nGET\r\n";
        put_bulk(c, key);
        submit(std::move(c), std::move(done));
    }

    void put(const std::string& key, std::string_view value, const std::string&, std::int64_t ttl_s,
             Callback done) override {
        std::string c;
        c.reserve(64 + key.size() + value.size());
        c += ttl_s > 0 ? "*5\r\n$3\r\nSET\r\n" : "*3\r\n$3\r\nSET\r\n";
        put_bulk(c, key);
        put_bulk(c, value);
        if (ttl_s > 0) {
            c += "$2\r\nEX\r\n";
            put_bulk(c, std::to_string(ttl_s));
        }
        submit(std::move(c), std::move(done));
    }

    void del(const std::string& key, const std::string&, Callback done) override {
        std::string c = "*2\r\n$3\r\nDEL\r\n";
        put_bulk(c, key);
        submit(std::move(c), std::move(done));
    }

protected:
    Parse parse(std::string_view in, std::size_t& used, Reply& out, bool&) override {
        const auto eol = in.find("\r\n");
        if (eol == std::string_view::npos) return in.size() > 64 * 1024 ? Parse::bad : Parse::need_more;
        const char type = in[0];
        const std::string_view line = in.substr(1, eol - 1);
        switch (type) {
            case '+':
            case ':':
                out.ok = true;
                used = eol + 2;
                return Parse::done;
            case '-':
                out.error = "resp_error";
                used = eol + 2;
                return Parse::done;
            case '$': {
                long long len = 0;
                if (std::from_chars(line.data(), line.data() + line.size(), len).ec != std::errc{}) return Parse::bad;
                if (len < 0) {  // nil: no such key
                    out.ok = true;
                    used = eol + 2;
                    return Parse::done;
                }
                const std::size_t need = eol + 2 + static_cast<std::size_t>(len) + 2;
                if (in.size() < need) return Parse::need_more;
                out.ok = out.found = true;
                out.values.emplace_back(in.substr(eol + 2, static_cast<std::size_t>(len)));
                used = need;
                return Parse::done;
            }
            default: return Parse::bad;
        }
    }
};

}  // namespace

std::unique_ptr<Connection> make_resp_connection(boost::asio::io_context& io, const ConnectionOptions& o) {
    return std::make_unique<RespConnection>(io, o);
}

}  // namespace shoal::bench
