// The HTTP driver: a small HTTP/1.1 keep-alive client for Shoal's /kv API. One request
// in flight per connection (no pipelining), as a typical HTTP client library behaves.
#include <cctype>
#include <charconv>
#include <cstring>

#include "stream_connection.h"

namespace shoal::bench {

std::string url_encode_key(std::string_view key) {
    static const char* k_hex = "0123456789ABCDEF";
    std::string out;
    out.reserve(key.size());
    for (unsigned char c : key) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == '/') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += k_hex[c >> 4];
            out += k_hex[c & 15];
        }
    }
    return out;
}

namespace {

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
            return false;
    }
    return true;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
    return s;
}

class HttpConnection final : public StreamConnection {
public:
    HttpConnection(boost::asio::io_context& io, const ConnectionOptions& o) : StreamConnection(io, o, 1) {
        const auto& k = o.knobs;
        auto add = [&](std::string& q, const char* name, std::int64_t v) {
            if (v == 0) return;
            q += q.empty() ? '?' : '&';
            q += name;
            q += '=';
            q += std::to_string(v);
        };
        add(read_query_, "r", k.r);
        add(read_query_, "pr", k.pr);
        add(read_query_, "n", k.n);
        add(read_query_, "timeout_ms", k.timeout_ms);
        add(write_query_, "w", k.w);
        add(write_query_, "pw", k.pw);
        add(write_query_, "n", k.n);
        add(write_query_, "timeout_ms", k.timeout_ms);
    }

    void get(const std::string& key, Callback done) override {
        submit(head("GET", key, read_query_) + "\r\n", std::move(done));
    }

    void put(const std::string& key, std::string_view value, const std::string& context, std::int64_t ttl_s,
             Callback done) override {
        std::string q = write_query_;
        if (ttl_s > 0) q += (q.empty() ? "?ttl_s=" : "&ttl_s=") + std::to_string(ttl_s);
        std::string req = head("PUT", key, q);
        req += "Content-Length: " + std::to_string(value.size()) + "\r\n";
        if (!context.empty()) req += "X-Shoal-Context: " + context + "\r\n";
        req += "\r\n";
        req += value;
        submit(std::move(req), std::move(done));
    }

    void del(const std::string& key, const std::string& context, Callback done) override {
        std::string req = head("DELETE", key, write_query_);
        if (!context.empty()) req += "X-Shoal-Context: " + context + "\r\n";
        submit(req + "\r\n", std::move(done));
    }

protected:
    Parse parse(std::string_view in, std::size_t& used, Reply& out, bool& close_after) override {
        const auto end = in.find("\r\n\r\n");
        if (end == std::string_view::npos) return in.size() > 64 * 1024 ? Parse::bad : Parse::need_more;
        std::string_view head = in.substr(0, end);
        // Status line: HTTP/1.1 200 OK
        const auto sp = head.find(' ');
        if (sp == std::string_view::npos || head.size() < sp + 4) return Parse::bad;
        int status = 0;
        if (std::from_chars(head.data() + sp + 1, head.data() + sp + 4, status).ec != std::errc{}) return Parse::bad;
        std::size_t length = 0;
        std::string_view context;
        std::size_t line = head.find("\r\n");
        while (line != std::string_view::npos) {
            const std::size_t start = line + 2;
            line = head.find("\r\n", start);
            const auto h = head.substr(start, line == std::string_view::npos ? std::string_view::npos : line - start);
            const auto colon = h.find(':');
            if (colon == std::string_view::npos) continue;
            const auto name = trim(h.substr(0, colon));
            const auto value = trim(h.substr(colon + 1));
            if (iequals(name, "content-length")) {
                if (std::from_chars(value.data(), value.data() + value.size(), length).ec != std::errc{})
                    return Parse::bad;
            } else if (iequals(name, "x-shoal-context")) {
                context = value;
            } else if (iequals(name, "connection") && iequals(value, "close")) {
                close_after = true;
            } else if (iequals(name, "transfer-encoding")) {
                return Parse::bad;  // the node answers with Content-Length; chunked is not expected
            }
        }
        if (length > 64 * 1024 * 1024) return Parse::bad;
        if (in.size() < end + 4 + length) return Parse::need_more;
        used = end + 4 + length;
        const std::string_view body = in.substr(end + 4, length);
        out.context = std::string(context);
        if (status == 200 || status == 300) {
            out.ok = out.found = true;
            out.values.emplace_back(body);
        } else if (status == 204 || status == 404) {
            out.ok = true;
        } else {
            out.error = "http_" + std::to_string(status);
        }
        return Parse::done;
    }

private:
    std::string head(const char* method, const std::string& key, const std::string& query) const {
        std::string r;
        r.reserve(128 + key.size());
        r += method;
        r += " /kv/";
        r += url_encode_key(key);
        r += query;
        r += " HTTP/1.1\r\nHost: ";
        r += current_node();
        r += "\r\n";
        return r;
    }

    std::string read_query_, write_query_;
};

}  // namespace

std::unique_ptr<Connection> make_http_connection(boost::asio::io_context& io, const ConnectionOptions& o) {
    return std::make_unique<HttpConnection>(io, o);
}

}  // namespace shoal::bench
