#include "server/config.h"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <map>
#include <sstream>

#include "gossip/view.h"
#include "net/address.h"
#include "ring/ring.h"

namespace shoal::server {

namespace {

std::string trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
    return std::string(s);
}

template <typename T>
bool to_number(std::string_view s, T& out, T lo, T hi) {
    T v{};
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || p != s.data() + s.size() || v < lo || v > hi) return false;
    out = v;
    return true;
}

std::string parse_seeds(std::string_view text, std::vector<std::string>& out) {
    out.clear();
    std::size_t start = 0;
    while (start <= text.size()) {
        std::size_t end = text.find(',', start);
        if (end == std::string_view::npos) end = text.size();
        std::string item = trim(text.substr(start, end - start));
        start = end + 1;
        if (item.empty()) continue;
        std::string host;
        std::uint16_t port = 0;
        if (!net::parse_host_port(item, host, port) || port == 0) return "seeds: '" + item + "' is not HOST:PORT";
        out.push_back(std::move(item));
        if (out.size() > gossip::k_max_seeds)
            return "seeds: more than " + std::to_string(gossip::k_max_seeds) + " seeds";
    }
    return {};
}

bool valid_listen(const std::string& text) {
    std::string host;
    std::uint16_t port = 0;
    return net::parse_host_port(text, host, port);
}

static_assert(k_max_state_bytes_limit == 67108864 && k_max_replicas == 16, "the messages below name them");

