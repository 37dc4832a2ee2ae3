// Pieces the `shoal` CLI's files share: parsed arguments, exit codes, and the
// cluster commands (cli_cluster.cpp).
#pragma once

#include <charconv>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "client/client.h"
#include "client/dev_cluster.h"

namespace shoal::cli {

// Exit codes.
inline constexpr int k_ok = 0, k_not_found = 1, k_usage = 2, k_siblings = 3, k_unavailable = 4, k_error = 5,
                     k_condition_failed = 6;

struct Args {
    std::vector<std::string> positional;
    std::map<std::string, std::string> opts;  // --name value
    std::map<std::string, bool> flags;        // --raw, --context-only
};

// A decimal number in [0, max], nothing else. False otherwise.
inline bool to_u32(const std::string& s, std::uint32_t& out, std::uint32_t max = 1000000) {
    std::uint32_t v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc{} || end != s.data() + s.size() || v > max) return false;
    out = v;
    return true;
}

// `shoal cluster status|ring|wait|join|leave|remove`.
int cmd_cluster(const Args& a, const std::vector<std::string>& http_nodes, const std::vector<client::DevNode>& dev);

// `shoal COMMAND --help` (cli_help.cpp): prints the command's help; false for an unknown one.
bool print_command_help(const std::vector<std::string>& positional);

// `shoal cert init|node|client` (cli_cert.cpp).
int cmd_cert(const Args& a);
// `shoal token NAME --role R --tokens FILE` (cli_cert.cpp).
int cmd_token(const Args& a);

// Prints why a request failed (stderr) and returns its exit code; k_ok for ok.
int exit_for(const client::Result& r, const char* what);

// `shoal set|counter|map ...` (cli_datatypes.cpp): a.positional[0] names the type.
int cmd_datatype(client::Client& c, const Args& a, const client::RequestOptions& o);

// `shoal ns list|show|create|set` (cli_ns.cpp).
int cmd_ns(const Args& a, const std::vector<std::string>& http_nodes);

// Polls the nodes' /cluster until they report the same settled view (every node must
// answer when `require_all`). False on timeout.
bool wait_settled(const std::vector<std::string>& http, bool require_all, int timeout_s);

}  // namespace shoal::cli
