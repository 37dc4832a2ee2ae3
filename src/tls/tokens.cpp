#include "tls/tokens.h"

#include <fstream>
#include <sstream>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

namespace shoal::tls {

namespace {

std::string hex(const unsigned char* p, std::size_t n) {
    static const char* digits = "0123456789abcdef";
    std::string out;
    out.reserve(2 * n);
    for (std::size_t i = 0; i < n; ++i) {
        out += digits[p[i] >> 4];
        out += digits[p[i] & 15];
    }
    return out;
}

bool is_hex64(const std::string& s) {
    return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

}  // namespace

std::string Tokens::hash(std::string_view token) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_Digest(token.data(), token.size(), md, &n, EVP_sha256(), nullptr);
    return hex(md, n);
}

std::string Tokens::make() {
    unsigned char bytes[32];
    if (RAND_bytes(bytes, sizeof bytes) != 1) return {};
    return hex(bytes, sizeof bytes);
}

std::string Tokens::line(const std::string& name, Role role, std::string_view token) {
    return name + " " + std::string(role_name(role)) + " " + hash(token) + "\n";
}

std::string Tokens::load(const std::string& path) {
    std::ifstream in(path);
    if (!in) return "tokens_file " + path + ": cannot read";
    std::map<std::string, Identity> next;
    std::string text;
    int lineno = 0;
    while (std::getline(in, text)) {
        ++lineno;
        const std::string where = "tokens_file " + path + ": line " + std::to_string(lineno) + ": ";
        if (text.size() > k_max_token_line) return where + "longer than " + std::to_string(k_max_token_line) + " bytes";
        if (const auto hash_at = text.find('#'); hash_at != std::string::npos) text.resize(hash_at);
        std::istringstream fields(text);
        std::string name, role, digest, extra;
        if (!(fields >> name)) continue;  // blank or a comment
        if (!(fields >> role >> digest) || (fields >> extra)) return where + "expected NAME ROLE SHA256-HEX";
        const auto r = parse_role(role);
        if (!valid_client_name(name)) return where + "bad name '" + name + "'";
        if (!r) return where + "role must be admin, readwrite or readonly";
        if (!is_hex64(digest)) return where + "not a hex SHA-256 (64 of 0-9a-f)";
        if (next.size() >= k_max_tokens) return where + "more than " + std::to_string(k_max_tokens) + " tokens";
        Identity id;
        id.kind = Identity::Kind::client;
        id.name = name;
        id.role = *r;
        if (!next.emplace(digest, id).second) return where + "the same token twice";
    }
    by_hash_ = std::move(next);
    return {};
}

std::optional<Identity> Tokens::find(std::string_view token) const {
    if (token.size() < k_min_token_bytes || token.size() > k_max_token_bytes) return std::nullopt;
    // Looked up by hash: the time taken says nothing about how much of a token matched.
    const auto it = by_hash_.find(hash(token));
    if (it == by_hash_.end()) return std::nullopt;
    return it->second;
}

}  // namespace shoal::tls