// Applies one key. Returns "" or an error naming the key.
std::string apply(NodeOptions& o, const std::string& key, const std::string& value) {
    auto bad = [&](const char* what) { return key + ": " + what + " (got '" + value + "')"; };
    if (key == "id") return to_number<std::uint32_t>(value, o.id, 1, 0xffffffffu) ? "" : bad("a node id 1..4294967295");
    if (key == "zone") return o.zone = value, value.size() <= 64 ? "" : bad("at most 64 bytes");
    if (key == "peer_listen") return valid_listen(value) ? (o.peer_listen = value, "") : bad("HOST:PORT");
    if (key == "client_listen") return valid_listen(value) ? (o.client_listen = value, "") : bad("HOST:PORT");
    if (key == "http_listen") return valid_listen(value) ? (o.http_listen = value, "") : bad("HOST:PORT");
    if (key == "resp_listen")
        return value == "off" || valid_listen(value) ? (o.resp_listen = value, "") : bad("HOST:PORT or off");
    if (key == "resp_databases") {
        std::vector<std::string> names;
        std::size_t start = 0;
        while (start <= value.size()) {
            const std::size_t comma = std::min(value.find(',', start), value.size());
            names.push_back(value.substr(start, comma - start));
            if (!replica::valid_namespace_name(names.back())) return bad("namespace names (a-z 0-9 _ -), comma-separated");
            if (names.size() > k_max_resp_databases)
                return bad(("at most " + std::to_string(k_max_resp_databases) + " databases").c_str());
            start = comma + 1;
        }
        return o.resp_databases = std::move(names), "";
    }
    if (key == "resp_prefixes") {  // PREFIX=NS,...: keys that start with PREFIX are in NS
        std::vector<std::pair<std::string, std::string>> maps;
        const char* shape = "PREFIX=NAMESPACE pairs, comma-separated";
        std::size_t start = 0;
        while (!value.empty() && start <= value.size()) {
            const std::size_t comma = std::min(value.find(',', start), value.size());
            const std::string item = value.substr(start, comma - start);
            const std::size_t eq = item.find('=');
            if (eq == std::string::npos || eq == 0) return bad(shape);
            std::string prefix = item.substr(0, eq), ns = item.substr(eq + 1);
            if (prefix.size() > k_max_resp_prefix_bytes)
                return bad(("a prefix is at most " + std::to_string(k_max_resp_prefix_bytes) + " bytes").c_str());
            for (char ch : prefix)
                if (ch == ' ' || ch == '\t' || static_cast<unsigned char>(ch) < 0x20) return bad("a prefix holds no spaces or control bytes");
            if (!replica::valid_namespace_name(ns)) return bad("namespace names (a-z 0-9 _ -) after each '='");
            for (const auto& [p, n] : maps)
                if (p == prefix) return bad(("the prefix '" + prefix + "' given twice").c_str());
            maps.emplace_back(std::move(prefix), std::move(ns));
            if (maps.size() > k_max_resp_prefixes)
                return bad(("at most " + std::to_string(k_max_resp_prefixes) + " prefixes").c_str());
            start = comma + 1;
        }
        return o.resp_prefixes = std::move(maps), "";
    }
    if (key == "data_dir") return value.empty() ? bad("a directory") : (o.data_dir = value, "");
    if (key == "tls_ca" || key == "tls_cert" || key == "tls_key") {
        if (value.empty() || value.size() > 4096) return bad("a file path");
        (key == "tls_ca" ? o.tls.ca : key == "tls_cert" ? o.tls.cert : o.tls.key) = value;
        return "";
    }
    if (key == "tls_ciphers") return value.size() > 1024 ? bad("at most 1024 bytes") : (o.tls.ciphers = value, "");
    if (key == "tls_min_version")
        return value == "1.2" || value == "1.3" ? (o.tls.min_version = value, "") : bad("1.2 or 1.3");
    if (key == "anonymous_role") {
        if (value == "none") return o.anonymous_role = tls::Role::none, "";
        const auto role = tls::parse_role(value);
        return role ? (o.anonymous_role = *role, "") : bad("none, readonly, readwrite or admin");
    }
    if (key == "tokens_file") {
        if (value.empty() || value.size() > 4096) return bad("a file path");
        return o.tls.tokens = value, "";
    }
    if (key == "insecure") {
        if (value != "true" && value != "false") return bad("true or false");
        return o.insecure = value == "true", "";
    }
    if (key == "seeds") return parse_seeds(value, o.seeds);
    if (key == "gossip_interval_ms")
        return to_number<std::int64_t>(value, o.gossip_interval_ms, 10, 60000) ? "" : bad("10..60000");
    if (key == "partitions") {
        std::uint32_t q = 0;
        if (!to_number<std::uint32_t>(value, q, 1, ring::k_max_partitions) || !ring::valid_partition_count(q)) {
            return bad("a power of two from 1 to 4096");
        }
        return o.partitions = q, "";
    }
    if (key == "n") return to_number<std::uint32_t>(value, o.n, 1, k_max_replicas) ? "" : bad("1..16");
    if (key == "r") return to_number<std::uint32_t>(value, o.r, 1, k_max_replicas) ? "" : bad("1..16");
    if (key == "w") return to_number<std::uint32_t>(value, o.w, 1, k_max_replicas) ? "" : bad("1..16");
    if (key == "sync") {
        auto m = store::parse_sync_mode(value);
        return m ? (o.sync = *m, "") : bad("none, batch or always");
    }
    if (key == "conflict") {
        if (value == "dvv") return o.conflict = replica::ConflictMode::dvv, "";
        if (value == "lww") return o.conflict = replica::ConflictMode::lww, "";
        return bad("dvv or lww");
    }
    if (key == "max_key_bytes")
        return to_number<std::size_t>(value, o.limits.max_key_bytes, 1, 64 * 1024) ? "" : bad("1..65536");
    if (key == "max_value_bytes") {
        return to_number<std::size_t>(value, o.limits.max_value_bytes, 1, 16 * 1024 * 1024) ? "" : bad("1..16777216");
    }
    if (key == "max_state_bytes") {
        o.state_bytes_set = true;
        return to_number<std::size_t>(value, o.limits.max_state_bytes, 1, k_max_state_bytes_limit)
                   ? ""
                   : bad("1..67108864");
    }
    if (key == "max_siblings")
        return to_number<std::size_t>(value, o.limits.max_siblings, 1, 4096) ? "" : bad("1..4096");
    if (key == "request_timeout_ms")
        return to_number<std::int64_t>(value, o.request_timeout_ms, 1, 60000) ? "" : bad("1..60000");
    if (key == "read_fanout") {
        if (value == "quorum") return o.read_fanout = replica::ReadFanout::quorum, "";
        if (value == "all") return o.read_fanout = replica::ReadFanout::all, "";
        return bad("quorum or all");
    }
    if (key == "read_retry_ms")
        return to_number<std::int64_t>(value, o.read_retry_ms, 1, 60000) ? "" : bad("1..60000");
    if (key == "max_client_connections") {
        return to_number<std::size_t>(value, o.max_client_connections, 1, 100000) ? "" : bad("1..100000");
    }
    if (key == "max_http_connections") {
        return to_number<std::size_t>(value, o.max_http_connections, 1, 100000) ? "" : bad("1..100000");
    }
    if (key == "max_resp_connections") {
        return to_number<std::size_t>(value, o.max_resp_connections, 1, 100000) ? "" : bad("1..100000");
    }
    if (key == "clock_offset_ms")  // ten days either way
        return to_number<std::int64_t>(value, o.clock_offset_ms, -864000000, 864000000) ? "" : bad("-864000000..864000000");
    if (key == "log_level") {
        if (value == "debug" || value == "info" || value == "warn" || value == "error") return o.log_level = value, "";
        return bad("debug, info, warn or error");
    }
    if (key == "hinted_handoff" || key == "anti_entropy" || key == "compression") {
        if (value != "on" && value != "off") return bad("on or off");
        (key == "hinted_handoff" ? o.hinted_handoff : key == "anti_entropy" ? o.anti_entropy : o.compression) =
            value == "on";
        return "";
    }
    if (key == "read_cache_mb")
        return to_number<std::size_t>(value, o.read_cache_mb, 0, 1 << 20) ? "" : bad("0..1048576");
    if (key == "hint_interval_ms")
        return to_number<std::int64_t>(value, o.hint_interval_ms, 10, 600000) ? "" : bad("10..600000");
    if (key == "max_hints") return to_number<std::uint64_t>(value, o.max_hints, 0, 100000000) ? "" : bad("0..100000000");
    if (key == "max_hint_bytes")
        return to_number<std::uint64_t>(value, o.max_hint_bytes, 0, 1ULL << 40) ? "" : bad("0..2^40");
    if (key == "ae_interval_ms")
        return to_number<std::int64_t>(value, o.ae_interval_ms, 10, 3600000) ? "" : bad("10..3600000");
    if (key == "scrub_interval_ms")
        return to_number<std::int64_t>(value, o.scrub_interval_ms, 10, 86400000) ? "" : bad("10..86400000");
    if (key == "tombstone_grace_s")
        return to_number<std::int64_t>(value, o.tombstone_grace_s, 1, 3650LL * 86400) ? "" : bad("1..315360000");
    return "unknown setting '" + key + "'";
}

