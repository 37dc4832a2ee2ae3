#include "tls/context.h"

#include "tls/tokens.h"

#include <cstdlib>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

namespace shoal::tls {

namespace {

// OpenSSL's allocator, with a free that returns at once for a null pointer. Asio clears
// OpenSSL's error queue before every TLS read and write, and each clear frees two null
// pointers for each of the queue's 16 slots; through CRYPTO_free into the process's
// free that cost ~8% of a TLS node's instructions (callgrind, 1 node, preset a). The
// rest behaves as OpenSSL's own: a size of 0 gives no block, realloc follows CRYPTO_realloc.
void* lean_malloc(std::size_t n, const char*, int) { return n == 0 ? nullptr : std::malloc(n); }
void lean_free(void* p, const char*, int) {
    if (p != nullptr) std::free(p);
}
void* lean_realloc(void* p, std::size_t n, const char* file, int line) {
    if (p == nullptr) return lean_malloc(n, file, line);
    if (n == 0) {
        lean_free(p, file, line);
        return nullptr;
    }
    return std::realloc(p, n);
}

// OpenSSL takes an allocator only before its first allocation, and Asio's SSL headers
// initialise OpenSSL from a static object: this runs ahead of every default-priority
// static initialiser of the program.
[[gnu::constructor(101)]] void install_lean_allocator() {
    (void)CRYPTO_set_mem_functions(lean_malloc, lean_realloc, lean_free);
}

std::string ssl_text(const boost::system::error_code& ec) {
    std::string s = ec.message();
    if (const unsigned long e = ERR_get_error()) {
        char buf[256];
        ERR_error_string_n(e, buf, sizeof buf);
        s += " (";
        s += buf;
        s += ")";
    }
    ERR_clear_error();
    return s;
}

// What both sides share: protocol floor, ciphers, the CA, and this end's certificate.
std::shared_ptr<Context> make(Context::method method, const Files& files, std::string& error) {
    auto ctx = std::make_shared<Context>(method);
    boost::system::error_code ec;
    ctx->set_options(Context::default_workarounds | Context::no_sslv2 | Context::no_sslv3 | Context::no_tlsv1 |
                         Context::no_tlsv1_1 | Context::no_compression,
                     ec);
    SSL_CTX* native = ctx->native_handle();
    if (files.min_version != "1.3" && files.min_version != "1.2") {
        error = "tls_min_version must be 1.2 or 1.3, not " + files.min_version;
        return nullptr;
    }
    SSL_CTX_set_min_proto_version(native, files.min_version == "1.3" ? TLS1_3_VERSION : TLS1_2_VERSION);
    if (!files.ciphers.empty()) {
        // One setting for both: TLS 1.3 suites are TLS_* names; anything else is a 1.2 list.
        const bool suites = files.ciphers.starts_with("TLS_");
        const int ok = suites ? SSL_CTX_set_ciphersuites(native, files.ciphers.c_str())
                              : SSL_CTX_set_cipher_list(native, files.ciphers.c_str());
        if (ok != 1) {
            ERR_clear_error();
            error = "tls_ciphers names no cipher OpenSSL knows: " + files.ciphers;
            return nullptr;
        }
    }
    if (ctx->load_verify_file(files.ca, ec); ec) {
        error = "tls_ca " + files.ca + ": " + ssl_text(ec);
        return nullptr;
    }
    if (!files.cert.empty()) {
        if (ctx->use_certificate_chain_file(files.cert, ec); ec) {
            error = "tls_cert " + files.cert + ": " + ssl_text(ec);
            return nullptr;
        }
        if (ctx->use_private_key_file(files.key, Context::pem, ec); ec) {
            error = "tls_key " + files.key + ": " + ssl_text(ec);
            return nullptr;
        }
        if (SSL_CTX_check_private_key(native) != 1) {
            ERR_clear_error();
            error = "tls_key " + files.key + " does not match tls_cert " + files.cert;
            return nullptr;
        }
    }
    return ctx;
}

std::string subject_field(X509_NAME* name, int nid) {
    const int at = X509_NAME_get_index_by_NID(name, nid, -1);
    if (at < 0) return {};
    // Exactly one of each: a certificate with two CNs names nobody.
    if (X509_NAME_get_index_by_NID(name, nid, at) >= 0) return {};
    ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, at));
    unsigned char* utf8 = nullptr;
    const int n = ASN1_STRING_to_UTF8(&utf8, data);
    if (n < 0) return {};
    std::string out(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(n));
    OPENSSL_free(utf8);
    if (out.find('\0') != std::string::npos) return {};
    return out;
}

}  // namespace

