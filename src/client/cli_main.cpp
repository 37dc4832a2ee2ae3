// shoal: the command-line client and admin tool.
#include <unistd.h>

#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <iterator>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "client/client.h"
#include "client/dev_cluster.h"
#include "client/dev_netns.h"
#include "client/dev_tls.h"
#include "tls/context.h"
#include "client/cli.h"
#include "core/build_info.h"
#include "core/limits.h"
#include "replica/namespaces.h"
#include "client/http_get.h"

using namespace shoal;

using namespace shoal::cli;

namespace shoal::cli {

int exit_for(const client::Result& r, const char* what) {
    if (r.code == errc::ok) return k_ok;
    if (r.code == errc::not_found) return k_not_found;
    if (r.code == errc::unavailable && r.required) {
        std::fprintf(stderr, "shoal %s: %s\n", what,
                     replica::unavailable_text(r.replies, r.required, r.primaries, r.primaries_down).c_str());
    } else {
        std::fprintf(stderr, "shoal %s: %s", what, make_error_code(r.code).message().c_str());
        if (r.required && r.code != errc::precondition_failed)
            std::fprintf(stderr, " (%u of %u replicas answered)", r.replies, r.required);
        std::fprintf(stderr, "\n");
    }
    const bool unavailable = r.code == errc::quorum_not_met || r.code == errc::unavailable || r.code == errc::timeout ||
                             r.code == errc::overloaded || r.code == errc::shutting_down;
    if (r.code == errc::precondition_failed) return k_condition_failed;
    return unavailable ? k_unavailable : k_error;
}

}  // namespace shoal::cli

