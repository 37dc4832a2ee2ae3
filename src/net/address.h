// Listen and peer addresses as text.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <boost/asio/ip/address.hpp>

namespace shoal::net {

// "host:port" -> parts; the port must be 0..65535. IPv6 hosts in brackets: "[::1]:7000".
bool parse_host_port(std::string_view text, std::string& host, std::uint16_t& port);

// A numeric IPv4/IPv6 address, or "localhost" as 127.0.0.1. No DNS lookups.
boost::asio::ip::address parse_address(std::string_view host, boost::system::error_code& ec);

// True for 127.0.0.0/8, ::1 and "localhost".
bool is_loopback_host(std::string_view host);

}  // namespace shoal::net