std::shared_ptr<Context> server_context(const Files& files, Peer peer, std::string& error) {
    if (files.cert.empty() || files.key.empty()) {
        error = "a TLS listener needs tls_cert and tls_key";
        return nullptr;
    }
    auto ctx = make(Context::tls_server, files, error);
    if (!ctx) return nullptr;
    boost::system::error_code ec;
    int mode = Context::verify_peer;
    if (peer == Peer::required) mode |= Context::verify_fail_if_no_peer_cert;
    ctx->set_verify_mode(mode, ec);
    // The CA's name goes into the certificate request, so a client knows which to send.
    SSL_CTX_set_client_CA_list(ctx->native_handle(), SSL_load_client_CA_file(files.ca.c_str()));
    return ctx;
}

std::shared_ptr<Context> client_context(const Files& files, std::string& error) {
    auto ctx = make(Context::tls_client, files, error);
    if (!ctx) return nullptr;
    boost::system::error_code ec;
    ctx->set_verify_mode(Context::verify_peer, ec);
    return ctx;
}

Identity peer_identity(void* handle) {
    SSL* ssl = static_cast<SSL*>(handle);
    if (!ssl || SSL_get_verify_result(ssl) != X509_V_OK) return {};
    X509* cert = SSL_get1_peer_certificate(ssl);
    if (!cert) return {};
    X509_NAME* name = X509_get_subject_name(cert);
    Identity id = identity_from_subject(subject_field(name, NID_commonName), subject_field(name, NID_organizationalUnitName));
    X509_free(cert);
    return id;
}

Identity file_identity(const std::string& pem_path, std::string& error) {
    BIO* bio = BIO_new_file(pem_path.c_str(), "r");
    if (!bio) {
        error = pem_path + ": cannot read";
        return {};
    }
    X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    if (!cert) {
        ERR_clear_error();
        error = pem_path + ": not a PEM certificate";
        return {};
    }
    X509_NAME* name = X509_get_subject_name(cert);
    Identity id = identity_from_subject(subject_field(name, NID_commonName), subject_field(name, NID_organizationalUnitName));
    X509_free(cert);
    return id;
}

std::string NodeContexts::load(const Files& files) {
    std::string error;
    auto peer_server = server_context(files, Peer::required, error);
    if (!peer_server) return error;
    auto peer_client = client_context(files, error);
    if (!peer_client) return error;
    auto client_server = server_context(files, Peer::optional, error);
    if (!client_server) return error;
    auto tokens = std::make_shared<Tokens>();
    if (!files.tokens.empty()) {
        if (std::string e = tokens->load(files.tokens); !e.empty()) return e;
    }
    std::lock_guard lock(mu_);
    tokens_ = std::move(tokens);
    files_ = files;
    peer_server_ = std::move(peer_server);
    peer_client_ = std::move(peer_client);
    client_server_ = std::move(client_server);
    generation_.fetch_add(1, std::memory_order_release);
    return {};
}

std::shared_ptr<Context> NodeContexts::peer_server() const {
    std::lock_guard lock(mu_);
    return peer_server_;
}
std::shared_ptr<Context> NodeContexts::peer_client() const {
    std::lock_guard lock(mu_);
    return peer_client_;
}
std::shared_ptr<Context> NodeContexts::client_server() const {
    std::lock_guard lock(mu_);
    return client_server_;
}
std::shared_ptr<const Tokens> NodeContexts::tokens() const {
    std::lock_guard lock(mu_);
    return tokens_;
}
Identity NodeContexts::identify(std::string_view token) const {
    const auto t = tokens();
    if (!t) return {};
    return t->find(token).value_or(Identity{});
}

bool lean_allocator_installed() {
    CRYPTO_malloc_fn m = nullptr;
    CRYPTO_realloc_fn r = nullptr;
    CRYPTO_free_fn f = nullptr;
    CRYPTO_get_mem_functions(&m, &r, &f);
    return m == &lean_malloc && r == &lean_realloc && f == &lean_free;
}

}  // namespace shoal::tls
