// shoald's configuration: a config file's keys, refused when given twice.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "server/config.h"
#include "server/store_rebuild.h"
#include "store/memory_store.h"

using namespace shoal;

namespace {

std::string parse_file(const std::string& text, server::NodeOptions& o) {
    const std::string path =
        (std::filesystem::temp_directory_path() / ("shoal-config-test-" + std::to_string(::getpid()))).string();
    {
        std::ofstream f(path);
        f << text;
    }
    std::vector<std::string> args{"--config", path};  // what follows the program name
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    bool help = false;
    const std::string err = server::parse_options(static_cast<int>(argv.size()), argv.data(), o, help);
    std::filesystem::remove(path);
    return err;
}

}  // namespace

TEST_CASE("config: a file's keys are read; a key given twice names both lines", "[config]") {
    server::NodeOptions o;
    REQUIRE(parse_file("id = 4\ndata_dir = /tmp/x\n# a comment\nn = 3\n", o) == "");
    CHECK(o.id == 4);
    CHECK(o.data_dir == "/tmp/x");
    server::NodeOptions twice;
    CHECK(parse_file("id = 4\ndata_dir = /tmp/x\n\nid = 5\n", twice) ==
          "config: line 4: 'id' is given twice (first on line 1)");
}

TEST_CASE("data dir: it belongs to the node id it was first started with", "[config][store]") {
    store::MemStore db;
    CHECK(server::claim_node_id(db, 2).empty());  // first start: recorded
    CHECK(server::claim_node_id(db, 2).empty());  // the same node again
    const std::string why = server::claim_node_id(db, 3);
    CHECK(why.find("belongs to node 2, not node 3") != std::string::npos);
}

namespace {
const std::string k_required = "id = 1\ndata_dir = /tmp/x\n";
}  // namespace

TEST_CASE("config: read_fanout and read_retry_ms, at their edges", "[config]") {
    server::NodeOptions o;
    CHECK(o.read_fanout == replica::ReadFanout::quorum);
    REQUIRE(parse_file(k_required + "read_fanout = all\nread_retry_ms = 1\n", o) == "");
    CHECK(o.read_fanout == replica::ReadFanout::all);
    CHECK(o.read_retry_ms == 1);
    server::NodeOptions edge;
    REQUIRE(parse_file(k_required + "read_retry_ms = 60000\n", edge) == "");
    CHECK(edge.read_retry_ms == 60000);
    server::NodeOptions bad;
    CHECK(parse_file(k_required + "read_retry_ms = 0\n", bad).find("1..60000") != std::string::npos);
    CHECK(parse_file(k_required + "read_retry_ms = 60001\n", bad).find("1..60000") != std::string::npos);
    CHECK(parse_file(k_required + "read_fanout = some\n", bad).find("quorum or all") != std::string::npos);
}

TEST_CASE("config: resp_prefixes, at their edges", "[config][resp][limits]") {
    server::NodeOptions o;
    REQUIRE(parse_file(k_required + "resp_prefixes = cart:=carts,s:=sessions\n", o) == "");
    REQUIRE(o.resp_prefixes.size() == 2);
    CHECK(o.resp_prefixes[0] == std::pair<std::string, std::string>{"cart:", "carts"});
    CHECK(o.resp_prefixes[1] == std::pair<std::string, std::string>{"s:", "sessions"});
    // The longest prefix, and the most prefixes, are accepted; one more of either is not.
    server::NodeOptions edge;
    std::string many;
    for (std::size_t i = 0; i < k_max_resp_prefixes; ++i) many += (i ? "," : "") + std::to_string(i) + ":=ns";
    REQUIRE(parse_file(k_required + "resp_prefixes = " + many + "\n", edge) == "");
    CHECK(edge.resp_prefixes.size() == k_max_resp_prefixes);
    server::NodeOptions bad;
    CHECK(parse_file(k_required + "resp_prefixes = " + many + ",x:=ns\n", bad).find("at most 32 prefixes") !=
          std::string::npos);
    server::NodeOptions longest;
    REQUIRE(parse_file(k_required + "resp_prefixes = " + std::string(k_max_resp_prefix_bytes, 'p') + "=ns\n",
                       longest) == "");
    CHECK(parse_file(k_required + "resp_prefixes = " + std::string(k_max_resp_prefix_bytes + 1, 'p') + "=ns\n", bad)
              .find("at most 64 bytes") != std::string::npos);
    CHECK(parse_file(k_required + "resp_prefixes = a:=x,a:=y\n", bad).find("given twice") != std::string::npos);
    CHECK(parse_file(k_required + "resp_prefixes = a:=Bad\n", bad).find("namespace names") != std::string::npos);
    CHECK(parse_file(k_required + "resp_prefixes = =carts\n", bad).find("PREFIX=NAMESPACE") != std::string::npos);
    CHECK(parse_file(k_required + "resp_prefixes = a b=carts\n", bad).find("no spaces") != std::string::npos);
}
