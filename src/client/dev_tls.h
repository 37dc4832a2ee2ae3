// A dev cluster's certificates: `shoal dev up` makes a CA under DIR/tls, a certificate
// for every node (valid for its addresses) and an admin client certificate that the
// CLI, the bench and the tests use when they are pointed at the cluster's folder.
#pragma once

#include <string>

#include "tls/tls.h"

namespace shoal::client {

std::string dev_tls_dir(const std::string& dir);
// True when the cluster in `dir` runs with TLS (it has a CA).
bool dev_tls_on(const std::string& dir);
// Makes the CA and the admin client certificate (once per cluster). "" or an error.
std::string dev_tls_init(const std::string& dir);
// Issues node `id`'s certificate, valid for `host` too, unless it exists. "" or an error.
std::string dev_tls_node(const std::string& dir, int id, const std::string& host);
// The config lines that point node `id` at its files ("" when TLS is off).
std::string dev_tls_conf(const std::string& dir, int id);
// What a client of the cluster uses: the CA and the admin certificate (none when off).
tls::Files dev_client_tls(const std::string& dir);

}  // namespace shoal::client
