// Opening a listening TCP socket the same way for every listener (HTTP, Redis): the
// address parsed, reuse_address set, bound and listening, or closed again on failure.
// Header-only; include it only from .cpp files that use Asio already.
#pragma once

#include <cstdint>
#include <string>

#include <boost/asio/ip/tcp.hpp>

namespace shoal::net {

// Binds `acceptor` to address:port and listens; `loopback` says whether the address is
// a loopback one (a listener beyond it warns). On failure the acceptor is left closed.
inline boost::system::error_code listen_on(boost::asio::ip::tcp::acceptor& acceptor, const std::string& address,
                                           std::uint16_t port, bool& loopback) {
    namespace asio = boost::asio;
    boost::system::error_code ec;
    const auto ip = asio::ip::make_address(address, ec);
    if (ec) return ec;
    loopback = ip.is_loopback();
    const asio::ip::tcp::endpoint endpoint(ip, port);
    if (acceptor.open(endpoint.protocol(), ec); ec) return ec;
    acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    if (acceptor.bind(endpoint, ec); !ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
        boost::system::error_code ignored;
        acceptor.close(ignored);
    }
    return ec;
}

}  // namespace shoal::net
