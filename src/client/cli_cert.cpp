// `shoal cert init | node ID | client NAME --role R`: a cluster's certificates, made
// with OpenSSL's library (tls/certs.h) in one folder (--certs, default ./shoal-certs).
#include <cstdio>
#include <string>

#include "client/cli.h"
#include "tls/certs.h"
#include "tls/tokens.h"

#include <fcntl.h>
#include <unistd.h>

namespace shoal::cli {

namespace {

std::vector<std::string> comma_list(const std::string& s) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start <= s.size()) {
        const std::size_t end = std::min(s.find(',', start), s.size());
        if (end > start) out.push_back(s.substr(start, end - start));
        start = end + 1;
    }
    return out;
}

constexpr const char* k_cert_usage =
    "usage: shoal cert init [--certs DIR] [--days N]\n"
    "       shoal cert node ID [--hosts H,...] [--certs DIR] [--days N]\n"
    "       shoal cert client NAME --role admin|readwrite|readonly [--certs DIR] [--days N]\n";

}  // namespace

int cmd_token(const Args& a) {
    const auto& p = a.positional;
    const auto role = a.opts.count("role") ? tls::parse_role(a.opts.at("role")) : std::nullopt;
    if (p.size() != 2 || !role || !a.opts.count("tokens")) {
        std::fputs("usage: shoal token NAME --role admin|readwrite|readonly --tokens FILE\n"
                   "  appends NAME's line (its role and the token's SHA-256) to FILE, the node's tokens_file,\n"
                   "  and prints the token once; nodes read it at start and on SIGHUP\n",
                   stderr);
        return k_usage;
    }
    if (!tls::valid_client_name(p[1])) {
        std::fprintf(stderr, "shoal token: NAME must be 1-64 of A-Z a-z 0-9 . _ -\n");
        return k_usage;
    }
    const std::string token = tls::Tokens::make();
    const std::string line = tls::Tokens::line(p[1], *role, token);
    const std::string& path = a.opts.at("tokens");
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    const bool written = fd >= 0 && ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) &&
                         ::fsync(fd) == 0;
    if (fd >= 0) ::close(fd);
    if (token.empty() || !written) {
        std::fprintf(stderr, "shoal token: cannot append to %s\n", path.c_str());
        return k_error;
    }
    std::printf("%s\n", token.c_str());
    return k_ok;
}

int cmd_cert(const Args& a) {
    const auto& p = a.positional;
    const std::string dir = a.opts.count("certs") ? a.opts.at("certs") : "shoal-certs";
    std::uint32_t days = 0;
    if (a.opts.count("days") && (!to_u32(a.opts.at("days"), days, 36500) || days == 0)) {
        std::fprintf(stderr, "shoal cert: --days must be 1..36500\n");
        return k_usage;
    }
    const std::string sub = p.size() >= 2 ? p[1] : "";
    std::string err;
    if (sub == "init" && p.size() == 2) {
        err = tls::make_ca(dir, days ? static_cast<int>(days) : 3650);
        if (err.empty())
            std::printf("cluster CA made: %s/ca.crt (give it to every node and client) and %s/ca.key "
                        "(keep it off the nodes)\n",
                        dir.c_str(), dir.c_str());
    } else if (sub == "node" && p.size() == 3) {
        std::uint32_t id = 0;
        if (!to_u32(p[2], id, 0xffffffffu) || id == 0) {
            std::fprintf(stderr, "shoal cert node: ID must be 1..4294967295\n");
            return k_usage;
        }
        tls::IssueOptions o;
        if (days) o.days = static_cast<int>(days);
        if (a.opts.count("hosts")) o.hosts = comma_list(a.opts.at("hosts"));
        err = tls::issue_node(dir, id, o);
        if (err.empty())
            std::printf("node %u: %s and %s (tls_cert and tls_key in its config)\n", id,
                        tls::node_cert_path(dir, id).c_str(), tls::node_key_path(dir, id).c_str());
    } else if (sub == "client" && p.size() == 3) {
        const auto role = a.opts.count("role") ? tls::parse_role(a.opts.at("role")) : std::nullopt;
        if (!role) {
            std::fprintf(stderr, "shoal cert client: --role admin, readwrite or readonly is required\n");
            return k_usage;
        }
        tls::IssueOptions o;
        if (days) o.days = static_cast<int>(days);
        err = tls::issue_client(dir, p[2], *role, o);
        if (err.empty())
            std::printf("client %s (%s): %s and %s (shoal --cacert %s/ca.crt --cert ... --key ...)\n",
                        p[2].c_str(), std::string(tls::role_name(*role)).c_str(),
                        tls::client_cert_path(dir, p[2]).c_str(), tls::client_key_path(dir, p[2]).c_str(),
                        dir.c_str());
    } else {
        std::fputs(k_cert_usage, stderr);
        return k_usage;
    }
    if (!err.empty()) {
        std::fprintf(stderr, "shoal cert %s: %s\n", sub.c_str(), err.c_str());
        return k_error;
    }
    return k_ok;
}

}  // namespace shoal::cli
