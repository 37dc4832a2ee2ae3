#include "client/http_get.h"

#include <boost/asio.hpp>

#include <cctype>
#include <chrono>
#include <cstdlib>
#include <functional>

#include "net/address.h"
#include "tls/stream.h"

namespace shoal::client {

namespace asio = boost::asio;

namespace {

// True once `response` holds the head and as many body bytes as its Content-Length.
bool whole_by_length(const std::string& response) {
    const auto head_end = response.find("\r\n\r\n");
    if (head_end == std::string::npos) return false;
    std::string head = response.substr(0, head_end);
    for (auto& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const auto at = head.find("\r\ncontent-length:");
    if (at == std::string::npos) return false;
    const auto length = std::strtoull(head.c_str() + at + 17, nullptr, 10);
    return response.size() - (head_end + 4) >= length;
}

tls::Files& tls_files() {
    static tls::Files files;
    return files;
}

}  // namespace

void set_http_tls(tls::Files files) {
    tls_files() = std::move(files);
}
const tls::Files& http_tls() {
    return tls_files();
}

HttpResult http_request(const std::string& method, const std::string& host_port, const std::string& path,
                        int timeout_ms) {
    HttpResult out;
    std::string host;
    std::uint16_t port = 0;
    if (!net::parse_host_port(host_port, host, port)) {
        out.error = "bad address '" + host_port + "'";
        return out;
    }
    asio::io_context io;
    std::shared_ptr<tls::Context> context;
    if (tls_files().enabled()) {
        context = tls::client_context(tls_files(), out.error);
        if (!context) return out;
    }
    tls::Stream socket(io.get_executor(), context);
    socket.expect_host(host);
    boost::system::error_code ec;
    auto addr = net::parse_address(host, ec);
    if (ec) {
        out.error = "bad address '" + host_port + "'";
        return out;
    }
    std::string request = method + " " + path + " HTTP/1.1\r\nHost: " + host_port + "\r\nConnection: close\r\n";
    if (method != "GET" && method != "HEAD") request += "Content-Length: 0\r\n";
    request += "\r\n";
    std::string response;
    std::array<char, 8192> buf;
    bool failed = false;
    bool complete = false;  // the node closed the connection: the response is whole
    std::function<void()> read = [&] {
        socket.async_read_some(asio::buffer(buf), [&](boost::system::error_code e3, std::size_t n) {
            response.append(buf.data(), n);
            // A TLS peer that closes without close_notify ends with stream_truncated.
            complete = e3 == asio::error::eof || e3 == asio::ssl::error::stream_truncated || whole_by_length(response);
            if (!e3 && !complete && response.size() < 64 * 1024 * 1024) read();
        });
    };
    const auto fail = [&](const boost::system::error_code& e) {
        failed = true;
        out.error = e.message();
    };
    socket.socket().async_connect({addr, port}, [&](boost::system::error_code e) {
        if (e) return fail(e);
        socket.async_handshake(asio::ssl::stream_base::client, [&](boost::system::error_code e1) {
            if (e1) return fail(e1);
            asio::async_write(socket, asio::buffer(request), [&](boost::system::error_code e2, std::size_t) {
                if (e2) return fail(e2);
                read();
            });
        });
    });
    io.run_for(std::chrono::milliseconds(timeout_ms));  // returns early once all handlers are done
    if (failed) return out;
    if (!complete) {
        out.error = response.empty() ? "no answer" : "timed out before the whole response arrived";
        return out;
    }
    auto line_end = response.find("\r\n");
    auto head_end = response.find("\r\n\r\n");
    if (line_end == std::string::npos || head_end == std::string::npos || response.size() < 12) {
        out.error = response.empty() ? "no answer" : "malformed HTTP response";
        return out;
    }
    out.status = std::atoi(response.substr(9, 3).c_str());
    out.body = response.substr(head_end + 4);
    return out;
}

HttpResult http_get(const std::string& host_port, const std::string& path, int timeout_ms) {
    return http_request("GET", host_port, path, timeout_ms);
}

}  // namespace shoal::client
