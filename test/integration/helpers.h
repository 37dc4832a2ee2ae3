// Helpers the integration tests share: ports, raw connections and HTTP exchanges,
// metrics summed over a dev cluster, what a stopped node's store holds.
#pragma once

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include <openssl/ssl.h>

#include "client/http_get.h"
#include "core/hash.h"
#include "tls/context.h"
#include "harness.h"
#include "replica/codec.h"
#include "ring/ring.h"
#include "store/keys.h"
#include "store/leveldb_store.h"

namespace shoal::it {

inline int base_port() {
    // Spread concurrent runs apart; dev up refuses ports in use. Every cluster here
    // stays within base..base+143, so 20000..27043: below the bench smoke test's 27100
    // and below the kernel's ephemeral range (32768..), where outgoing connections and
    // their TIME_WAIT sockets would otherwise hold a port a node must listen on.
    return 20000 + static_cast<int>(::getpid() % 70) * 100;
}

// Opens a TCP connection to host:port (-1 on failure); the caller closes it.
inline int open_connection(const std::string& host_port) {
    auto colon = host_port.rfind(':');
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(std::stoi(host_port.substr(colon + 1))));
    ::inet_pton(AF_INET, host_port.substr(0, colon).c_str(), &a.sin_addr);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

// A blocking connection to a node's port that speaks raw bytes inside TLS (when
// `files` has a CA: the cluster's) or plain TCP: for tests that send what no client
// would. ok() once connected (and the handshake done).
class RawConn {
public:
    RawConn(const std::string& host_port, const tls::Files& files) : fd_(open_connection(host_port)) {
        if (fd_ < 0 || !files.enabled()) return;
        std::string error;
        context_ = tls::client_context(files, error);
        REQUIRE(context_ != nullptr);
        ssl_ = SSL_new(context_->native_handle());
        SSL_set_fd(ssl_, fd_);
        if (SSL_connect(ssl_) != 1) {
            ::close(fd_);
            fd_ = -1;
        }
    }
    ~RawConn() {
        if (ssl_ != nullptr) SSL_free(ssl_);
        if (fd_ >= 0) ::close(fd_);
    }
    RawConn(const RawConn&) = delete;
    RawConn& operator=(const RawConn&) = delete;
    bool ok() const { return fd_ >= 0; }
    int fd() const { return fd_; }
    // Sends what it can; the bytes of `data` taken (fewer when a send timeout hit).
    std::size_t send(const std::string& data) {
        if (fd_ < 0) return 0;
        if (ssl_ == nullptr) {
            std::size_t sent = 0;
            while (sent < data.size()) {
                const ssize_t n = ::send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
                if (n <= 0) break;
                sent += static_cast<std::size_t>(n);
            }
            return sent;
        }
        std::size_t sent = 0;
        while (sent < data.size()) {
            const int chunk = static_cast<int>(std::min<std::size_t>(data.size() - sent, 16384));
            const int n = SSL_write(ssl_, data.data() + sent, chunk);
            if (n <= 0) break;
            sent += static_cast<std::size_t>(n);
        }
        return sent;
    }
    // Reads until the node closes or `seconds` pass without a byte (bounded to 64 KiB).
    std::string read_all(int seconds) {
        std::string out;
        set_timeout(SO_RCVTIMEO, seconds);
        char buf[4096];
        for (;;) {
            const int n = ssl_ != nullptr ? SSL_read(ssl_, buf, sizeof buf)
                                          : static_cast<int>(::recv(fd_, buf, sizeof buf, 0));
            if (n <= 0 || out.size() >= 65536) break;
            out.append(buf, static_cast<std::size_t>(n));
        }
        return out;
    }
    // True when the node closes the connection within `seconds` (it reads nothing from it).
    bool closed_by_node(int seconds) {
        if (fd_ < 0) return true;
        set_timeout(SO_RCVTIMEO, seconds);
        char buf[256];
        if (ssl_ == nullptr) {
            const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
            return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
        }
        const int n = SSL_read(ssl_, buf, sizeof buf);
        if (n > 0) return false;
        const int err = SSL_get_error(ssl_, n);
        // A timeout is a read that would block; anything else is the end of the connection.
        return !(err == SSL_ERROR_WANT_READ || (err == SSL_ERROR_SYSCALL && (errno == EAGAIN || errno == EWOULDBLOCK)));
    }
    void set_timeout(int option, int seconds) {
        timeval tv{seconds, 0};
        ::setsockopt(fd_, SOL_SOCKET, option, &tv, sizeof tv);
    }

private:
    int fd_ = -1;
    std::shared_ptr<tls::Context> context_;
    SSL* ssl_ = nullptr;
};

// Sends raw bytes to host:port (inside TLS when the cluster has it: the CLI's files,
// client::http_tls()) and returns what came back before close (bounded).
inline std::string raw_exchange(const std::string& host_port, const std::string& bytes) {
    RawConn conn(host_port, client::http_tls());
    if (!conn.ok()) return {};
    conn.set_timeout(SO_RCVTIMEO, 2);
    conn.send(bytes);
    return conn.read_all(2);
}

// One HTTP/1.1 request on its own connection; the whole response (headers and body).
inline std::string http_call(const std::string& host_port, const std::string& method, const std::string& target,
                             const std::string& body = {}, const std::string& headers = {}) {
    return raw_exchange(host_port, method + " " + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + headers +
                                       "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
}

inline std::string status_of(const std::string& response) {
    return response.size() >= 12 ? response.substr(9, 3) : std::string();
}

// The value of response header `name` ("" when absent).
inline std::string header_of(const std::string& response, const std::string& name) {
    const auto at = response.find("\r\n" + name + ": ");
    if (at == std::string::npos || at > response.find("\r\n\r\n")) return {};
    const auto from = at + 4 + name.size();
    return response.substr(from, response.find("\r\n", from) - from);
}

inline int count_stored(const std::string& db_dir, const ring::Ring& ring, const std::vector<std::string>& keys) {
    std::error_code ec;
    auto db = store::LevelStore::open(db_dir, store::LevelOptions{}, ec);
    INFO("open " << db_dir << ": " << ec.message());
    REQUIRE(db);
    int found = 0;
    for (const auto& key : keys) {
        std::optional<std::string> bytes;
        REQUIRE(!db->get(store::data_key(ring.partition_of(hash_key(key)), key), bytes));
        replica::SiblingSet state;
        if (bytes && !replica::decode_stored(*bytes, state) && !state.siblings.empty()) ++found;
    }
    return found;
}

// The partitions `node` is a replica of, as the node at `http` reports them.
inline std::set<std::uint32_t> replicated_by(const std::string& http, std::int64_t node) {
    const auto res = client::http_get(http, "/cluster", 3000);
    REQUIRE(res.status == 200);
    boost::system::error_code ec;
    const auto doc = boost::json::parse(res.body, ec);
    REQUIRE(!ec);
    std::set<std::uint32_t> out;
    for (const auto& p : doc.at("partitions").as_array()) {
        for (const auto& r : p.at("replicas").as_array()) {
            if (r.as_int64() == node) out.insert(static_cast<std::uint32_t>(p.at("id").as_int64()));
        }
    }
    return out;
}

// A metric summed over every node (the lines that start with `prefix`).
inline double metric_sum(const DevCluster& c, const std::string& prefix) {
    double sum = 0;
    for (const auto& n : c.nodes) {
        const auto got = client::http_get(n.http, "/metrics");
        REQUIRE(got.status == 200);
        std::size_t at = 0;
        while ((at = got.body.find("\n" + prefix, at)) != std::string::npos) {
            const std::size_t space = got.body.find(' ', at + 1);
            sum += std::stod(got.body.substr(space + 1, got.body.find('\n', space) - space - 1));
            at = space;
        }
    }
    return sum;
}

// Resident memory of a process, in bytes (0 if unknown).
inline std::size_t rss_bytes(int pid) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("VmRSS:", 0) == 0) return std::stoul(line.substr(6)) * 1024;
    }
    return 0;
}

inline int dev_pid(const DevCluster& c, int id) {
    std::ifstream pidfile(c.dir + "/n" + std::to_string(id) + ".pid");
    int pid = 0;
    pidfile >> pid;
    return pid;
}

// True when the node closes `fd` within `seconds` (it reads nothing from it).
inline bool closed_by_node(int fd, int seconds) {
    timeval tv{seconds, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char buf[256];
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

}  // namespace shoal::it
