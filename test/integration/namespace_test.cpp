// Namespaces on real processes: an lww namespace and a dvv one in one cluster, made
// with the CLI, written through every node at once over HTTP and the native client.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "check.h"
#include "helpers.h"

using namespace shoal;
using namespace shoal::it;

namespace {

// Until every node knows `ns` (gossip spreads a change in about a second).
bool known_everywhere(const DevCluster& c, const std::string& ns) {
    for (int i = 0; i < 100; ++i) {
        bool all = true;
        for (const auto& n : c.nodes) all = all && client::http_get(n.http, "/ns/" + ns).status == 200;
        if (all) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
}

std::string body_of(const std::string& response) {
    const auto at = response.find("\r\n\r\n");
    return at == std::string::npos ? std::string() : response.substr(at + 4);
}

}  // namespace

TEST_CASE("namespaces: blind writes to an lww namespace never make siblings; a dvv one keeps them") {
    DevCluster c(3, base_port() + 75);
    REQUIRE(c.run("ns create sessions --conflict lww --ttl-s 1800") == 0);
    REQUIRE(c.run("ns create carts") == 0);
    CHECK(c.run("ns create carts") == 6);           // exists
    CHECK(c.run("ns set nowhere --ttl-s 5") == 1);  // no such namespace
    CHECK(c.run("ns create bad --n 9") == 2);       // n above the node's
    CHECK(c.run("ns create bad --r 1 --pr 2") == 2);  // pr above r: no request could pass
    REQUIRE(known_everywhere(c, "sessions"));
    REQUIRE(known_everywhere(c, "carts"));

    // Three writers per namespace, one per node, 40 blind writes each, to one key.
    std::atomic<int> session_ok{0}, cart_ok{0}, cart_409{0};
    {
        std::vector<std::thread> writers;
        for (int w = 0; w < 6; ++w) {
            writers.emplace_back([&, w] {
                const bool lww = w % 2 == 0;
                const std::string& http = c.nodes[static_cast<std::size_t>(w / 2)].http;
                for (int i = 0; i < 40; ++i) {
                    const std::string value = "w" + std::to_string(w) + "-" + std::to_string(i);
                    const std::string target = lww ? "/ns/sessions/kv/s1" : "/ns/carts/kv/c1?w=all";
                    const std::string status = status_of(http_call(http, "PUT", target, value));
                    if (status == "204") ++(lww ? session_ok : cart_ok);
                    if (!lww && status == "409") ++cart_409;  // too many siblings: the dvv namespace's bound
                }
            });
        }
        for (auto& t : writers) t.join();
    }
    CHECK(session_ok == 120);  // lww: never "409 too many siblings", never an error
    CHECK(cart_ok + cart_409 == 120);
    CHECK(cart_ok >= 64);  // dvv: each kept as a sibling until the key holds max_siblings
    // The lww key holds one value on every node; the sessions namespace's ttl applies.
    for (const auto& n : c.nodes) {
        const std::string read = http_call(n.http, "GET", "/ns/sessions/kv/s1?r=all");
        CHECK(status_of(read) == "200");
        const std::string ttl = header_of(read, "X-Shoal-Expires-In-S");
        REQUIRE_FALSE(ttl.empty());
        CHECK(std::stoi(ttl) > 1700);
    }
    // The dvv key kept concurrent writes as siblings.
    const std::string carts = http_call(c.nodes[0].http, "GET", "/ns/carts/kv/c1?r=all");
    CHECK(status_of(carts) == "300");
    // Same client key, other namespaces: separate keys.
    CHECK(status_of(http_call(c.nodes[1].http, "GET", "/kv/s1")) == "404");
    CHECK(status_of(http_call(c.nodes[1].http, "GET", "/ns/carts/kv/s1")) == "404");
    CHECK(status_of(http_call(c.nodes[1].http, "GET", "/ns/nowhere/kv/s1")) == "404");

    // The native client names the namespace too.
    client::Client cl(c.options());
    client::RequestOptions o;
    o.ns = "carts";
    REQUIRE(cl.put("c2", "apple", "", o).code == errc::ok);
    auto got = cl.get("c2", o);
    REQUIRE(got.code == errc::ok);
    CHECK(got.values == std::vector<std::string>{"apple"});
    CHECK(cl.get("c2").code == errc::not_found);
    o.ns = "nowhere";
    CHECK(cl.get("c2", o).code == errc::no_namespace);

    // Identical values are one sibling: five blind PUTs of the same bytes.
    for (int i = 0; i < 5; ++i)
        REQUIRE(status_of(http_call(c.nodes[0].http, "PUT", "/ns/carts/kv/same", "x")) == "204");
    const std::string same = http_call(c.nodes[0].http, "GET", "/ns/carts/kv/same?r=all");
    CHECK(status_of(same) == "200");
    CHECK(body_of(same) == "x");

    // Changed on one node, seen on every node; a restart keeps it.
    REQUIRE(c.run("ns set sessions --ttl-s 60") == 0);
    for (int i = 0; i < 100; ++i) {
        if (body_of(http_call(c.nodes[2].http, "GET", "/ns/sessions")).find("\"ttl_s\":60") != std::string::npos) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    CHECK(body_of(http_call(c.nodes[2].http, "GET", "/ns/sessions")).find("\"ttl_s\":60") != std::string::npos);
    REQUIRE(c.run("dev restart 3") == 0);
    CHECK(body_of(http_call(c.nodes[2].http, "GET", "/ns/sessions")).find("\"ttl_s\":60") != std::string::npos);
    CHECK(body_of(http_call(c.nodes[2].http, "GET", "/ns")).find("\"name\":\"carts\"") != std::string::npos);
}

TEST_CASE("cluster status shows keys, disk and replicas per node, and warns when members are fewer than n") {
    DevCluster c(3, base_port() + 75);
    client::Client cl(c.options());
    for (int i = 0; i < 60; ++i) REQUIRE(cl.put("k" + std::to_string(i), "v").code == errc::ok);
    // n=3 on 3 nodes: every node keeps a copy of every key and of all 64 partitions.
    std::string status;
    for (int i = 0; i < 50; ++i) {  // the last replica's copy may land a moment after the ack
        status = c.output("cluster status");
        if (status.find(" 60 ") != std::string::npos && status.find(" 59 ") == std::string::npos) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    INFO(status);
    CHECK(status.find("REPLICAS  KEYS") != std::string::npos);
    for (int id = 1; id <= 3; ++id) {
        const auto row = status.find("\n" + std::to_string(id) + " ");
        REQUIRE(row != std::string::npos);
        const std::string line = status.substr(row + 1, status.find('\n', row + 1) - row - 1);
        CHECK(line.find(" 64 ") != std::string::npos);  // replicas held: every partition
        CHECK(line.find(" 60 ") != std::string::npos);  // keys
        CHECK((line.find("KiB") != std::string::npos || line.find("MiB") != std::string::npos));  // disk
    }
    CHECK(status.find("warning") == std::string::npos);
    // The metrics name what a load test wants: siblings per read, errors by code, HTTP
    // responses by status, connections open.
    REQUIRE(cl.get("k1").code == errc::ok);
    const auto metrics = client::http_get(c.nodes[0].http, "/metrics");
    for (const char* family : {"shoal_read_siblings_bucket", "shoal_request_errors_total{code=\"quorum_not_met\"}",
                               "shoal_http_responses_total{status=\"200\"}", "shoal_connections_open{kind=\"peer\"}",
                               "shoal_keys_stored", "shoal_store_disk_bytes"})
        CHECK(metrics.body.find(family) != std::string::npos);
    // log_level = debug shows where requests went, naming keys by hash only.
    {
        std::ofstream conf(c.dir + "/n1.conf", std::ios::app);
        conf << "log_level = debug\n";
    }
    REQUIRE(c.run("dev restart 1") == 0);
    client::Client via1(c.options({c.nodes[0].client}));
    // (Five: lines of one kind come in bursts of 20, then one a second.)
    for (int i = 0; i < 5; ++i) REQUIRE(via1.put("secret-key-" + std::to_string(i), "v").code == errc::ok);
    REQUIRE(via1.get("secret-key-1").code == errc::ok);
    std::ifstream log(c.dir + "/n1.log");
    const std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
    CHECK(text.find("level=debug msg=\"request routed\" op=put ns=default key_hash=") != std::string::npos);
    CHECK(text.find("level=debug msg=\"request routed\" op=get") != std::string::npos);
    CHECK(text.find(" leader=") != std::string::npos);
    CHECK(text.find("secret-key-") == std::string::npos);
    // One member gone for good: two valid members, n=3.
    REQUIRE(c.run("dev kill 3") == 0);
    REQUIRE(c.run("cluster remove 3 --force") == 0);  // at once, before the detector has noticed
    status = c.output("cluster status");
    CHECK(status.find("warning: 2 valid members but n=3") != std::string::npos);
}

TEST_CASE("shoal-bench --check: every acknowledged cart add is read back, and a missing one is reported") {
    DevCluster c(3, base_port() + 75);
    const std::string bench = (std::filesystem::path(g_shoal).parent_path() / "shoal-bench").string();
    const std::string cmd = bench + " --dev " + c.dir + " --preset cart --keys 500 --duration 3s --warmup 200ms" +
                            " --quiet --check --fault 'at=1s kill n3; at=2s restart n3' >" + c.dir + "/bench.log 2>&1";
    const int status = std::system(cmd.c_str());
    std::ifstream log(c.dir + "/bench.log");
    const std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
    INFO(text);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    CHECK(text.find("check: passed") != std::string::npos);
    CHECK(text.find("; lost 0\n") != std::string::npos);
    // The teeth: an add recorded as acknowledged that no node has is reported lost.
    bench::CartCheck check;
    check.acked(1, "cart/1", "never-written");
    const bench::CheckReport r = check.verify(c.clients(), 5);
    CHECK(r.lost_adds == 1);
    CHECK_FALSE(r.passed());
}

TEST_CASE("shoal dev clock: a node whose wall clock is set off stamps its writes that far ahead; 0 sets it right") {
    DevCluster c(3, base_port() + 75);
    REQUIRE(c.run("dev clock 2 +30s") == 0);
    const auto stamp_of = [&](const std::string& key) {
        const std::string got = http_call(c.nodes[0].http, "GET", "/kv/" + key + "?r=all");
        const std::string ms = header_of(got, "X-Shoal-Last-Modified-Ms");
        return ms.empty() ? std::int64_t{0} : std::stoll(ms);
    };
    const auto now_ms = [] {
        return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    };
    REQUIRE(status_of(http_call(c.nodes[1].http, "PUT", "/kv/skewed", "v")) == "204");
    const std::int64_t ahead = stamp_of("skewed") - now_ms();
    CHECK(ahead > 25'000);
    CHECK(ahead < 35'000);
    // The cluster keeps serving through the skewed node and the others.
    client::Client cl(c.options());
    for (int i = 0; i < 20; ++i) CHECK(cl.put("k" + std::to_string(i), "v").code == errc::ok);
    REQUIRE(c.run("dev clock 2 0") == 0);
    REQUIRE(status_of(http_call(c.nodes[1].http, "PUT", "/kv/right", "v")) == "204");
    CHECK(std::llabs(stamp_of("right") - now_ms()) < 5'000);
    CHECK(c.run("dev clock 2 soon") == 2);
}