std::string load_file(const std::string& path, std::map<std::string, std::string>& kv) {
    std::ifstream in(path);
    if (!in) return "config: cannot read '" + path + "'";
    std::string line;
    int lineno = 0;
    std::map<std::string, int> first_line;  // a key given twice is an error naming both lines
    while (std::getline(in, line)) {
        ++lineno;
        if (lineno > 10000) return "config: more than 10000 lines";
        if (auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
        std::string t = trim(line);
        if (t.empty()) continue;
        auto eq = t.find('=');
        if (eq == std::string::npos) return "config: line " + std::to_string(lineno) + ": expected key = value";
        std::string key = trim(std::string_view(t).substr(0, eq));
        if (auto [it, fresh] = first_line.emplace(key, lineno); !fresh)
            return "config: line " + std::to_string(lineno) + ": '" + key + "' is given twice (first on line " +
                   std::to_string(it->second) + ")";
        kv[std::move(key)] = trim(std::string_view(t).substr(eq + 1));
    }
    return {};
}

}  // namespace

std::string tls_problem(const NodeOptions& o) {
    const int given = !o.tls.ca.empty() + !o.tls.cert.empty() + !o.tls.key.empty();
    if (given != 0 && given != 3) return "tls: give tls_ca, tls_cert and tls_key together (shoal cert makes them)";
    if (given == 3 || o.insecure) return {};
    const std::pair<const char*, const std::string*> listeners[] = {{"peer_listen", &o.peer_listen},
                                                                   {"client_listen", &o.client_listen},
                                                                   {"http_listen", &o.http_listen},
                                                                   {"resp_listen", &o.resp_listen}};
    for (const auto& [key, address] : listeners) {
        if (*address == "off") continue;
        std::string host;
        std::uint16_t port = 0;
        if (net::parse_host_port(*address, host, port) && !net::is_loopback_host(host)) {
            return std::string(key) + ": " + *address +
                   " is beyond loopback and TLS is off: give tls_ca, tls_cert and tls_key (see `shoal cert`), "
                   "or insecure = true to serve it in the clear";
        }
    }
    return {};
}