namespace {


const char* k_usage_text =
    "usage: shoal [global options] COMMAND ...\n"
    "\n"
    "Data:\n"
    "  get KEY [--raw | --context-only]    print the value (or every sibling) and its context\n"
    "  put KEY [VALUE] [--context C]       write VALUE (or standard input); prints the context to\n"
    "                                      write with next when the write left one value\n"
    "      [--if-none-match]               only if nothing is stored (exit 6 otherwise)\n"
    "      [--if-match C]                  only if nothing was written since the read that gave C\n"
    "  del KEY [--context C]               delete what C saw; without C, every sibling a read finds\n"
    "      [--if-match C]                  only if nothing was written since the read that gave C\n"
    "    per request: --ns NAME (default: default) --r Q --w Q --pr Q --pw Q --dw Q (Q: a number,\n"
    "                 one, quorum or all) --n N --timeout-ms T --ttl-s S\n"
    "Data types (keys of a namespace made with --datatype set|counter|map; name it with --ns):\n"
    "  set add KEY MEMBER...               add members (exit 0 once W replicas have the add)\n"
    "  set remove KEY MEMBER...            remove what a read finds of them (an add it did not see stays)\n"
    "  set members KEY | set contains KEY MEMBER   list the members; exit 0 if MEMBER is one, 1 if not\n"
    "  counter incr KEY [N] | decr KEY [N] | get KEY\n"
    "  map set KEY FIELD VALUE | incr KEY FIELD [N] | del KEY FIELD... | get KEY [FIELD]\n"
    "Namespaces (their own n, r, w, pr, pw, conflict mode, max siblings and TTL):\n"
    "  ns list | ns show NAME\n"
    "  ns create NAME [PROPS]              e.g. ns create sessions --conflict lww --ttl-s 1800\n"
    "  ns set NAME PROPS                   change the properties given (PROPS: --n --r --w --pr --pw\n"
    "                                      --conflict dvv|lww --max-siblings N --ttl-s S)\n"
    "Cluster:\n"
    "  cluster status                      members, zones, status, who is up, partitions owned,\n"
    "                                      partitions moving and handoff progress\n"
    "  cluster ring                        partition -> owner, next owner (while moving), replicas\n"
    "  cluster join NODE SEED...           NODE (HTTP address or dev id) joins the cluster of SEED\n"
    "                                      (a member's peer address or dev id); NODE must be empty\n"
    "  cluster leave ID                    member ID hands off its partitions, then exits\n"
    "  cluster remove ID [--force]         forget a dead member ID; its partitions are reassigned (one\n"
    "                                      that still looks up only with --force)\n"
    "  cluster wait [--timeout-s S]        until the cluster has settled (default 120 s)\n"
    "Local cluster (under --dir, default ./.shoal-dev or $SHOAL_DEV_DIR):\n"
    "  dev up N [--base-port P]            start N shoald processes (ports P+10i+1..3, default P=7100);\n"
    "                                      node 1 founds the cluster, the others join; waits until settled\n"
    "  dev add [--standalone]              start one more node and wait until it has joined (standalone:\n"
    "                                      a one-node cluster of its own, for `cluster join`)\n"
    "  dev up N --netns                    each node in a network namespace of its own (root); then:\n"
    "  dev partition A / B [--one-way]     cut A,.. off from B,.. (e.g. partition 1 / 2,3)\n"
    "  dev bridge N A,B                    N reaches A and B; A and B do not reach each other\n"
    "  dev netem N delay=20ms jitter=5ms loss=5%   slow or lossy link for node N\n"
    "  dev heal                            undo every partition, bridge and netem\n"
    "  dev exec -- CMD                     run CMD where the nodes are reachable (curl, redis-cli)\n"
    "  dev clock NODE +30s | 0             restart NODE with its wall clock that far off (libfaketime)\n"
    "  dev down | dev status\n"
    "                                      (dev clusters run with TLS: DIR/tls holds their CA, node and\n"
    "                                      admin certificates; dev up N --no-tls: plain TCP)\n"
    "Certificates (--certs DIR, default ./shoal-certs):\n"
    "  cert init                           a cluster CA: ca.crt for everyone, ca.key for you alone\n"
    "  cert node ID [--hosts H,...]        node ID's certificate, valid for 127.0.0.1, localhost and H\n"
    "  cert client NAME --role R           a client's (R: admin, readwrite or readonly)\n"
    "  token NAME --role R --tokens FILE   a bearer token (HTTP Authorization, Redis AUTH): its\n"
    "                                      hash is appended to FILE (a node's tokens_file), it is printed\n"
    "  dev kill NODE | stop NODE | cont NODE | restart NODE     SIGKILL, SIGSTOP, SIGCONT, restart\n"
    "\n"
    "Global options:\n"
    "  --nodes H:P,...    client addresses (default: the dev cluster's, else 127.0.0.1:7102)\n"
    "  --http H:P,...     HTTP addresses for cluster commands (default: the dev cluster's)\n"
    "  --dir DIR          the dev cluster folder\n"
    "  --cacert F         TLS: the cluster CA (default: the dev cluster's, if it has one)\n"
    "  --cert F --key F   TLS: this client's certificate and key (default: the dev cluster's admin)\n"
    "  --token T          TLS: a token from `shoal token` names this client instead (or $SHOAL_TOKEN;\n"
    "                     get, put, del and the data types)\n"
    "  --help, --version  (shoal COMMAND --help: that command, with an example)\n"
    "\n"
    "Options are strict: an unknown one, or a value out of range, is a usage error; `--`\n"
    "ends the options (a key may then start with --).\n"
    "Exit status: 0 ok, 1 not found, 2 usage, 3 siblings (with --raw), 4 quorum not met or\n"
    "unavailable (cluster wait: not settled in time), 5 other errors, 6 a write's condition\n"
    "did not hold.\n";


// Options are strict: an unknown one is a usage error (exit 2) naming it, and `--`
// ends them (what follows is positional, e.g. a key that starts with "--").
bool parse(int argc, char** argv, Args& a) {
    static const char* k_flags[] = {"raw", "context-only", "if-none-match", "help", "force"};
    static const char* k_valued[] = {"nodes", "http",     "dir",        "context", "if-match",     "r",
                                     "w",     "n",        "pr",         "pw",      "dw",           "timeout-ms",
                                     "ttl-s", "timeout-s", "ns",        "conflict", "max-siblings", "datatype",
                                     "cacert", "cert",     "key",       "certs",   "hosts",        "role",
                                     "days",  "tokens", "token"};
    bool options_done = false;
    for (int i = 1; i < argc; ++i) {
        std::string s = argv[i];
        if (!options_done && s == "--") {
            options_done = true;
            continue;
        }
        if (options_done || s.rfind("--", 0) != 0) {
            a.positional.push_back(s);
            continue;
        }
        std::string name = s.substr(2);
        bool is_flag = false;
        for (const char* f : k_flags) is_flag = is_flag || name == f;
        if (is_flag) {
            a.flags[name] = true;
            continue;
        }
        if (a.positional.size() >= 2 && a.positional[0] == "dev") {  // dev options pass through
            a.positional.push_back(s);
            continue;
        }
        bool known = false;
        for (const char* v : k_valued) known = known || name == v;
        if (!known) {
            std::fprintf(stderr, "shoal: unknown option --%s (see shoal --help)\n", name.c_str());
            return false;
        }
        if (i + 1 >= argc) {
            std::fprintf(stderr, "shoal: --%s needs a value\n", name.c_str());
            return false;
        }
        a.opts[name] = argv[++i];
    }
    return true;
}

std::vector<std::string> split(const std::string& s) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start <= s.size()) {
        auto end = s.find(',', start);
        if (end == std::string::npos) end = s.size();
        if (end > start) out.push_back(s.substr(start, end - start));
        start = end + 1;
    }
    return out;
}


