// TLS contexts for Shoal's listeners and links (Boost.Asio's SSL over OpenSSL). This
// header brings in OpenSSL: include it from .cpp files only.
//
// Every listener that has TLS on uses a server context; a node's outbound peer links
// and Shoal's clients use a client context. All of them trust exactly one CA (the
// cluster's), speak TLS 1.3 unless told 1.2, and present a certificate when they have
// one. Contexts are replaced whole when the files are reloaded (SIGHUP): a connection
// keeps the context it began with.
#pragma once

#include <memory>
#include <string>

#include <boost/asio/ssl/context.hpp>

#include "tls/identity.h"
#include "tls/tls.h"

namespace shoal::tls {


enum class Peer {
    required,  // the other end must present a certificate from the CA (the peer port)
    optional,  // asked for, checked when given (the client listeners)
};

using Context = boost::asio::ssl::context;

// A server context; nullptr with `error` set when a file is missing or does not fit.
std::shared_ptr<Context> server_context(const Files& files, Peer peer, std::string& error);
// A client context: checks the server's chain against the CA; presents files.cert if set.
std::shared_ptr<Context> client_context(const Files& files, std::string& error);

// The identity in the certificate the other end presented and the CA verified (kind
// none when it presented none). `ssl` is the connection's native handle.
Identity peer_identity(void* ssl);

// The identity a certificate file names (kind none with `error` set when it cannot be
// read). shoald checks its own: a node started as id 3 with node 2's certificate stops.
Identity file_identity(const std::string& pem_path, std::string& error);

// Whether OpenSSL allocates through this module's allocator (whose free skips null
// pointers; installed before main by any program linking it), as tests check.
bool lean_allocator_installed();

}  // namespace shoal::tls
