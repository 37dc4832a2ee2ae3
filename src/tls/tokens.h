// Bearer tokens: a way for HTTP and Redis clients to authenticate without a client
// certificate. A tokens file holds one line per token, "NAME ROLE SHA256-HEX" ('#'
// comments), so the file itself never holds a usable secret; `shoal token` makes a
// token, appends its line and prints the token once.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/limits.h"
#include "tls/identity.h"

namespace shoal::tls {

class Tokens {
public:
    // "" on success, else what is wrong with the file (naming the line).
    std::string load(const std::string& path);
    // The client a token names (kind client, its name and role), or nothing.
    std::optional<Identity> find(std::string_view token) const;
    std::size_t size() const { return by_hash_.size(); }

    // The hex SHA-256 of a token, as its line holds it.
    static std::string hash(std::string_view token);
    // A fresh token: 32 random bytes, hex.
    static std::string make();
    // The line for `name` holding `token` with `role`.
    static std::string line(const std::string& name, Role role, std::string_view token);

private:
    std::map<std::string, Identity> by_hash_;
};

// At most this many tokens in one file, and this long a line: the file is input too.
inline constexpr std::size_t k_max_tokens = 10000;
inline constexpr std::size_t k_max_token_line = 256;
// A token a client presents: k_min_token_bytes..k_max_token_bytes (core/limits.h).

}  // namespace shoal::tls
