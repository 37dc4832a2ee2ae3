// shoal cluster ...: membership status and commands over the nodes' HTTP API.
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
#include <thread>
#include <vector>

#include "client/client.h"
#include "client/dev_cluster.h"
#include "client/cli.h"
#include "client/http_get.h"

using namespace shoal;

namespace shoal::cli {

namespace {

// --- cluster commands: /cluster JSON, reduced to what they print or wait for --------

namespace json = boost::json;

std::int64_t int_of(const json::object& o, std::string_view key) {
    const json::value* v = o.if_contains(key);
    if (v == nullptr) return 0;
    if (v->is_int64()) return v->as_int64();
    return v->is_uint64() ? static_cast<std::int64_t>(v->as_uint64()) : 0;
}

std::string str_of(const json::object& o, std::string_view key) {
    const json::value* v = o.if_contains(key);
    return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

bool bool_of(const json::object& o, std::string_view key) {
    const json::value* v = o.if_contains(key);
    return v != nullptr && v->is_bool() && v->as_bool();
}

const json::array& array_of(const json::object& o, std::string_view key) {
    static const json::array k_empty;
    const json::value* v = o.if_contains(key);
    return v != nullptr && v->is_array() ? v->as_array() : k_empty;
}

// Objects of an array (anything else in it is skipped).
std::vector<const json::object*> objects_of(const json::object& o, std::string_view key) {
    std::vector<const json::object*> out;
    for (const auto& v : array_of(o, key)) {
        if (v.is_object()) out.push_back(&v.as_object());
    }
    return out;
}

// One node's GET /cluster answer.
struct ClusterView {
    std::string from;  // the HTTP address asked
    json::object doc;
};

// GET /cluster at `http`; false (with `error`) when it does not answer 200 with a JSON object.
bool fetch_view(const std::string& http, ClusterView& out, std::string& error, int timeout_ms = 1500) {
    const auto res = client::http_get(http, "/cluster", timeout_ms);
    if (res.status != 200) {
        error = http + ": " + (res.status == 0 ? res.error : "HTTP " + std::to_string(res.status));
        return false;
    }
    boost::system::error_code ec;
    auto doc = json::parse(res.body, ec);
    if (ec || !doc.is_object()) {
        error = http + ": bad JSON";
        return false;
    }
    out.from = http;
    out.doc = std::move(doc.as_object());
    return true;
}

// Members that left for good (they stay listed in the view).
bool departed(const std::string& status) {
    return status == "exiting" || status == "removed";
}

// Settled as one node sees it: the claim is settled, nothing moves, this node and
// every member that has not departed are valid.
bool view_settled(const json::object& o) {
    if (!bool_of(o, "settled") || !array_of(o, "transfers").empty() || str_of(o, "status") != "valid") return false;
    for (const auto* m : objects_of(o, "members")) {
        const auto status = str_of(*m, "status");
        if (status != "valid" && !departed(status)) return false;
    }
    return true;
}

// "1:valid 2:valid 4:joining": what every node must agree on.
std::string member_summary(const json::object& o) {
    std::string out;
    for (const auto* m : objects_of(o, "members"))
        out += (out.empty() ? "" : " ") + std::to_string(int_of(*m, "id")) + ":" + str_of(*m, "status");
    return out;
}

struct Poll {
    bool settled = false;
    std::size_t asked = 0, answered = 0;
    std::vector<ClusterView> views;
    std::size_t best = 0;  // in views: a valid node's view when there is one
    const json::object* best_doc() const { return views.empty() ? nullptr : &views[best].doc; }
};

// Asks every address in `http`, and every active member's HTTP address the answers
// name (at most 64 in all). Settled: every node that answered (other than departed
// ones) sees a settled cluster, and all of them the same members; with require_all,
// every address in `http` must have answered.
Poll poll_cluster(std::vector<std::string> http, bool require_all) {
    Poll p;
    const std::size_t required = http.size();
    bool all_required_answered = true;
    for (std::size_t i = 0; i < http.size() && i < 64; ++i) {
        ClusterView v;
        std::string error;
        ++p.asked;
        if (!fetch_view(http[i], v, error)) {
            all_required_answered = all_required_answered && i >= required;
            continue;
        }
        ++p.answered;
        for (const auto* m : objects_of(v.doc, "members")) {
            const auto addr = str_of(*m, "http");
            if (!addr.empty() && !departed(str_of(*m, "status")) &&
                std::find(http.begin(), http.end(), addr) == http.end())
                http.push_back(addr);
        }
        p.views.push_back(std::move(v));
    }
    std::string agreed;
    std::size_t counted = 0;
    p.settled = !(require_all && !all_required_answered);
    for (std::size_t i = 0; i < p.views.size(); ++i) {
        const auto& v = p.views[i];
        const auto status = str_of(v.doc, "status");
        if (status == "valid" && str_of(p.views[p.best].doc, "status") != "valid") p.best = i;
        if (departed(status)) continue;
        const auto summary = member_summary(v.doc);
        p.settled = p.settled && view_settled(v.doc) && (counted == 0 || summary == agreed);
        agreed = summary;
        ++counted;
    }
    p.settled = p.settled && counted > 0;
    return p;
}

}  // namespace

bool wait_settled(const std::vector<std::string>& http, bool require_all, int timeout_s) {
    const auto start = std::chrono::steady_clock::now();
    const auto until = start + std::chrono::seconds(timeout_s);
    for (int round = 0;; ++round) {
        const Poll p = poll_cluster(http, require_all);
        const long elapsed_s = static_cast<long>(
            std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - start).count());
        const json::object* best = p.best_doc();
        if (p.settled) {
            std::printf("settled after %ld s: members %s\n", elapsed_s, member_summary(*best).c_str());
            std::fflush(stdout);
            return true;
        }
        if (best == nullptr) {
            std::printf("[%3ld s] no node answered (%zu asked)\n", elapsed_s, p.asked);
        } else {
            std::printf(
                "[%3ld s] %zu partitions moving; members %s (as seen by node %lld; %zu of %zu nodes answered)\n",
                elapsed_s, array_of(*best, "transfers").size(), member_summary(*best).c_str(),
                static_cast<long long>(int_of(*best, "node")), p.answered, p.asked);
        }
        std::fflush(stdout);
        if (std::chrono::steady_clock::now() + std::chrono::seconds(1) > until || round > 100000) return false;
        std::this_thread::sleep_for(std::chrono::seconds(1));
    }
}

namespace {

// A node's address from "HOST:PORT" or a dev node id ("4", "n4"); empty if neither.
std::string address_of(const std::string& name, const std::vector<client::DevNode>& dev, bool peer) {
    if (name.find(':') != std::string::npos) return name;
    const client::DevNode* n = client::find_dev_node(dev, name);
    return n == nullptr ? std::string() : peer ? n->peer : n->http;
}

void print_answer(const std::string& from, const client::HttpResult& res) {
    std::string body = res.body;
    while (!body.empty() && (body.back() == '\n' || body.back() == '\r')) body.pop_back();
    std::printf("%s: %d %s\n", from.c_str(), res.status, body.c_str());
}

// A 421 answer's JSON: where to send the command instead, and why.
std::string ruler_http(const std::string& body) {
    boost::system::error_code ec;
    const auto v = json::parse(body, ec);
    if (ec || !v.is_object()) return {};
    return str_of(v.as_object(), "ruler_http");
}
std::string error_of(const std::string& body) {
    boost::system::error_code ec;
    const auto v = json::parse(body, ec);
    if (ec || !v.is_object()) return body;
    return str_of(v.as_object(), "error");
}

int exit_for_admin(const client::HttpResult& res) {
    return res.status == 202 ? k_ok : res.status == 404 ? k_not_found : k_error;
}

int cmd_join(const Args& a, const std::vector<client::DevNode>& dev) {
    if (a.positional.size() < 4) return std::fputs("usage: shoal cluster join NODE SEED...\n", stderr), k_usage;
    const std::string node = address_of(a.positional[2], dev, false);
    if (node.empty()) {
        std::fprintf(stderr, "shoal cluster join: NODE '%s' is neither HOST:PORT nor a dev node id\n",
                     a.positional[2].c_str());
        return k_usage;
    }
    std::string path = "/cluster/join";
    for (std::size_t i = 3; i < a.positional.size(); ++i) {
        const std::string seed = address_of(a.positional[i], dev, true);
        if (seed.empty()) {
            std::fprintf(stderr, "shoal cluster join: SEED '%s' is neither HOST:PORT nor a dev node id\n",
                         a.positional[i].c_str());
            return k_usage;
        }
        path += (i == 3 ? "?seed=" : "&seed=") + seed;
    }
    const auto res = client::http_request("POST", node, path);
    if (res.status == 0) {
        std::fprintf(stderr, "shoal cluster join: %s did not answer (%s)\n", node.c_str(), res.error.c_str());
        return k_unavailable;
    }
    print_answer(node, res);
    return res.status == 202 ? k_ok : k_error;
}

// leave or remove: the first node of `http_nodes` that answers decides.
int cmd_leave_remove(const Args& a, const std::vector<std::string>& http_nodes) {
    const std::string& op = a.positional[1];
    std::string id = a.positional.size() == 3 ? a.positional[2] : "";
    if (!id.empty() && id[0] == 'n') id = id.substr(1);
    std::uint32_t value = 0;
    if (!to_u32(id, value, 0xffffffffu) || value == 0) {
        std::fprintf(stderr, "usage: shoal cluster %s ID\n", op.c_str());
        return k_usage;
    }
    const bool force = a.flags.count("force") > 0;
    if (force && op != "remove") return std::fputs("shoal cluster leave: --force applies to remove\n", stderr), k_usage;
    const std::string path = "/cluster/" + op + "?node=" + std::to_string(value) + (force ? "&force=true" : "");
    for (const auto& h : http_nodes) {
        auto res = client::http_request("POST", h, path);
        if (res.status == 0) {
            std::fprintf(stderr, "%s: no answer (%s); trying the next node\n", h.c_str(), res.error.c_str());
            continue;
        }
        // 421: another member's status changes through the ruler, whom the answer names.
        std::string at = h;
        for (int hops = 0; res.status == 421 && hops < 2; ++hops) {
            const std::string ruler = ruler_http(res.body);
            if (ruler.empty() || ruler == at) break;
            std::printf("%s: %s; asking %s\n", at.c_str(), error_of(res.body).c_str(), ruler.c_str());
            at = ruler;
            res = client::http_request("POST", at, path);
            if (res.status == 0) {
                std::fprintf(stderr, "%s: no answer (%s)\n", at.c_str(), res.error.c_str());
                return k_unavailable;
            }
        }
        print_answer(at, res);
        return exit_for_admin(res);
    }
    std::fprintf(stderr, "shoal cluster %s: no node answered\n", op.c_str());
    return k_unavailable;
}

int cmd_wait(const Args& a, const std::vector<std::string>& http_nodes) {
    std::uint32_t timeout_s = 120;
    if (auto it = a.opts.find("timeout-s"); it != a.opts.end() && (!to_u32(it->second, timeout_s) || timeout_s == 0))
        return std::fputs("shoal cluster wait: bad --timeout-s\n", stderr), k_usage;
    if (wait_settled(http_nodes, false, static_cast<int>(timeout_s))) return k_ok;
    std::fprintf(stderr, "shoal cluster wait: not settled after %u s\n", timeout_s);
    return k_unavailable;
}

void print_ring(const json::object& o) {
    std::printf("%-10s %-8s %-8s %s\n", "PARTITION", "OWNER", "NEXT", "REPLICAS");
    for (const auto* p : objects_of(o, "partitions")) {
        std::string reps;
        for (const auto& r : array_of(*p, "replicas"))
            reps += (reps.empty() ? "" : ",") + std::to_string(r.is_int64() ? r.as_int64() : 0);
        const std::string next = p->contains("next") ? std::to_string(int_of(*p, "next")) : "-";
        std::printf("%-10lld %-8lld %-8s %s\n", static_cast<long long>(int_of(*p, "id")),
                    static_cast<long long>(int_of(*p, "owner")), next.c_str(), reps.c_str());
    }
}

// Handoff streams of every active member (each reports only its own outgoing ones).
void print_streams(const ClusterView& seen) {
    for (const auto* m : objects_of(seen.doc, "members")) {
        const auto status = str_of(*m, "status");
        const auto http = str_of(*m, "http");
        if (departed(status) || http.empty()) continue;
        ClusterView v;
        std::string error;
        if (http == seen.from) {
            v = seen;
        } else if (!fetch_view(http, v, error)) {
            std::printf("node %lld: streams unknown (%s)\n", static_cast<long long>(int_of(*m, "id")), error.c_str());
            continue;
        }
        for (const auto* st : objects_of(v.doc, "streams")) {
            std::printf(
                "node %lld -> %lld partition %lld: key partitions %lld/%lld, %lld keys, %lld bytes%s\n",
                static_cast<long long>(int_of(v.doc, "node")), static_cast<long long>(int_of(*st, "to")),
                static_cast<long long>(int_of(*st, "partition")),
                static_cast<long long>(int_of(*st, "key_partitions_done")),
                static_cast<long long>(int_of(*st, "key_partitions")), static_cast<long long>(int_of(*st, "keys_sent")),
                static_cast<long long>(int_of(*st, "bytes_sent")), bool_of(*st, "finished") ? " (finished)" : "");
        }
    }
}

// A member's keys and disk bytes, from its own /health ("-" when it does not answer).
std::pair<std::string, std::string> stored_at(const json::object& member) {
    const std::string http = str_of(member, "http");
    if (http.empty() || departed(str_of(member, "status"))) return {"-", "-"};
    const auto res = client::http_get(http, "/health", 800);
    boost::system::error_code ec;
    const auto doc = json::parse(res.body, ec);
    if (res.status == 0 || ec || !doc.is_object()) return {"-", "-"};
    const auto& h = doc.as_object();
    const double kib = static_cast<double>(int_of(h, "disk_bytes")) / 1024.0;
    char disk[32];
    if (kib < 1024) std::snprintf(disk, sizeof disk, "%.0f KiB", kib);
    else std::snprintf(disk, sizeof disk, "%.1f MiB", kib / 1024.0);
    return {std::to_string(int_of(h, "keys")), disk};
}

void print_status(const ClusterView& v) {
    const auto& o = v.doc;
    std::map<std::int64_t, int> owned, held;
    for (const auto* p : objects_of(o, "partitions")) {
        ++owned[int_of(*p, "owner")];
        for (const auto& r : array_of(*p, "replicas"))
            if (r.is_int64()) ++held[r.as_int64()];
    }
    std::printf("as seen by node %lld (%s, %s); n=%lld r=%lld w=%lld sync=%s\n",
                static_cast<long long>(int_of(o, "node")), v.from.c_str(), str_of(o, "status").c_str(),
                static_cast<long long>(int_of(o, "n")), static_cast<long long>(int_of(o, "r")),
                static_cast<long long>(int_of(o, "w")), str_of(o, "sync").c_str());
    // OWNED: partitions it is the first primary of; REPLICAS: partitions it keeps a copy
    // of (any of the n primaries); KEYS and DISK: what its store holds now.
    std::printf("%-6s %-8s %-22s %-8s %-4s %-6s %-9s %-10s %s\n", "NODE", "ZONE", "PEER", "STATUS", "UP", "OWNED",
                "REPLICAS", "KEYS", "DISK");
    int valid = 0;
    for (const auto* m : objects_of(o, "members")) {
        const auto id = int_of(*m, "id");
        valid += str_of(*m, "status") == "valid";
        const auto [keys, disk] = stored_at(*m);
        std::printf("%-6lld %-8s %-22s %-8s %-4s %-6d %-9d %-10s %s\n", static_cast<long long>(id),
                    str_of(*m, "zone").c_str(), str_of(*m, "peer").c_str(), str_of(*m, "status").c_str(),
                    bool_of(*m, "up") ? "yes" : "no", owned[id], held[id], keys.c_str(), disk.c_str());
    }
    if (valid < int_of(o, "n"))
        std::printf("warning: %d valid member%s but n=%lld: every key has only %d cop%s until more nodes join\n", valid,
                    valid == 1 ? "" : "s", static_cast<long long>(int_of(o, "n")), valid, valid == 1 ? "y" : "ies");
    std::printf("settled: %s, claimant %lld\n", view_settled(o) ? "yes" : "no",
                static_cast<long long>(int_of(o, "claimant")));
    const auto transfers = objects_of(o, "transfers");
    if (transfers.empty()) return;
    std::printf("moving partitions: %zu\n", transfers.size());
    for (const auto* t : transfers) {
        std::printf("  partition %lld: %lld -> %lld (%s)\n", static_cast<long long>(int_of(*t, "partition")),
                    static_cast<long long>(int_of(*t, "from")), static_cast<long long>(int_of(*t, "to")),
                    bool_of(*t, "done") ? "done" : "streaming");
    }
    print_streams(v);
}

}  // namespace

int cmd_cluster(const Args& a, const std::vector<std::string>& http_nodes, const std::vector<client::DevNode>& dev) {
    const std::string sub = a.positional.size() >= 2 ? a.positional[1] : "";
    if (sub == "join") return cmd_join(a, dev);
    if (sub == "leave" || sub == "remove") return cmd_leave_remove(a, http_nodes);
    if (sub == "wait" && a.positional.size() == 2) return cmd_wait(a, http_nodes);
    if (a.positional.size() != 2 || (sub != "status" && sub != "ring")) {
        return std::fputs("usage: shoal cluster status|ring|wait|join NODE SEED|leave ID|remove ID\n", stderr), k_usage;
    }
    // Prefer a valid member's view; else the first that answers.
    std::optional<ClusterView> seen;
    std::string error;
    for (const auto& h : http_nodes) {
        ClusterView v;
        if (!fetch_view(h, v, error)) continue;
        const bool valid = str_of(v.doc, "status") == "valid";
        if (!seen || valid) seen = std::move(v);
        if (valid) break;
    }
    if (!seen) {
        std::fprintf(stderr, "shoal cluster: no node answered (%s)\n", error.c_str());
        return k_unavailable;
    }
    if (sub == "ring") {
        print_ring(seen->doc);
    } else {
        print_status(*seen);
    }
    return k_ok;
}

}  // namespace shoal::cli
