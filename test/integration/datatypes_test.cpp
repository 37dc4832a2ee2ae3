// Data types on real processes through the native client library: a set and a counter
// updated concurrently through every node, with one node SIGKILLed and restarted in the
// middle; every acknowledged add and increment is there afterwards, read through each
// node, and a remove takes exactly what its read saw.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "helpers.h"

using namespace shoal;
using namespace shoal::it;
namespace dt = shoal::replica::dt;

TEST_CASE("data types: sets and counters through every node, a node killed in the middle") {
    DevCluster c(3, base_port() + 90);
    REQUIRE(c.run("ns create carts --datatype set") == 0);
    REQUIRE(c.run("ns create hits --datatype counter") == 0);
    CHECK(c.run("ns set carts --datatype counter") != 0);  // a namespace keeps its type
    for (const char* ns : {"carts", "hits"}) {
        for (int i = 0; i < 100; ++i) {
            bool all = true;
            for (const auto& n : c.nodes) all = all && client::http_get(n.http, std::string("/ns/") + ns).status == 200;
            if (all) break;
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
    }
    client::RequestOptions carts, hits;
    carts.ns = "carts";
    hits.ns = "hits";

    std::mutex mu;
    std::set<std::string> acked;
    std::atomic<std::uint64_t> increments{0};
    // Bounded by count and by time: 400 rounds each, none started after 20 s.
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    std::vector<std::thread> writers;
    for (int w = 0; w < 3; ++w) {
        writers.emplace_back([&, w] {
            // Each writer prefers its own node and fails over to the others.
            auto nodes = c.clients();
            std::rotate(nodes.begin(), nodes.begin() + w, nodes.end());
            client::Client cl(c.options(nodes));
            for (int i = 0; i < 400 && std::chrono::steady_clock::now() < until; ++i) {
                const std::string item = "w" + std::to_string(w) + "-" + std::to_string(i);
                if (cl.update("alice", dt::SetUpdate{{item}, {}, {}}, carts).ok()) {
                    std::lock_guard lock(mu);
                    acked.insert(item);
                }
                if (cl.update("page", dt::CounterUpdate{1}, hits).ok()) ++increments;
            }
        });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(800));
    REQUIRE(c.run("dev kill 2") == 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    REQUIRE(c.run("dev restart 2") == 0);
    for (auto& t : writers) t.join();
    REQUIRE(acked.size() > 100);

    // Read through each node with r=all once the restarted node has caught up.
    for (const auto& n : c.nodes) {
        client::Client cl(c.options({n.client}));
        client::RequestOptions all = carts;
        all.r = replica::k_quorum_all;
        std::set<std::string> got;
        for (int i = 0; i < 50; ++i) {
            const auto read = cl.read_datatype("alice", dt::Type::set, all);
            if (read.result.ok()) {
                const auto m = dt::members(std::get<dt::Set>(read.state));
                got = std::set<std::string>(m.begin(), m.end());
                if (std::includes(got.begin(), got.end(), acked.begin(), acked.end())) break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(200));
        }
        INFO("node " << n.id);
        CHECK(std::includes(got.begin(), got.end(), acked.begin(), acked.end()));
        client::RequestOptions all_hits = hits;
        all_hits.r = replica::k_quorum_all;
        const auto count = cl.read_datatype("page", dt::Type::counter, all_hits);
        REQUIRE(count.result.ok());
        // At least every acknowledged increment (a retried one may count twice).
        CHECK(dt::value(std::get<dt::Counter>(count.state)) >= static_cast<std::int64_t>(increments.load()));
    }

    // A remove takes what its read saw; an add made after that read stays.
    client::Client cl(c.options());
    const auto seen = cl.read_datatype("alice", dt::Type::set, carts);
    REQUIRE(seen.result.ok());
    REQUIRE(cl.update("alice", dt::SetUpdate{{"w0-0"}, {}, {}}, carts).ok());  // again, after the read
    REQUIRE(cl.update("alice", dt::SetUpdate{{}, {"w0-0", "w1-0"}, seen.context}, carts).ok());
    const auto after = cl.read_datatype("alice", dt::Type::set, carts);
    REQUIRE(after.result.ok());
    CHECK(dt::contains(std::get<dt::Set>(after.state), "w0-0"));
    CHECK_FALSE(dt::contains(std::get<dt::Set>(after.state), "w1-0"));
    // A remove without a context, and a plain value, are refused.
    CHECK(cl.update("alice", dt::SetUpdate{{}, {"w2-0"}, {}}, carts).code == errc::precondition_failed);
    CHECK(cl.put("alice", "plain", "", carts).code == errc::wrong_type);
}

TEST_CASE("data types: the CLI's set, counter and map commands, with their exit codes") {
    DevCluster c(3, base_port() + 90);
    REQUIRE(c.run("ns create carts --datatype set") == 0);
    REQUIRE(c.run("ns create hits --datatype counter") == 0);
    REQUIRE(c.run("ns create profiles --datatype map") == 0);
    // The namespaces reach every node through gossip; a CLI call may land on any.
    for (int i = 0; i < 100 && c.run("set members none --ns carts --r all") != 1; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    for (int i = 0; i < 100 && c.run("map get none --ns profiles --r all") != 1; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }

    CHECK(c.run("set add alice apple pear fig --ns carts") == 0);
    CHECK(c.output("set members alice --ns carts") == "apple\nfig\npear\n");
    CHECK(c.run("set contains alice pear --ns carts") == 0);
    CHECK(c.run("set contains alice kiwi --ns carts") == 1);
    CHECK(c.output("set remove alice pear kiwi --ns carts").find("removed 1 of 2 named") != std::string::npos);
    CHECK(c.output("set members alice --ns carts") == "apple\nfig\n");
    CHECK(c.run("set remove alice kiwi --ns carts") == 1);  // nothing named is there
    CHECK(c.run("set members nobody --ns carts") == 1);

    CHECK(c.run("counter incr home --ns hits") == 0);
    CHECK(c.run("counter incr home 41 --ns hits") == 0);
    CHECK(c.run("counter decr home 2 --ns hits") == 0);
    CHECK(c.output("counter get home --ns hits") == "40\n");

    CHECK(c.run("map set alice email a@example.org --ns profiles") == 0);
    CHECK(c.run("map incr alice visits 3 --ns profiles") == 0);
    CHECK(c.output("map get alice --ns profiles") == "email: a@example.org\nvisits: 3\n");
    CHECK(c.output("map get alice visits --ns profiles") == "3\n");
    CHECK(c.run("map del alice email --ns profiles") == 0);
    CHECK(c.output("map get alice --ns profiles") == "visits: 3\n");
    CHECK(c.run("map get alice email --ns profiles") == 1);
    // A set field: items added, one discarded with the read's context, the field
    // removed; printed as JSON.
    CHECK(c.run("map add alice cart apple pear fig --ns profiles") == 0);
    CHECK(c.run("map discard alice cart pear --ns profiles") == 0);
    CHECK(c.output("map get alice cart --ns profiles") == "[\"apple\",\"fig\"]\n");
    CHECK(c.run("map set alice cart x --ns profiles") == 5);  // a set field is not a register
    CHECK(c.run("map del alice cart --ns profiles") == 0);
    CHECK(c.run("map get alice cart --ns profiles") == 1);
    CHECK(c.output("map get alice --ns profiles") == "visits: 3\n");
    CHECK(c.run("map assign alice memo first --ns profiles") == 0);
    CHECK(c.run("map assign alice memo second --ns profiles") == 0);  // replaces what it read
    CHECK(c.output("map get alice memo --ns profiles") == "[\"second\"]\n");

    // A type the namespace does not hold is refused by the node (exit 5), as is a set
    // command on the default namespace (exit 2, before any node is asked).
    CHECK(c.run("counter incr alice --ns carts") == 5);
    CHECK(c.run("set add alice apple") == 2);
}
