#include "tls/certs.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace shoal::tls {

namespace {

template <auto Free>
struct Deleter {
    template <class T>
    void operator()(T* p) const {
        Free(p);
    }
};
using Key = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;
using Cert = std::unique_ptr<X509, Deleter<X509_free>>;
using Bio = std::unique_ptr<BIO, Deleter<BIO_free_all>>;
using Bignum = std::unique_ptr<BIGNUM, Deleter<BN_free>>;

// The last OpenSSL error, as text.
std::string ssl_error() {
    const unsigned long e = ERR_get_error();
    if (e == 0) return "unknown OpenSSL error";
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    ERR_clear_error();
    return buf;
}

bool exists(const std::string& path) {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0;
}

// Writes `text` to a new file of the given mode; never replaces one.
std::string write_new(const std::string& path, const std::string& text, mode_t mode) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) return path + ": " + (errno == EEXIST ? "already exists (remove it to reissue)" : strerror(errno));
    std::size_t done = 0;
    while (done < text.size()) {
        const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            const std::string why = strerror(errno);
            ::close(fd);
            return path + ": " + why;
        }
        done += static_cast<std::size_t>(n);
    }
    if (::fsync(fd) != 0 || ::close(fd) != 0) return path + ": " + strerror(errno);
    return {};
}

std::string pem_of(Bio& bio) {
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(n));
}

Key new_key() {
    return Key(EVP_EC_gen("P-256"));
}

std::string key_pem(EVP_PKEY* key) {
    Bio bio(BIO_new(BIO_s_mem()));
    if (!PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr)) return {};
    return pem_of(bio);
}

std::string cert_pem(X509* cert) {
    Bio bio(BIO_new(BIO_s_mem()));
    if (!PEM_write_bio_X509(bio.get(), cert)) return {};
    return pem_of(bio);
}

bool add_name(X509_NAME* name, const char* field, const std::string& value) {
    return X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(value.c_str()),
                                      -1, -1, 0) == 1;
}

bool add_ext(X509* cert, X509* issuer, int nid, const std::string& value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
    if (!ext) return false;
    const bool ok = X509_add_ext(cert, ext, -1) == 1;
    X509_EXTENSION_free(ext);
    return ok;
}

// A certificate for `key` with a random serial, valid from an hour ago (clocks drift)
// for `days`, its subject CN/OU as given.
Cert new_cert(EVP_PKEY* key, const std::string& cn, const std::string& ou, int days) {
    Cert cert(X509_new());
    if (!cert || !X509_set_version(cert.get(), 2)) return nullptr;
    Bignum serial(BN_new());
    if (!serial || !BN_rand(serial.get(), 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) ||
        !BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())))
        return nullptr;
    if (!X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600) ||
        !X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(days) * 86400L))
        return nullptr;
    if (!X509_set_pubkey(cert.get(), key)) return nullptr;
    X509_NAME* name = X509_get_subject_name(cert.get());
    if (!add_name(name, "O", "Shoal") || !add_name(name, "OU", ou) || !add_name(name, "CN", cn)) return nullptr;
    return cert;
}

std::string load_ca(const std::string& dir, Cert& cert, Key& key) {
    const std::string cert_path = ca_cert_path(dir), key_path = dir + "/ca.key";
    Bio cb(BIO_new_file(cert_path.c_str(), "r"));
    if (!cb) return cert_path + ": cannot read (run `shoal cert init` first)";
    cert.reset(PEM_read_bio_X509(cb.get(), nullptr, nullptr, nullptr));
    if (!cert) return cert_path + ": not a PEM certificate: " + ssl_error();
    Bio kb(BIO_new_file(key_path.c_str(), "r"));
    if (!kb) return key_path + ": cannot read (issuing needs the CA's key)";
    key.reset(PEM_read_bio_PrivateKey(kb.get(), nullptr, nullptr, nullptr));
    if (!key) return key_path + ": not a PEM private key: " + ssl_error();
    if (X509_check_private_key(cert.get(), key.get()) != 1) return key_path + ": does not match " + cert_path;
    return {};
}

std::string alt_names(const std::vector<std::string>& hosts) {
    std::string san = "IP:127.0.0.1,DNS:localhost";
    for (const std::string& h : hosts) {
        if (h.empty() || h == "127.0.0.1" || h == "localhost") continue;
        const bool ip = h.find_first_not_of("0123456789.") == std::string::npos || h.find(':') != std::string::npos;
        san += (ip ? ",IP:" : ",DNS:") + h;
    }
    return san;
}

