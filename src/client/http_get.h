// A minimal blocking HTTP/1.1 client for the CLI's admin commands (/cluster, /health,
// POST /cluster/join|leave|remove). One request per connection; no redirects.
#pragma once

#include <string>

#include "tls/tls.h"

namespace shoal::client {

struct HttpResult {
    int status = 0;  // 0: no answer (connection refused, timeout)
    std::string body;
    std::string error;
};

// The TLS settings every http_request uses from now on: HTTPS when tls.ca is set (the
// node's certificate checked against it and the host; tls.cert presented when set).
// The CLI sets them once from its options; tests set them for a TLS dev cluster.
void set_http_tls(tls::Files files);
const tls::Files& http_tls();

// METHOD http(s)://host:port/path with an empty body; timeout_ms bounds connect, write
// and read together. The response is read until the node closes (at most 64 MiB).
HttpResult http_request(const std::string& method, const std::string& host_port, const std::string& path,
                        int timeout_ms = 2000);

// http_request("GET", ...).
HttpResult http_get(const std::string& host_port, const std::string& path, int timeout_ms = 2000);

}  // namespace shoal::client
