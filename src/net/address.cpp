#include "net/address.h"

namespace shoal::net {

bool parse_host_port(std::string_view text, std::string& host, std::uint16_t& port) {
    const std::size_t colon = text.rfind(':');
    if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size()) return false;
    std::string_view h = text.substr(0, colon), p = text.substr(colon + 1);
    if (h.front() == '[') {
        if (h.back() != ']' || h.size() < 3) return false;
        h = h.substr(1, h.size() - 2);
    }
    if (p.size() > 5) return false;
    unsigned value = 0;
    for (char c : p) {
        if (c < '0' || c > '9') return false;
        value = value * 10 + static_cast<unsigned>(c - '0');
    }
    if (value > 65535) return false;
    host = std::string(h);
    port = static_cast<std::uint16_t>(value);
    return true;
}

boost::asio::ip::address parse_address(std::string_view host, boost::system::error_code& ec) {
    return boost::asio::ip::make_address(host == "localhost" ? std::string("127.0.0.1") : std::string(host), ec);
}

bool is_loopback_host(std::string_view host) {
    boost::system::error_code ec;
    const auto addr = parse_address(host, ec);
    return !ec && addr.is_loopback();
}

}  // namespace shoal::net
