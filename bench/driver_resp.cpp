// The RESP driver: Redis GET, SET (EX for a TTL) and DEL, and SADD and SMEMBERS for
// carts kept as sets, pipelined on one connection; each connection may first SELECT a
// database (a Shoal namespace) and ask Shoal to read at every replica. Redis has no
// causal contexts or per-request quorums: those knobs are ignored.
#include <charconv>

#include "resp/protocol.h"
#include "stream_connection.h"

namespace shoal::bench {

namespace {

using resp::put_bulk;  // a command's arguments are bulk strings, as a node's replies

// An array reply (a set's members) is read as a command is, within these bounds.
constexpr resp::ParseLimits k_reply_limits{.max_args = 1'000'000, .max_bulk_bytes = 1u << 20, .max_command_bytes = 256u << 20};

class RespConnection final : public StreamConnection {
public:
    RespConnection(boost::asio::io_context& io, const ConnectionOptions& o) : StreamConnection(io, o, 4096) {
        std::string prelude;
        std::vector<bool> required;
        if (o.resp_db >= 0) {
            prelude += "*2\r\n$6\r\nSELECT\r\n";
            put_bulk(prelude, std::to_string(o.resp_db));
            required.push_back(true);
        }
        if (o.resp_read_all) {  // redis-server refuses it: it has one copy to read anyway
            prelude += "*3\r\n$13\r\nSHOAL.OPTIONS\r\n$1\r\nR\r\n$3\r\nall\r\n";
            required.push_back(false);
        }
        if (!required.empty()) set_prelude(std::move(prelude), std::move(required));
    }

    void set_add(const std::string& key, const std::string& member, Callback done) override {
        std::string c = "*3\r\n$4\r\nSADD\r\n";
        put_bulk(c, key);
        put_bulk(c, member);
        submit(std::move(c), std::move(done));
    }

    void set_members(const std::string& key, Callback done) override {
        std::string c = "*2\r\n$8\r\nSMEMBERS\r\n";
        put_bulk(c, key);
        submit(std::move(c), std::move(done));
    }

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
            case '*': {  // an array of bulk strings (SMEMBERS): a command's own form
                std::string error;
                switch (resp::parse_command(in, k_reply_limits, out.values, used, error)) {
                    case resp::Parsed::incomplete: return Parse::need_more;
                    case resp::Parsed::bad: return Parse::bad;
                    case resp::Parsed::command: break;
                }
                out.ok = true;
                out.found = !out.values.empty();
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
