// TLS: identities read from certificate subjects, certificates made by `shoal cert`,
// and handshakes over loopback with the contexts the node uses — a peer port that
// takes only a node of the cluster's CA, and a client port that takes anyone with
// TLS and reports who presented what.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <boost/asio.hpp>

#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include "server/config.h"
#include "tls/certs.h"
#include "tls/context.h"
#include "tls/identity.h"
#include "tls/stream.h"
#include "tls/tokens.h"

#include <openssl/crypto.h>
#include <openssl/err.h>

using namespace shoal;
namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

struct TempDir {
    std::string path;
    explicit TempDir(const std::string& name) {
        path = (std::filesystem::temp_directory_path() / ("shoal-tls-" + name + "-" + std::to_string(::getpid())))
                   .string();
        std::filesystem::remove_all(path);
    }
    ~TempDir() { std::filesystem::remove_all(path); }
};

// A cluster CA with node 1, node 2 and a readwrite client "app".
struct Certs {
    TempDir dir;
    explicit Certs(const std::string& name) : dir(name) {
        REQUIRE(tls::make_ca(dir.path) == "");
        REQUIRE(tls::issue_node(dir.path, 1) == "");
        REQUIRE(tls::issue_node(dir.path, 2) == "");
        REQUIRE(tls::issue_client(dir.path, "app", tls::Role::readwrite) == "");
    }
    tls::Files node(std::uint32_t id) const {
        return {tls::ca_cert_path(dir.path), tls::node_cert_path(dir.path, id), tls::node_key_path(dir.path, id)};
    }
    tls::Files client(const std::string& name) const {
        return {tls::ca_cert_path(dir.path), tls::client_cert_path(dir.path, name), tls::client_key_path(dir.path, name)};
    }
    tls::Files anonymous() const { return {tls::ca_cert_path(dir.path), "", ""}; }
};

struct Outcome {
    bool server_ok = false, client_ok = false;
    tls::Identity server_saw;  // the client's identity, as the server verified it
    tls::Identity client_saw;  // the server's
};

// One handshake over loopback: a server with `server_ctx`, a client with `client_files`.
Outcome handshake(const std::shared_ptr<tls::Context>& server_ctx, const tls::Files& client_files,
                  const std::string& host = "127.0.0.1") {
    asio::io_context io;
    tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    std::string error;
    auto client_ctx = tls::client_context(client_files, error);
    REQUIRE(client_ctx != nullptr);
    std::optional<tls::Stream> server;
    tls::Stream client(io.get_executor(), client_ctx);
    client.expect_host(host);
    Outcome out;
    acceptor.async_accept([&](boost::system::error_code ec, tcp::socket s) {
        REQUIRE(!ec);
        server.emplace(std::move(s), server_ctx);
        server->async_handshake(asio::ssl::stream_base::server, [&](boost::system::error_code e) {
            out.server_ok = !e;
            if (!e) out.server_saw = server->peer();
            if (e) server->close();
        });
    });
    client.socket().async_connect(acceptor.local_endpoint(), [&](boost::system::error_code ec) {
        REQUIRE(!ec);
        client.async_handshake(asio::ssl::stream_base::client, [&](boost::system::error_code e) {
            out.client_ok = !e;
            if (!e) out.client_saw = client.peer();
            if (e) client.close();
        });
    });
    io.run_for(std::chrono::seconds(5));
    return out;
}

}  // namespace

TEST_CASE("tls identity: node and client subjects, and what does not name one", "[tls]") {
    const auto n = tls::identity_from_subject("node-3", "shoal-node");
    CHECK(n.is_node());
    CHECK(n.node == 3);
    CHECK(n.effective_role() == tls::Role::admin);
    CHECK(tls::identity_from_subject("node-4294967295", "shoal-node").node == 4294967295u);
    for (const char* bad : {"node-0", "node-03", "node--3", "node-3x", "node-", "node-4294967296", "3", "Node-3"})
        CHECK(tls::identity_from_subject(bad, "shoal-node").kind == tls::Identity::Kind::none);
    CHECK(tls::identity_from_subject("node-3", "shoal-client:admin").kind == tls::Identity::Kind::client);
    const auto c = tls::identity_from_subject("app.v2", "shoal-client:readonly");
    CHECK(c.kind == tls::Identity::Kind::client);
    CHECK(c.name == "app.v2");
    CHECK(c.role == tls::Role::readonly);
    CHECK(tls::identity_from_subject("app", "shoal-client:root").kind == tls::Identity::Kind::none);
    CHECK(tls::identity_from_subject("a b", "shoal-client:admin").kind == tls::Identity::Kind::none);
    CHECK(tls::identity_from_subject(std::string(65, 'a'), "shoal-client:admin").kind == tls::Identity::Kind::none);
    CHECK(tls::identity_from_subject(std::string(64, 'a'), "shoal-client:admin").kind == tls::Identity::Kind::client);
    CHECK(tls::identity_from_subject("node-3", "").kind == tls::Identity::Kind::none);
    CHECK(tls::role_name(tls::Role::readwrite) == "readwrite");
    CHECK(tls::parse_role("admin") == tls::Role::admin);
    CHECK(!tls::parse_role("none"));
}

