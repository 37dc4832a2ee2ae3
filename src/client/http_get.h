// A minimal blocking HTTP/1.1 GET for the CLI's admin commands (/cluster, /health).
#pragma once

#include <string>

namespace shoal::client {

struct HttpResult {
    int status = 0;  // 0: no answer (connection refused, timeout)
    std::string body;
    std::string error;
};

// GET http://host:port/path with a timeout in milliseconds on connect and read.
HttpResult http_get(const std::string& host_port, const std::string& path, int timeout_ms = 2000);

}  // namespace shoal::client