// Request options, in the bounds the node accepts (out of range: a usage error).
bool request_options(const Args& a, client::RequestOptions& o) {
    struct Quorum {
        const char* name;
        std::uint32_t* field;
        std::uint32_t least;  // n, r, w: 0 would silently mean the default
    };
    const Quorum quorums[] = {{"n", &o.n, 1},   {"r", &o.r, 1},   {"w", &o.w, 1},
                              {"pr", &o.pr, 0}, {"pw", &o.pw, 0}, {"dw", &o.dw, 0}};
    for (const Quorum& q : quorums) {
        auto it = a.opts.find(q.name);
        if (it == a.opts.end()) continue;
        const std::string& v = it->second;
        if (q.field != &o.n && replica::quorum_by_name(v, *q.field)) continue;
        if (!to_u32(v, *q.field, k_max_replicas) || *q.field < q.least) {
            std::fprintf(stderr, "shoal: --%s must be %u..%u%s\n", q.name, q.least, k_max_replicas,
                         q.field != &o.n ? ", one, quorum or all" : "");
            return false;
        }
    }
    for (const char* ns_only : {"conflict", "max-siblings", "datatype"}) {
        if (a.opts.count(ns_only)) return std::fprintf(stderr, "shoal: --%s applies to `shoal ns`\n", ns_only), false;
    }
    if (auto it = a.opts.find("ns"); it != a.opts.end()) {
        if (!replica::valid_namespace_name(it->second))
            return std::fprintf(stderr, "shoal: --ns takes 1 to %zu of a-z, 0-9, _ and -\n", k_max_namespace_bytes), false;
        o.ns = it->second;
    }
    std::uint32_t v = 0;
    if (auto it = a.opts.find("timeout-ms"); it != a.opts.end()) {
        if (!to_u32(it->second, v, 3600000) || v == 0)
            return std::fprintf(stderr, "shoal: --timeout-ms must be 1..3600000\n"), false;
        o.timeout_ms = v;
    }
    if (auto it = a.opts.find("ttl-s"); it != a.opts.end()) {
        if (!to_u32(it->second, v, static_cast<std::uint32_t>(k_max_ttl_s)))
            return std::fprintf(stderr, "shoal: --ttl-s must be 0..%lld\n", static_cast<long long>(k_max_ttl_s)), false;
        o.ttl_s = v;
    }
    return true;
}

int cmd_get(client::Client& c, const Args& a, const client::RequestOptions& o) {
    if (a.positional.size() != 2) return std::fputs("usage: shoal get KEY\n", stderr), k_usage;
    auto r = c.get(a.positional[1], o);
    if (r.code == errc::not_found) {
        std::fprintf(stderr, "not found\n");
        if (a.flags.count("context-only") && !r.context.empty()) std::printf("%s\n", r.context.c_str());
        return k_not_found;
    }
    if (r.code != errc::ok) return exit_for(r, "get");
    if (a.flags.count("context-only")) {
        std::printf("%s\n", r.context.c_str());
        return k_ok;
    }
    if (a.flags.count("raw")) {
        if (r.values.size() != 1) {
            std::fprintf(stderr, "shoal get: %zu siblings; read without --raw and resolve\n", r.values.size());
            return k_siblings;
        }
        std::fwrite(r.values[0].data(), 1, r.values[0].size(), stdout);
        return k_ok;
    }
    if (r.values.size() == 1) {
        std::printf("value: %s\n", r.values[0].c_str());
    } else {
        std::printf("siblings: %zu (concurrent writes; write with this context to resolve)\n", r.values.size());
        for (std::size_t i = 0; i < r.values.size(); ++i) std::printf("  [%zu] %s\n", i + 1, r.values[i].c_str());
    }
    std::printf("context: %s\n", r.context.c_str());
    return k_ok;
}