std::string usage() {
    return "usage: shoald --id N --data-dir DIR [--seeds HOST:PORT,...] [options]\n"
           "       shoald --config FILE [options]\n"
           "\n"
           "Runs one Shoal node. Every option is also a config-file key (with '_' for '-').\n"
           "\n"
           "  --config FILE            key = value lines; flags given on the command line win\n"
           "  --id N                   this node's id (1..4294967295), required\n"
           "  --data-dir DIR           where the node keeps its LevelDB store, required\n"
           "  --seeds LIST             peer addresses of members to join through: HOST:PORT,...\n"
           "                           (none: found a new cluster, or wait for `shoal cluster join`)\n"
           "  --zone Z                 this node's zone (default: none)\n"
           "  --peer-listen HOST:PORT    peer protocol      (default 127.0.0.1:7101)\n"
           "  --client-listen HOST:PORT  native clients     (default 127.0.0.1:7102)\n"
           "  --http-listen HOST:PORT    HTTP API           (default 127.0.0.1:7103)\n"
           "  --resp-listen HOST:PORT    Redis protocol     (default 127.0.0.1:7104; off: none)\n"
           "  --resp-databases NS,...    Redis database i serves namespace i (default: default)\n"
           "  --resp-prefixes P=NS,...   Redis keys starting with P are in namespace NS, in any database\n"
           "  --partitions Q           partitions, a power of two, fixed per cluster (default 64)\n"
           "  --gossip-interval-ms T   between gossip rounds and heartbeats (default 1000)\n"
           "  --n N --r R --w W        replication defaults (3, 2, 2)\n"
           "  --sync MODE              none | batch (default) | always\n"
           "  --read-cache-mb M        hot stored values kept in memory before LevelDB (default 32; 0: off)\n"
           "  --conflict MODE          dvv (default: siblings) | lww (last writer wins)\n"
           "  --max-key-bytes B        default 1024\n"
           "  --max-value-bytes B      default 1048576\n"
           "  --max-siblings N         default 64\n"
           "  --max-state-bytes B      a key's whole stored state (default: 2 x max-value-bytes, at least 2 MiB)\n"
           "  --compression on|off     LevelDB's snappy block compression (default off)\n"
           "  --request-timeout-ms T   default 2000\n"
           "  --read-fanout F          quorum (default: a read asks R replicas, more on failure) | all\n"
           "  --read-retry-ms T        a quorum read asks the rest after T ms without R answers (default 20)\n"
           "  --clock-offset-ms MS       chaos tests: this node's wall clock reads MS off (default 0)\n"
           "  --max-client-connections N, --max-http-connections N, --max-resp-connections N\n"
           "                             default 1024 each\n"
           "  --log-level L            debug | info (default) | warn | error\n"
           "tls (every listener; `shoal cert` makes the files):\n"
           "  --tls-ca FILE            the cluster CA's certificate: peers and clients are checked against it\n"
           "  --tls-cert FILE          this node's certificate (from `shoal cert node ID`)\n"
           "  --tls-key FILE           its private key\n"
           "  --tls-ciphers LIST       OpenSSL cipher list (TLS 1.2) or TLS_* suites (1.3); default OpenSSL's\n"
           "  --tls-min-version V      1.3 (default) or 1.2\n"
           "  --insecure true          allow listeners beyond loopback without TLS (warned at every start)\n"
           "  --anonymous-role R       what a client without certificate or token may do under TLS:\n"
           "                           none (default) | readonly | readwrite | admin\n"
           "  --tokens-file FILE       bearer tokens for HTTP (Authorization: Bearer) and Redis (AUTH):\n"
           "                           lines NAME ROLE SHA256-HEX, made by `shoal token`\n"
           "  roles: reads need readonly, writes readwrite, cluster and namespace changes admin;\n"
           "  /health, /metrics and /cluster are open while the HTTP listener is on loopback\n"
           "repair:\n"
           "  --hinted-handoff on|off  deliver hints held for down primaries (default on)\n"
           "  --anti-entropy on|off    Merkle-tree exchanges with the other primaries (default on)\n"
           "  --hint-interval-ms T     between hint delivery rounds (default 200)\n"
           "  --max-hints N            hints held at most; beyond, a fallback refuses (default 100000)\n"
           "  --max-hint-bytes B       bytes of hinted writes held at most (default 268435456)\n"
           "  --ae-interval-ms T       between anti-entropy exchange starts (default 250)\n"
           "  --scrub-interval-ms T    one partition's tree re-read from disk per T (default 10000)\n"
           "  --tombstone-grace-s S    tombstones kept at least this long (default 86400)\n"
           "  --help                   this text\n"
           "  --version                the version and source revision\n"
           "\n"
           "Limits, and what a client gets past them (all derived in src/core/limits.h):\n"
           "  key > max-key-bytes, value > max-value-bytes   413 key/value too large\n"
           "  live siblings >= max-siblings                  409 too many siblings (write with the context)\n"
           "  resulting state > max-state-bytes              413 state too large\n"
           "  merged state > 2 x max-state-bytes             the replica refuses it (shoal_states_refused_total)\n"
           "  frame > 2 x max-state-bytes + 2 x max-key-bytes + 64 KiB   the connection is closed\n"
           "  context > 2048 actors, counter >= 2^62, or one this leader never issued   400 bad context\n"
           "  10,000 requests in flight per node              503 overloaded\n"
           "  128 in flight or one frame of replies unread per native connection   that connection is not read\n"
           "  max-http-connections                           503 too many connections\n"
           "\n"
           "Listeners bind to 127.0.0.1 unless told otherwise. Beyond loopback a node needs TLS\n"
           "(or insecure = true): with it, peers prove their node id with the certificate the\n"
           "cluster CA issued, and clients check the node's. SIGHUP reloads the TLS files.\n";
}

