// A minimal blocking HTTP/1.1 client for the CLI's admin commands (/cluster, /health,
// POST /cluster/join|leave|remove). One request per connection; no redirects.
#pragma once

#include <string>

namespace shoal::client {

struct HttpResult {
    int status = 0;  // 0: no answer (connection refused, timeout)
    std::string body;
    std::string error;
};

// METHOD http://host:port/path with an empty body; timeout_ms bounds connect, write
// and read together. The response is read until the node closes (at most 64 MiB).
HttpResult http_request(const std::string& method, const std::string& host_port, const std::string& path,
                        int timeout_ms = 2000);

// http_request("GET", ...).
HttpResult http_get(const std::string& host_port, const std::string& path, int timeout_ms = 2000);

}  // namespace shoal::client