// --if-none-match / --if-match C: the write's condition (If-Match's C is its context).
bool conditional(const Args& a, client::RequestOptions& o, std::string& ctx) {
    const bool none = a.flags.count("if-none-match") > 0, match = a.opts.count("if-match") > 0;
    if (none && match) return std::fputs("shoal: --if-none-match and --if-match exclude each other\n", stderr), false;
    if (none) o.condition = replica::WriteCondition::if_none_match;
    if (match) {
        if (!ctx.empty() && ctx != a.opts.at("if-match"))
            return std::fputs("shoal: --if-match and --context name different contexts\n", stderr), false;
        ctx = a.opts.at("if-match");
        o.condition = replica::WriteCondition::if_match;
    }
    return true;
}

int cmd_put(client::Client& c, const Args& a, const client::RequestOptions& o) {
    if (a.positional.size() < 2 || a.positional.size() > 3)
        return std::fputs("usage: shoal put KEY [VALUE]\n", stderr), k_usage;
    std::string value;
    if (a.positional.size() == 3) {
        value = a.positional[2];
    } else {
        value.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    }
    auto ctx = a.opts.count("context") ? a.opts.at("context") : std::string();
    client::RequestOptions po = o;
    if (!conditional(a, po, ctx)) return k_usage;
    auto r = c.put(a.positional[1], value, ctx, po);
    if (r.code != errc::ok) return exit_for(r, "put");
    std::printf("ok (%u of %u required replicas acknowledged)\n", r.replies, r.required);
    if (!r.context.empty()) std::printf("context: %s\n", r.context.c_str());
    return k_ok;
}

int cmd_del(client::Client& c, const Args& a, const client::RequestOptions& o) {
    if (a.positional.size() != 2) return std::fputs("usage: shoal del KEY\n", stderr), k_usage;
    auto ctx = a.opts.count("context") ? a.opts.at("context") : std::string();
    client::RequestOptions dopts = o;
    if (a.flags.count("if-none-match"))
        return std::fputs("shoal del: --if-none-match applies to put\n", stderr), k_usage;
    if (!conditional(a, dopts, ctx)) return k_usage;
    auto r = c.del(a.positional[1], ctx, dopts);
    if (r.code == errc::not_found) {
        std::fprintf(stderr, "not found (nothing live to delete)\n");
        return k_not_found;
    }
    if (r.code != errc::ok) return exit_for(r, "del");
    std::printf("deleted (%u of %u required replicas acknowledged)\n", r.replies, r.required);
    return k_ok;
}

// The commands that speak the native protocol (and so carry a token): one list for
// deciding that and for running them.
using NativeRun = int (*)(client::Client&, const Args&, const client::RequestOptions&);
NativeRun native_command(const std::string& cmd) {
    static const std::pair<const char*, NativeRun> k_native[] = {
        {"get", cmd_get}, {"put", cmd_put}, {"del", cmd_del}, {"set", cmd_datatype}, {"counter", cmd_datatype},
        {"map", cmd_datatype},
    };
    for (const auto& [name, run] : k_native)
        if (cmd == name) return run;
    return nullptr;
}

std::string self_exe(const char* argv0) {
    std::error_code ec;
    auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
    return ec ? std::string(argv0) : p.string();
}

}  // namespace

