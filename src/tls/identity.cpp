#include "tls/identity.h"

#include <charconv>

namespace shoal::tls {

std::string_view role_name(Role r) {
    switch (r) {
        case Role::admin: return "admin";
        case Role::readwrite: return "readwrite";
        case Role::readonly: return "readonly";
        case Role::none: break;
    }
    return "none";
}

std::optional<Role> parse_role(std::string_view name) {
    if (name == "admin") return Role::admin;
    if (name == "readwrite") return Role::readwrite;
    if (name == "readonly") return Role::readonly;
    return std::nullopt;
}

bool valid_client_name(std::string_view name) {
    if (name.empty() || name.size() > k_max_client_name) return false;
    for (char c : name) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                        c == '_' || c == '-';
        if (!ok) return false;
    }
    return name != "." && name != "..";
}

std::string node_common_name(std::uint32_t id) {
    return "node-" + std::to_string(id);
}

std::string client_unit(Role role) {
    return std::string(k_client_unit_prefix) + std::string(role_name(role));
}

Identity identity_from_subject(std::string_view common_name, std::string_view unit) {
    Identity id;
    if (unit == k_node_unit) {
        constexpr std::string_view prefix = "node-";
        if (!common_name.starts_with(prefix)) return id;
        const std::string_view digits = common_name.substr(prefix.size());
        std::uint32_t n = 0;
        const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
        // Exactly the digits of a valid id: no sign, no leading zero, nothing after.
        if (ec != std::errc{} || end != digits.data() + digits.size() || n == 0 || digits.front() == '0') return id;
        id.kind = Identity::Kind::node;
        id.node = n;
        return id;
    }
    if (unit.starts_with(k_client_unit_prefix)) {
        const auto role = parse_role(unit.substr(k_client_unit_prefix.size()));
        if (!role || !valid_client_name(common_name)) return id;
        id.kind = Identity::Kind::client;
        id.name = std::string(common_name);
        id.role = *role;
    }
    return id;
}

std::string describe(const Identity& id) {
    switch (id.kind) {
        case Identity::Kind::node: return "node " + std::to_string(id.node);
        case Identity::Kind::client: return "client " + id.name + " (" + std::string(role_name(id.role)) + ")";
        case Identity::Kind::none: break;
    }
    return "no shoal identity";
}

Role role_of(const Identity& caller, const Access& access) {
    if (!access.enforced) return Role::admin;
    if (caller.kind == Identity::Kind::none) return access.anonymous;
    return caller.effective_role();
}

std::string refusal(const Identity& caller, Role held, Role needed) {
    if (caller.kind == Identity::Kind::none && held == Role::none)
        return "authentication required: present a client certificate or a token (this needs the " +
               std::string(role_name(needed)) + " role)";
    return "this needs the " + std::string(role_name(needed)) + " role; " + describe(caller) + " holds " +
           std::string(role_name(held));
}

}  // namespace shoal::tls
