// Making a cluster's certificates with OpenSSL's library (no `openssl` command):
// `shoal cert` and `shoal dev up` call these. A cluster's certificate folder holds
//   ca.crt  ca.key                the cluster CA (ca.key: mode 0600; keep it off the nodes)
//   node-<id>.crt  node-<id>.key  one per node: its peer, client, HTTP and Redis listeners
//   client-<name>.crt/.key        one per client, with its role
// Keys are ECDSA P-256, signatures SHA-256. OpenSSL headers stay in certs.cpp.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tls/identity.h"

namespace shoal::tls {

struct IssueOptions {
    int days = 825;  // validity
    // Names the certificate is valid for, beyond 127.0.0.1 and localhost: IP
    // addresses or DNS names (what clients dial; curl and the CLI check them).
    std::vector<std::string> hosts;
};

// Each returns "" on success, else what went wrong (naming the file). None overwrites
// an existing file: remove it first to reissue.

// Creates `dir` (mode 0700) if needed and writes ca.crt and ca.key.
std::string make_ca(const std::string& dir, int days = 3650);
// Writes node-<id>.crt/.key in `dir`, signed by the CA there.
std::string issue_node(const std::string& dir, std::uint32_t id, const IssueOptions& options = {});
// Writes client-<name>.crt/.key in `dir`, signed by the CA there.
std::string issue_client(const std::string& dir, const std::string& name, Role role,
                         const IssueOptions& options = {});

// The files of each kind, for callers that pass them on.
std::string ca_cert_path(const std::string& dir);
std::string node_cert_path(const std::string& dir, std::uint32_t id);
std::string node_key_path(const std::string& dir, std::uint32_t id);
std::string client_cert_path(const std::string& dir, const std::string& name);
std::string client_key_path(const std::string& dir, const std::string& name);

}  // namespace shoal::tls