std::string issue(const std::string& dir, const std::string& stem, const std::string& cn, const std::string& ou,
                  const IssueOptions& options) {
    const std::string cert_path = dir + "/" + stem + ".crt", key_path = dir + "/" + stem + ".key";
    if (exists(cert_path)) return cert_path + ": already exists (remove it to reissue)";
    if (exists(key_path)) return key_path + ": already exists (remove it to reissue)";
    if (options.days < 1 || options.days > 36500) return "days must be 1..36500";
    for (const std::string& h : options.hosts) {
        if (h.size() > 253 || h.find_first_of(", \t\n") != std::string::npos) return "bad host name: " + h;
    }
    Cert ca;
    Key ca_key;
    if (std::string e = load_ca(dir, ca, ca_key); !e.empty()) return e;
    Key key = new_key();
    if (!key) return "cannot make a key: " + ssl_error();
    Cert cert = new_cert(key.get(), cn, ou, options.days);
    if (!cert || !X509_set_issuer_name(cert.get(), X509_get_subject_name(ca.get())) ||
        !add_ext(cert.get(), ca.get(), NID_basic_constraints, "critical,CA:FALSE") ||
        !add_ext(cert.get(), ca.get(), NID_key_usage, "critical,digitalSignature") ||
        !add_ext(cert.get(), ca.get(), NID_ext_key_usage, "serverAuth,clientAuth") ||
        !add_ext(cert.get(), ca.get(), NID_subject_alt_name, alt_names(options.hosts)) ||
        !add_ext(cert.get(), ca.get(), NID_authority_key_identifier, "keyid:always") ||
        !X509_sign(cert.get(), ca_key.get(), EVP_sha256()))
        return "cannot make the certificate: " + ssl_error();
    if (std::string e = write_new(key_path, key_pem(key.get()), 0600); !e.empty()) return e;
    return write_new(cert_path, cert_pem(cert.get()), 0644);
}

}  // namespace

std::string ca_cert_path(const std::string& dir) {
    return dir + "/ca.crt";
}
std::string node_cert_path(const std::string& dir, std::uint32_t id) {
    return dir + "/node-" + std::to_string(id) + ".crt";
}
std::string node_key_path(const std::string& dir, std::uint32_t id) {
    return dir + "/node-" + std::to_string(id) + ".key";
}
std::string client_cert_path(const std::string& dir, const std::string& name) {
    return dir + "/client-" + name + ".crt";
}
std::string client_key_path(const std::string& dir, const std::string& name) {
    return dir + "/client-" + name + ".key";
}

std::string make_ca(const std::string& dir, int days) {
    if (days < 1 || days > 36500) return "days must be 1..36500";
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return dir + ": " + strerror(errno);
    const std::string cert_path = ca_cert_path(dir), key_path = dir + "/ca.key";
    if (exists(cert_path) || exists(key_path)) return dir + ": holds a CA already (ca.crt / ca.key)";
    Key key = new_key();
    if (!key) return "cannot make a key: " + ssl_error();
    // A name of its own per cluster, so two clusters' CAs are never confused in a log.
    Bignum tag(BN_new());
    if (!tag || !BN_rand(tag.get(), 48, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY)) return ssl_error();
    char* hex = BN_bn2hex(tag.get());
    const std::string cn = std::string("Shoal cluster CA ") + hex;
    OPENSSL_free(hex);
    Cert cert = new_cert(key.get(), cn, "shoal-ca", days);
    if (!cert || !X509_set_issuer_name(cert.get(), X509_get_subject_name(cert.get())) ||
        !add_ext(cert.get(), cert.get(), NID_basic_constraints, "critical,CA:TRUE,pathlen:0") ||
        !add_ext(cert.get(), cert.get(), NID_key_usage, "critical,keyCertSign,cRLSign") ||
        !add_ext(cert.get(), cert.get(), NID_subject_key_identifier, "hash") ||
        !X509_sign(cert.get(), key.get(), EVP_sha256()))
        return "cannot make the CA certificate: " + ssl_error();
    if (std::string e = write_new(key_path, key_pem(key.get()), 0600); !e.empty()) return e;
    return write_new(cert_path, cert_pem(cert.get()), 0644);
}

std::string issue_node(const std::string& dir, std::uint32_t id, const IssueOptions& options) {
    if (id == 0) return "node id must be 1..4294967295";
    return issue(dir, "node-" + std::to_string(id), node_common_name(id), std::string(k_node_unit), options);
}

std::string issue_client(const std::string& dir, const std::string& name, Role role, const IssueOptions& options) {
    if (!valid_client_name(name)) return "client name must be 1-64 of A-Z a-z 0-9 . _ -";
    if (role == Role::none) return "a client certificate needs a role (admin, readwrite, readonly)";
    return issue(dir, "client-" + name, name, client_unit(role), options);
}

}  // namespace shoal::tls