int main(int argc, char** argv) {
    if (argc == 2 && std::string_view(argv[1]) == "--version") {
        std::puts(shoal::version_line("shoal").c_str());
        return 0;
    }
    Args a;
    if (!parse(argc, argv, a)) return k_usage;
    if (a.flags.count("help") && print_command_help(a.positional)) return k_ok;
    if (a.flags.count("help") || a.positional.empty()) {
        std::fputs(k_usage_text, a.positional.empty() && !a.flags.count("help") ? stderr : stdout);
        return a.flags.count("help") ? k_ok : k_usage;
    }
    std::string dir = a.opts.count("dir")
                          ? a.opts["dir"]
                          : (std::getenv("SHOAL_DEV_DIR") ? std::getenv("SHOAL_DEV_DIR") : ".shoal-dev");
    const std::string& cmd = a.positional[0];
    if (cmd == "cert") return cmd_cert(a);
    if (cmd == "token") return cmd_token(a);
    // TLS to the nodes: the files named, else the dev cluster's (dev_tls.h).
    tls::Files tls_files = client::dev_client_tls(dir);
    if (a.opts.count("cacert")) tls_files = tls::Files{a.opts["cacert"], "", ""};
    if (a.opts.count("cert") != a.opts.count("key")) {
        std::fprintf(stderr, "shoal: --cert and --key go together\n");
        return k_usage;
    }
    if (a.opts.count("cert")) {
        if (!tls_files.enabled()) {
            std::fprintf(stderr, "shoal: --cert needs --cacert (the CA the node's certificate comes from)\n");
            return k_usage;
        }
        tls_files.cert = a.opts["cert"];
        tls_files.key = a.opts["key"];
    }
    const NativeRun run_native = native_command(cmd);
    const bool native = run_native != nullptr;
    const char* env_token = std::getenv("SHOAL_TOKEN");
    std::string token;
    if (native) token = a.opts.count("token") ? a.opts["token"] : env_token != nullptr ? env_token : "";
    tls::Files native_tls = tls_files;
    if (!token.empty()) {
        if (token.size() < k_min_token_bytes || token.size() > k_max_token_bytes) {
            std::fprintf(stderr, "shoal: a token is %zu to %zu bytes (this one is %zu)\n", k_min_token_bytes,
                         k_max_token_bytes, token.size());
            return k_usage;
        }
        if (!tls_files.enabled()) {
            std::fprintf(stderr, "shoal: --token needs TLS (--cacert, or a dev cluster with certificates)\n");
            return k_usage;
        }
        if (!a.opts.count("cert")) native_tls.cert = native_tls.key = "";  // the token names this client
    }
    if (tls_files.enabled()) {
        std::string why;
        if (!tls::client_context(tls_files, why)) {
            std::fprintf(stderr, "shoal: %s\n", why.c_str());
            return k_usage;
        }
    }
    client::set_http_tls(tls_files);
    if (cmd == "dev") {
        return client::dev_command({a.positional.begin() + 1, a.positional.end()}, dir, self_exe(argv[0]),
                                   wait_settled);
    }
    // A netns dev cluster is reached from its client namespace (root only).
    if (auto err = client::netns::enter_client(dir); !err.empty()) {
        std::fprintf(stderr, "shoal: %s\n", err.c_str());
        return k_unavailable;
    }
    const auto dev = client::dev_nodes(dir);
    std::vector<std::string> nodes, http_nodes;
    if (a.opts.count("nodes")) nodes = split(a.opts["nodes"]);
    if (a.opts.count("http")) http_nodes = split(a.opts["http"]);
    for (const auto& n : dev) {
        if (!a.opts.count("nodes")) nodes.push_back(n.client);
        if (!a.opts.count("http")) http_nodes.push_back(n.http);
    }
    if (nodes.empty()) nodes.push_back("127.0.0.1:7102");
    if (http_nodes.empty()) http_nodes.push_back("127.0.0.1:7103");
    if (cmd == "cluster") return cmd_cluster(a, http_nodes, dev);
    if (cmd == "ns") return cmd_ns(a, http_nodes);
    client::RequestOptions ro;
    if (!request_options(a, ro)) return k_usage;
    // Spread CLI calls over the nodes: start from a node chosen by the process id.
    std::rotate(nodes.begin(), nodes.begin() + static_cast<long>(static_cast<std::size_t>(::getpid()) % nodes.size()),
                nodes.end());
    client::Options co;
    co.nodes = nodes;
    co.tls = native_tls;
    co.token = token;
    client::Client c(co);
    if (native) return run_native(c, a, ro);
    std::fprintf(stderr, "shoal: unknown command '%s'\n\n%s", cmd.c_str(), k_usage_text);
    return k_usage;
}
