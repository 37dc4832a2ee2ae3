#include "client/dev_tls.h"

#include <filesystem>

#include "tls/certs.h"

namespace shoal::client {

namespace fs = std::filesystem;

namespace {
constexpr const char* k_dev_client = "admin";
}

std::string dev_tls_dir(const std::string& dir) {
    return fs::absolute(dir).string() + "/tls";
}

bool dev_tls_on(const std::string& dir) {
    std::error_code ec;
    return fs::exists(tls::ca_cert_path(dev_tls_dir(dir)), ec);
}

std::string dev_tls_init(const std::string& dir) {
    const std::string t = dev_tls_dir(dir);
    if (!dev_tls_on(dir)) {
        if (auto e = tls::make_ca(t); !e.empty()) return e;
    }
    std::error_code ec;
    if (fs::exists(tls::client_cert_path(t, k_dev_client), ec)) return {};
    return tls::issue_client(t, k_dev_client, tls::Role::admin);
}

std::string dev_tls_node(const std::string& dir, int id, const std::string& host) {
    const std::string t = dev_tls_dir(dir);
    std::error_code ec;
    if (fs::exists(tls::node_cert_path(t, static_cast<std::uint32_t>(id)), ec)) return {};
    tls::IssueOptions options;
    options.hosts.push_back(host);
    return tls::issue_node(t, static_cast<std::uint32_t>(id), options);
}

std::string dev_tls_conf(const std::string& dir, int id) {
    if (!dev_tls_on(dir)) return {};
    const std::string t = dev_tls_dir(dir);
    const auto n = static_cast<std::uint32_t>(id);
    return "tls_ca = " + tls::ca_cert_path(t) + "\ntls_cert = " + tls::node_cert_path(t, n) +
           "\ntls_key = " + tls::node_key_path(t, n) + "\n";
}

tls::Files dev_client_tls(const std::string& dir) {
    tls::Files f;
    if (!dev_tls_on(dir)) return f;
    const std::string t = dev_tls_dir(dir);
    f.ca = tls::ca_cert_path(t);
    f.cert = tls::client_cert_path(t, k_dev_client);
    f.key = tls::client_key_path(t, k_dev_client);
    return f;
}

}  // namespace shoal::client
