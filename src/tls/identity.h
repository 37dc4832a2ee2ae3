// Who a certificate names, and the roles a client may hold. Pure: no OpenSSL here.
//
// Shoal's certificates say what they are in their subject:
//   a node:   CN = "node-<id>",  OU = "shoal-node"
//   a client: CN = "<name>",     OU = "shoal-client:<role>"
// and every one is signed by the cluster's CA (`shoal cert init`), which is what makes
// it a member of this cluster and of no other. A peer link trusts the node id in the
// certificate, never the one a hello claims.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace shoal::tls {

// What a client may do. Ordered: each role may do everything the ones below it may.
enum class Role : std::uint8_t { none = 0, readonly = 1, readwrite = 2, admin = 3 };

std::string_view role_name(Role r);
std::optional<Role> parse_role(std::string_view name);  // "admin" | "readwrite" | "readonly"

struct Identity {
    enum class Kind : std::uint8_t { none, node, client };
    Kind kind = Kind::none;
    std::uint32_t node = 0;  // kind node: its id (1..2^32-1)
    std::string name;        // kind client: its name
    Role role = Role::none;  // kind client: its role; a node acts as admin
    bool is_node() const { return kind == Kind::node; }
    // The role a request from this identity carries: nodes are admins of their cluster.
    Role effective_role() const { return kind == Kind::node ? Role::admin : role; }
};

inline constexpr std::string_view k_node_unit = "shoal-node";
inline constexpr std::string_view k_client_unit_prefix = "shoal-client:";
// A client name: 1-64 of [A-Za-z0-9._-], so it reads plainly in logs and file names.
inline constexpr std::size_t k_max_client_name = 64;
bool valid_client_name(std::string_view name);

// The subject fields of each kind of certificate.
std::string node_common_name(std::uint32_t id);
std::string client_unit(Role role);

// Reads an identity back from a verified certificate's CN and OU; kind none when they
// do not name one (a certificate from the right CA that Shoal did not issue this way).
Identity identity_from_subject(std::string_view common_name, std::string_view unit);

// For logs: "node 3", "client alice (readwrite)", "no certificate".
std::string describe(const Identity& id);

// Who may do what on a node's client-facing listeners (native, HTTP, Redis).
struct Access {
    // On with TLS, where callers can prove who they are. Off (TLS off: every listener
    // is on loopback) every caller acts as admin.
    bool enforced = false;
    Role anonymous = Role::none;  // a caller with neither a certificate nor a token
};
// The role a caller holds: from its certificate or token when it has one.
Role role_of(const Identity& caller, const Access& access);
inline bool permits(Role held, Role needed) {
    return static_cast<int>(held) >= static_cast<int>(needed);
}
// What a refusal says: "this needs the readwrite role; client app holds readonly".
std::string refusal(const Identity& caller, Role held, Role needed);

}  // namespace shoal::tls