std::string parse_options(int argc, char** argv, NodeOptions& out, bool& help) {
    help = false;
    std::map<std::string, std::string> flags;
    std::string config_path;
    for (int i = 0; i < argc; ++i) {
        std::string arg = argv[i];
        if (arg == "--help" || arg == "-h") {
            help = true;
            return {};
        }
        if (arg.rfind("--", 0) != 0) return "unexpected argument '" + arg + "'";
        std::string key = arg.substr(2), value;
        if (auto eq = key.find('='); eq != std::string::npos) {
            value = key.substr(eq + 1);
            key.resize(eq);
        } else {
            if (i + 1 >= argc) return "--" + key + " needs a value";
            value = argv[++i];
        }
        for (auto& c : key) c = c == '-' ? '_' : c;
        if (key == "config")
            config_path = value;
        else
            flags[key] = value;
    }
    std::map<std::string, std::string> kv;
    if (!config_path.empty()) {
        if (auto err = load_file(config_path, kv); !err.empty()) return err;
    }
    for (auto& [k, v] : flags) kv[k] = v;
    for (const auto& [k, v] : kv) {
        if (auto err = apply(out, k, v); !err.empty()) return err;
    }
    if (out.id == 0) return "id: required";
    if (out.data_dir.empty()) return "data_dir: required";
    if (out.r > out.n || out.w > out.n) return "r and w must not exceed n";
    if (auto problem = tls_problem(out); !problem.empty()) return problem;
    // Unless given, a key's state may hold two of the largest values.
    if (!out.state_bytes_set) out.limits.max_state_bytes = std::max(out.limits.max_state_bytes, 2 * out.limits.max_value_bytes);
    if (auto problem = limits_problem(out.limits); !problem.empty()) return problem;
    return {};
}

}  // namespace shoal::server
