// TLS settings and a node's TLS contexts, without OpenSSL: this header is light enough
// for config and shell headers. tls/context.h makes contexts; tls/stream.h uses them.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "tls/identity.h"

namespace boost::asio::ssl {
class context;
}

namespace shoal::tls {

struct Files {
    std::string ca;    // the cluster CA's certificate (PEM); empty: no TLS
    std::string cert;  // this end's certificate; empty: present none (clients only)
    std::string key;   // its private key
    std::string ciphers;              // a TLS 1.2 cipher list or TLS_* 1.3 suites (OpenSSL syntax); empty: OpenSSL's
    std::string min_version = "1.3";  // "1.3" or "1.2"
    std::string tokens;               // node side: a tokens file (tls/tokens.h); empty: no tokens
    bool enabled() const { return !ca.empty(); }
};

class Tokens;

// A node's contexts: its peer listener (client certificates required, from the CA),
// its outbound peer links (presenting its own), and its client-facing listeners (native,
// HTTP, Redis: a client certificate asked for, checked when given). reload() replaces
// them all from the files, or none when any fails; connections keep the context they
// began with. Contexts are read on the loop thread; reload() may run on any.
class NodeContexts {
public:
    // "" on success, else what is wrong (naming the file).
    std::string load(const Files& files);
    std::string reload() { return load(files_); }
    std::shared_ptr<boost::asio::ssl::context> peer_server() const;
    std::shared_ptr<boost::asio::ssl::context> peer_client() const;
    std::shared_ptr<boost::asio::ssl::context> client_server() const;
    const Files& files() const { return files_; }
    // Who may do what (enforced once TLS is on), and the tokens that name clients.
    void set_access(Access a) { access_ = a; }
    const Access& access() const { return access_; }
    std::shared_ptr<const Tokens> tokens() const;
    // The identity a token names (kind none when unknown, or there are no tokens).
    Identity identify(std::string_view token) const;
    // Bumped by every load (a SIGHUP reload): a connection that took its role from a
    // token looks the token up again when it changes, so a revoked token stops working
    // on connections already open.
    std::uint64_t generation() const { return generation_.load(std::memory_order_acquire); }

private:
    mutable std::mutex mu_;
    Files files_;
    std::shared_ptr<boost::asio::ssl::context> peer_server_, peer_client_, client_server_;
    std::shared_ptr<const Tokens> tokens_;
    Access access_;
    std::atomic<std::uint64_t> generation_{0};
};

}  // namespace shoal::tls