TEST_CASE("tls certs: a CA, node and client certificates that name what they were issued for", "[tls]") {
    Certs certs("issue");
    const std::string& d = certs.dir.path;
    std::string error;
    const auto node2 = tls::file_identity(tls::node_cert_path(d, 2), error);
    CHECK(error == "");
    CHECK(node2.is_node());
    CHECK(node2.node == 2);
    const auto app = tls::file_identity(tls::client_cert_path(d, "app"), error);
    CHECK(app.kind == tls::Identity::Kind::client);
    CHECK(app.role == tls::Role::readwrite);
    // Keys are for their owner alone.
    struct stat st {};
    REQUIRE(::stat((d + "/ca.key").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    REQUIRE(::stat(tls::node_key_path(d, 2).c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    // Nothing is overwritten; bad requests are refused with a reason.
    CHECK(tls::make_ca(d).find("holds a CA already") != std::string::npos);
    CHECK(tls::issue_node(d, 2).find("already exists") != std::string::npos);
    CHECK(tls::issue_node(d, 0) != "");
    CHECK(tls::issue_client(d, "../x", tls::Role::admin) != "");
    CHECK(tls::issue_client(d, "x", tls::Role::none) != "");
    TempDir empty("noca");
    CHECK(tls::issue_node(empty.path, 1).find("shoal cert init") != std::string::npos);
}

TEST_CASE("tls: OpenSSL allocates through the lean allocator, which frees what it gave", "[tls]") {
    // Installed before main (a static constructor ahead of Asio's OpenSSL init).
    REQUIRE(tls::lean_allocator_installed());
    void* p = OPENSSL_malloc(100);
    REQUIRE(p != nullptr);
    p = OPENSSL_realloc(p, 5000);
    REQUIRE(p != nullptr);
    CHECK(OPENSSL_realloc(p, 0) == nullptr);  // freed, as CRYPTO_realloc does
    CHECK(OPENSSL_malloc(0) == nullptr);
    OPENSSL_free(nullptr);
    ERR_clear_error();
}

TEST_CASE("tls handshake: the peer port takes nodes of its CA only", "[tls]") {
    Certs certs("peer");
    Certs other("other");  // another cluster's CA, with its own node 2
    std::string error;
    auto peer_port = tls::server_context(certs.node(1), tls::Peer::required, error);
    REQUIRE(peer_port != nullptr);

    const Outcome node2 = handshake(peer_port, certs.node(2));
    CHECK(node2.server_ok);
    CHECK(node2.client_ok);
    CHECK(node2.server_saw.is_node());
    CHECK(node2.server_saw.node == 2);
    CHECK(node2.client_saw.node == 1);  // and the dialler learns whom it reached

    // No certificate at all: refused by the server.
    CHECK_FALSE(handshake(peer_port, certs.anonymous()).server_ok);
    // A node certificate from another cluster's CA: refused by the server.
    tls::Files foreign = other.node(2);
    foreign.ca = tls::ca_cert_path(certs.dir.path);  // it trusts our CA, but presents its own
    CHECK_FALSE(handshake(peer_port, foreign).server_ok);
    // And a dialler of the other cluster does not accept our node either.
    CHECK_FALSE(handshake(peer_port, other.node(2)).client_ok);
    // A client certificate of the right CA completes TLS, but names no node: the shell
    // refuses it (peer_identity says what it is).
    const Outcome client = handshake(peer_port, certs.client("app"));
    CHECK(client.server_saw.kind == tls::Identity::Kind::client);
}

TEST_CASE("tls handshake: client listeners check a certificate when one is given", "[tls]") {
    Certs certs("client");
    std::string error;
    auto client_port = tls::server_context(certs.node(1), tls::Peer::optional, error);
    REQUIRE(client_port != nullptr);
    const Outcome anonymous = handshake(client_port, certs.anonymous());
    CHECK(anonymous.server_ok);
    CHECK(anonymous.server_saw.kind == tls::Identity::Kind::none);
    const Outcome app = handshake(client_port, certs.client("app"));
    CHECK(app.server_ok);
    CHECK(app.server_saw.name == "app");
    CHECK(app.server_saw.role == tls::Role::readwrite);
    // The client checks the node's certificate names the host it dialled.
    CHECK_FALSE(handshake(client_port, certs.anonymous(), "10.9.9.9").client_ok);
    CHECK(handshake(client_port, certs.anonymous(), "localhost").client_ok);
}

TEST_CASE("tls contexts: missing or mismatched files are errors naming them", "[tls]") {
    Certs certs("files");
    std::string error;
    tls::Files f = certs.node(1);
    f.key = tls::node_key_path(certs.dir.path, 2);
    CHECK(tls::server_context(f, tls::Peer::required, error) == nullptr);
    CHECK(error.find("tls_key " + f.key) == 0);  // OpenSSL's "key values mismatch", or ours
    f = certs.node(1);
    f.ca = certs.dir.path + "/missing.crt";
    CHECK(tls::client_context(f, error) == nullptr);
    CHECK(error.find("missing.crt") != std::string::npos);
    f = certs.node(1);
    f.min_version = "1.1";
    CHECK(tls::client_context(f, error) == nullptr);
    f = certs.node(1);
    f.ciphers = "NO-SUCH-CIPHER";
    CHECK(tls::client_context(f, error) == nullptr);
    CHECK(error.find("tls_ciphers") != std::string::npos);
    tls::NodeContexts contexts;
    CHECK(contexts.load(certs.node(1)) == "");
    CHECK(contexts.peer_server() != nullptr);
    f = certs.node(1);
    f.cert = certs.dir.path + "/nope.crt";
    const auto before = contexts.peer_server();
    CHECK(contexts.load(f) != "");
    CHECK(contexts.peer_server() == before);  // a failed reload keeps what works
}

TEST_CASE("config: beyond loopback needs TLS or insecure = true; TLS files come in threes", "[tls][config]") {
    auto parse = [](std::vector<std::string> args, server::NodeOptions& o) {
        std::vector<char*> argv;
        args.insert(args.begin(), {"--id", "1", "--data-dir", "/tmp/x"});
        for (auto& a : args) argv.push_back(a.data());
        bool help = false;
        return server::parse_options(static_cast<int>(argv.size()), argv.data(), o, help);
    };
    server::NodeOptions o;
    CHECK(parse({}, o) == "");
    server::NodeOptions o2;
    CHECK(parse({"--peer-listen", "10.0.0.5:7101"}, o2).find("peer_listen: 10.0.0.5:7101 is beyond loopback") == 0);
    server::NodeOptions o3;
    CHECK(parse({"--http-listen", "0.0.0.0:7103"}, o3).find("http_listen") == 0);
    server::NodeOptions o4;
    CHECK(parse({"--peer-listen", "10.0.0.5:7101", "--insecure", "true"}, o4) == "");
    CHECK(o4.insecure);
    server::NodeOptions o5;
    CHECK(parse({"--tls-ca", "ca.crt"}, o5).find("together") != std::string::npos);
    server::NodeOptions o6;
    CHECK(parse({"--peer-listen", "10.0.0.5:7101", "--tls-ca", "a", "--tls-cert", "b", "--tls-key", "c"}, o6) == "");
    CHECK(o6.tls.enabled());
    server::NodeOptions o7;
    CHECK(parse({"--tls-min-version", "1.1"}, o7).find("tls_min_version") == 0);
    server::NodeOptions o8;
    CHECK(parse({"--insecure", "yes"}, o8).find("insecure") == 0);
}

TEST_CASE("tls tokens: a file of hashes, a token found by its hash, bad lines named", "[tls]") {
    TempDir dir("tokens");
    std::filesystem::create_directories(dir.path);
    const std::string path = dir.path + "/tokens";
    const std::string a = tls::Tokens::make(), b = tls::Tokens::make();
    CHECK(a.size() == 64);
    CHECK(a != b);
    std::ofstream(path) << "# comment\n\n" << tls::Tokens::line("app", tls::Role::readwrite, a)
                        << tls::Tokens::line("dash", tls::Role::readonly, b);
    tls::Tokens tokens;
    REQUIRE(tokens.load(path) == "");
    CHECK(tokens.size() == 2);
    const auto found = tokens.find(a);
    REQUIRE(found);
    CHECK(found->name == "app");
    CHECK(found->role == tls::Role::readwrite);
    CHECK(tokens.find(b)->role == tls::Role::readonly);
    CHECK_FALSE(tokens.find(a.substr(0, 63)));
    CHECK_FALSE(tokens.find("short"));
    CHECK_FALSE(tokens.find(std::string(200, 'a')));
    // The file holds no usable secret: the token's text is nowhere in it.
    std::ifstream in(path);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    CHECK(text.find(a) == std::string::npos);
    const auto bad = [&](const std::string& line) {
        std::ofstream(path, std::ios::trunc) << line << "\n";
        tls::Tokens t;
        return t.load(path);
    };
    CHECK(bad("app readwrite").find("line 1: expected NAME ROLE SHA256-HEX") != std::string::npos);
    CHECK(bad("app root " + tls::Tokens::hash(a)).find("role") != std::string::npos);
    CHECK(bad("a/b readonly " + tls::Tokens::hash(a)).find("bad name") != std::string::npos);
    CHECK(bad("app readonly XYZ").find("not a hex SHA-256") != std::string::npos);
    CHECK(bad(std::string(300, 'x')).find("longer than") != std::string::npos);
    CHECK(bad("app readonly " + tls::Tokens::hash(a) + "\nb readonly " + tls::Tokens::hash(a)).find("twice") !=
          std::string::npos);
    tls::Tokens none;
    CHECK(none.load(dir.path + "/missing").find("cannot read") != std::string::npos);
    // The bounds, at their edges: k_max_tokens lines load, one more does not; a line of
    // exactly k_max_token_line bytes loads.
    {
        std::ofstream out(path, std::ios::trunc);
        for (std::size_t i = 0; i < tls::k_max_tokens; ++i)
            out << "t" << i << " readonly " << tls::Tokens::hash("token-" + std::to_string(i)) << "\n";
    }
    tls::Tokens full;
    CHECK(full.load(path) == "");
    CHECK(full.size() == tls::k_max_tokens);
    std::ofstream(path, std::ios::app) << "extra readonly " << tls::Tokens::hash("one more") << "\n";
    CHECK(full.load(path).find("more than 10000 tokens") != std::string::npos);
    CHECK(full.size() == tls::k_max_tokens);  // a failed load keeps what it had
    std::string line = "app readonly " + tls::Tokens::hash(a) + " #";
    line += std::string(tls::k_max_token_line - line.size(), 'x');
    REQUIRE(line.size() == tls::k_max_token_line);
    CHECK(bad(line) == "");
    CHECK(bad(line + "x").find("longer than") != std::string::npos);
}

TEST_CASE("tls access: roles held by certificate, token or the anonymous default", "[tls]") {
    tls::Access off;  // TLS off: loopback only, everyone is admin
    CHECK(tls::role_of({}, off) == tls::Role::admin);
    tls::Access on{true, tls::Role::none};
    CHECK(tls::role_of({}, on) == tls::Role::none);
    CHECK(tls::role_of(tls::identity_from_subject("node-2", "shoal-node"), on) == tls::Role::admin);
    CHECK(tls::role_of(tls::identity_from_subject("app", "shoal-client:readonly"), on) == tls::Role::readonly);
    tls::Access open_reads{true, tls::Role::readonly};
    CHECK(tls::role_of({}, open_reads) == tls::Role::readonly);
    CHECK(tls::permits(tls::Role::admin, tls::Role::readwrite));
    CHECK(tls::permits(tls::Role::readwrite, tls::Role::readwrite));
    CHECK_FALSE(tls::permits(tls::Role::readonly, tls::Role::readwrite));
    CHECK_FALSE(tls::permits(tls::Role::none, tls::Role::readonly));
    CHECK(tls::permits(tls::Role::none, tls::Role::none));
    CHECK(tls::refusal({}, tls::Role::none, tls::Role::readonly).rfind("authentication required", 0) == 0);
}
