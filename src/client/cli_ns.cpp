// `shoal ns list|show|create|set`: the cluster's namespaces, over a node's HTTP API
// (GET /ns, GET /ns/NAME, POST and PUT /ns/NAME with the properties as parameters).
#include <boost/json.hpp>

#include <cstdio>
#include <string>

#include "client/cli.h"
#include "client/http_get.h"

namespace shoal::cli {

namespace {

// CLI option -> HTTP property; the node validates the values and names what is wrong.
constexpr const char* k_props[][2] = {{"n", "n"},
                                      {"r", "r"},
                                      {"w", "w"},
                                      {"pr", "pr"},
                                      {"pw", "pw"},
                                      {"conflict", "conflict"},
                                      {"max-siblings", "max_siblings"},
                                      {"ttl-s", "ttl_s"},
                                      {"datatype", "datatype"}};

std::string text_of(const boost::json::value& v) {
    if (v.is_string()) return std::string(v.as_string());
    if (v.is_null()) return "-";
    return boost::json::serialize(v);
}

// "0" for a request default reads as "node default".
std::string prop_text(const boost::json::object& o, const char* name) {
    const auto* v = o.if_contains(name);
    if (v == nullptr) return "?";
    if (v->is_int64() && v->as_int64() == 0) return "-";
    return text_of(*v);
}

void print_row(const boost::json::object& o) {
    std::printf("%-16s %-3s %-6s %-6s %-6s %-6s %-8s %-12s %-8s %s\n", prop_text(o, "name").c_str(),
                prop_text(o, "n").c_str(), prop_text(o, "r").c_str(), prop_text(o, "w").c_str(),
                prop_text(o, "pr").c_str(), prop_text(o, "pw").c_str(), prop_text(o, "conflict").c_str(),
                prop_text(o, "max_siblings").c_str(), prop_text(o, "ttl_s").c_str(), prop_text(o, "datatype").c_str());
}

void print_header() {
    std::printf("%-16s %-3s %-6s %-6s %-6s %-6s %-8s %-12s %-8s %s\n", "NAMESPACE", "N", "R", "W", "PR", "PW",
                "CONFLICT", "MAX_SIBLINGS", "TTL_S", "DATATYPE");
}

// Prints a JSON answer as the table; false when it is not what a node sends.
bool print_answer(const std::string& body, bool list) {
    boost::system::error_code ec;
    const boost::json::value doc = boost::json::parse(body, ec);
    if (ec || !doc.is_object()) return false;
    print_header();
    if (!list) {
        print_row(doc.as_object());
        return true;
    }
    const auto* all = doc.as_object().if_contains("namespaces");
    if (all == nullptr || !all->is_array()) return false;
    for (const auto& ns : all->as_array())
        if (ns.is_object()) print_row(ns.as_object());
    return true;
}

}  // namespace

int cmd_ns(const Args& a, const std::vector<std::string>& http_nodes) {
    const std::string sub = a.positional.size() >= 2 ? a.positional[1] : "";
    const bool list = sub == "list" && a.positional.size() == 2;
    const bool named = (sub == "show" || sub == "create" || sub == "set") && a.positional.size() == 3;
    if (!list && !named) {
        std::fputs(
            "usage: shoal ns list | show NAME | create NAME [PROPS] | set NAME PROPS\n"
            "  PROPS: --n N --r Q --w Q --pr Q --pw Q (Q: a number, one, quorum or all)\n"
            "         --conflict dvv|lww --max-siblings N --ttl-s S\n"
            "  example: shoal ns create sessions --conflict lww --ttl-s 1800\n",
            stderr);
        return k_usage;
    }
    std::string path = list ? "/ns" : "/ns/" + a.positional[2];
    std::string query;
    for (const auto& [option, prop] : k_props) {
        auto it = a.opts.find(option);
        if (it == a.opts.end()) continue;
        if (sub == "show" || list)
            return std::fprintf(stderr, "shoal ns %s takes no --%s\n", sub.c_str(), option), k_usage;
        // Values are plain words and numbers; anything else the node refuses by name.
        for (char c : it->second) {
            const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
            if (!ok) return std::fprintf(stderr, "shoal ns: bad value for --%s\n", option), k_usage;
        }
        query += (query.empty() ? "?" : "&") + std::string(prop) + "=" + it->second;
    }
    if (sub == "set" && query.empty())
        return std::fputs("shoal ns set: give the properties to change\n", stderr), k_usage;
    const std::string method = sub == "create" ? "POST" : sub == "set" ? "PUT" : "GET";
    std::string error;
    for (const auto& node : http_nodes) {
        const client::HttpResult res = client::http_request(method, node, path + query);
        if (res.status == 0) {
            error = res.error;
            continue;  // next node
        }
        if (res.status >= 400) {
            std::fprintf(stderr, "shoal ns %s: %s", sub.c_str(), res.body.c_str());
            return res.status == 404   ? k_not_found
                   : res.status == 409 ? k_condition_failed
                   : res.status == 400 ? k_usage
                                       : k_error;
        }
        if (!print_answer(res.body, list)) {
            std::fprintf(stderr, "shoal ns: unexpected answer from %s\n", node.c_str());
            return k_error;
        }
        if (sub == "create" || sub == "set")
            std::printf("(every node has it once gossip spreads the view: about a second)\n");
        return k_ok;
    }
    std::fprintf(stderr, "shoal ns: no node answered (%s)\n", error.c_str());
    return k_unavailable;
}

}  // namespace shoal::cli
