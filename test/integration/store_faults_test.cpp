// Integration tests of a node's store under faults on real processes: a full disk, a
// store that no longer opens, compactions that meet damaged blocks (the bounds issue,
// defects 3 and 4). Bounded in time; the full-disk one needs root (tmpfs).
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "client/client.h"
#include "client/http_get.h"
#include "helpers.h"
#include "ring/ring.h"

using namespace shoal;
using namespace shoal::it;

// The bounds issue, defect 3: with one node's disk full, every write it coordinated
// failed as a misleading 503, /health said 200 "ok", and only a restart recovered it.
// Root only (it mounts a small tmpfs for node 3's data); elsewhere it says so and passes.
TEST_CASE(
    "regress: a node whose disk fills up: writes through it succeed on the others, /health says read_only, "
    "it recovers without a restart") {
    if (::geteuid() != 0) {
        WARN("not root: the disk-full test needs to mount a tmpfs; skipped");
        return;
    }
    DevCluster c(3, base_port() + 50);
    client::Client via3(c.options({c.nodes[2].client}));
    REQUIRE(via3.put("before", "v").code == errc::ok);
    // Node 3's data onto a 32 MiB tmpfs, then the tmpfs filled to the last byte.
    const std::string dir = c.dir + "/n3", saved = c.dir + "/n3.saved";
    REQUIRE(c.run("dev kill 3") == 0);
    std::filesystem::rename(dir, saved);
    std::filesystem::create_directories(dir);
    REQUIRE(std::system(("mount -t tmpfs -o size=32m shoal-it-full " + dir).c_str()) == 0);
    struct Unmount {
        std::string dir;
        ~Unmount() { (void)std::system(("umount -l " + dir + " 2>/dev/null").c_str()); }
    } unmount{dir};
    std::filesystem::copy(saved, dir, std::filesystem::copy_options::recursive);
    REQUIRE(c.run("dev restart 3") == 0);
    REQUIRE(via3.put("restarted", "v").code == errc::ok);
    (void)std::system(("dd if=/dev/zero of=" + dir + "/filler bs=1M >/dev/null 2>&1").c_str());

    // Writes through node 3. Its log goes on taking them in the zero-filled step it
    // already holds (LevelOptions::log_step_bytes, 1 MiB); the write that needs the next
    // step meets the full disk and may fail, then node 3 leads none and takes none, and
    // the other two take every one. Bounded: 4 MB of writes at most.
    int ok = 0, sent = 0;
    bool full = false;
    for (; sent < 2000 && !full; ++sent) {
        ok += via3.put("full/" + std::to_string(sent), std::string(2000, 'x')).code == errc::ok;
        if (sent % 50 == 49)
            full = client::http_get(c.nodes[2].http, "/health").body.find("read_only") != std::string::npos;
    }
    INFO("writes sent until node 3 was full: " << sent);
    CHECK(ok >= sent - 2);
    const auto health = client::http_get(c.nodes[2].http, "/health");
    CHECK(health.status == 200);
    CHECK(health.body.find("\"status\":\"read_only\"") != std::string::npos);
    CHECK(health.body.find("\"store\":\"full\"") != std::string::npos);
    CHECK(metric_sum(c, "shoal_store_commit_errors_total{kind=\"full\"}") >= 1);
    CHECK(via3.get("full/7").code == errc::ok);

    // Room again: within a few seconds it reopens its store and serves writes itself.
    std::filesystem::remove(dir + "/filler");
    bool serving = false;
    for (int i = 0; i < 30 && !serving; ++i) {
        ::sleep(1);
        serving = client::http_get(c.nodes[2].http, "/health").body.find("\"status\":\"serving\"") != std::string::npos;
    }
    CHECK(serving);
    CHECK(metric_sum(c, "shoal_store_reopens_total") >= 1);
    CHECK(via3.put("after", "v").code == errc::ok);
    REQUIRE(c.run("dev down") == 0);  // before the tmpfs goes
}

// The bounds issue, defect 4: a store LevelDB could no longer use kept the node down
// (or failing every write) for good. Here node 3's descriptor is destroyed while it is
// stopped: before, it could not start again ("store ... corrupt"); now it moves the
// store aside, starts on a fresh one with its identity, and is refilled by its replicas.
TEST_CASE("regress: a node whose store no longer opens starts on a fresh one and is refilled by its replicas") {
    DevCluster c(3, base_port() + 50);
    std::vector<ring::Member> members{{NodeId{1}, "z1"}, {NodeId{2}, "z2"}, {NodeId{3}, "z3"}};
    const ring::Ring ring(64, members, ring::compute_claim(64, members, {}));
    client::Client cl(c.options());
    std::vector<std::string> keys;
    for (int i = 0; i < 300; ++i) {
        keys.push_back("rebuild/" + std::to_string(i));
        REQUIRE(cl.put(keys.back(), "value-" + std::to_string(i)).code == errc::ok);
    }
    REQUIRE(c.run("dev kill 3") == 0);
    const std::string db_dir = c.dir + "/n3/db";
    REQUIRE(count_stored(db_dir, ring, keys) > 0);
    int damaged = 0;
    for (const auto& entry : std::filesystem::directory_iterator(db_dir)) {
        if (entry.path().filename().string().rfind("MANIFEST-", 0) != 0) continue;
        std::ofstream(entry.path(), std::ios::binary | std::ios::trunc) << std::string(512, '\xab');
        ++damaged;
    }
    REQUIRE(damaged > 0);
    REQUIRE(c.run("dev restart 3") == 0);

    const auto health = client::http_get(c.nodes[2].http, "/health");
    CHECK(health.status == 200);
    CHECK(health.body.find("\"store_rebuilt\":{\"count\":1") != std::string::npos);
    CHECK(metric_sum(c, "shoal_store_rebuilds_total") == 1);
    CHECK(std::filesystem::exists(db_dir + ".damaged"));
    // Every key reads at r=3 through the rebuilt node (read repair refills what it asks),
    // once it has heard from its peers since the start.
    client::Client via3(c.options({c.nodes[2].client}));
    client::RequestOptions all;
    all.r = 3;
    for (int i = 0; i < 50 && via3.get("rebuild/probe", all).code != errc::not_found; ++i) ::usleep(100 * 1000);
    int read_ok = 0;
    for (int i = 0; i < 50; ++i) {
        const auto got = via3.get(keys[static_cast<std::size_t>(i)], all);
        INFO(keys[static_cast<std::size_t>(i)] << ": " << std::error_code(got.code).message());
        CHECK(got.code == errc::ok);
        read_ok += got.code == errc::ok;
    }
    CHECK(read_ok == 50);
    // With no more reads, anti-entropy brings back the rest.
    int found = 0;
    for (int round = 0; round < 12 && found < static_cast<int>(keys.size()); ++round) {
        ::sleep(round == 0 ? 15 : 10);
        REQUIRE(c.run("dev kill 3") == 0);
        found = count_stored(db_dir, ring, keys);
        REQUIRE(c.run("dev restart 3") == 0);
    }
    CHECK(found == static_cast<int>(keys.size()));
}

// The same defect at run time: after a compaction met a damaged block, LevelDB failed
// every write as corrupt, a reopen did not help and a restart met it again. Node 3's
// tables are damaged under write load (512-byte bursts, as seen); the node must judge
// its store unusable, move it aside, start again on a fresh one and keep serving.
TEST_CASE("regress: a store whose compactions meet damaged blocks is moved aside at run time; writes go on") {
    DevCluster c(3, base_port() + 50);
    const std::string bench = (std::filesystem::path(it::g_shoal).parent_path() / "shoal-bench").string();
    const std::string load = bench + " --dev " + c.dir +
                             " --mix update=1 --dist uniform --value-size 1000 --keys 30000 --clients 20 --warmup 0s";
    // 30 MB per node: enough for LevelDB to flush tables (its memtable is 16 MB).
    REQUIRE(std::system((load + " --duration 1s >>" + c.dir + "/bench.log 2>&1").c_str()) == 0);
    const std::string db_dir = c.dir + "/n3/db";
    int tables = 0;
    for (const auto& entry : std::filesystem::directory_iterator(db_dir)) {
        if (entry.path().extension() != ".ldb") continue;
        std::fstream f(entry.path(), std::ios::binary | std::ios::in | std::ios::out);
        const auto size = static_cast<std::streamoff>(std::filesystem::file_size(entry.path()));
        for (std::streamoff at = 4096; at + 512 < size; at += 64 * 1024) {
            f.seekp(at);
            f << std::string(512, '\xff');
        }
        ++tables;
    }
    REQUIRE(tables > 0);
    bool rebuilt = false;
    int rounds = 0;
    std::int64_t ok = 0, errors = 0;
    for (; rounds < 16 && !rebuilt; ++rounds) {  // compactions reach the damage at their own pace
        const std::string json = c.dir + "/round.json";
        (void)std::system(
            (load + " --no-load --duration 4s --json " + json + " >>" + c.dir + "/bench.log 2>&1").c_str());
        std::ifstream in(json);
        const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        const auto all = boost::json::parse(text).at("result").at("total").at("all").as_object();
        ok += all.at("ok").as_int64();
        errors += all.at("errors").as_int64();
        const auto health = client::http_get(c.nodes[2].http, "/health");
        rebuilt = health.body.find("\"store_rebuilt\":{\"count\":1") != std::string::npos;
    }
    // Only the turns that first met the damage fail (their batch is lost as a whole);
    // the writes around them go to the good replicas.
    INFO("writes ok " << ok << ", failed " << errors);
    CHECK(errors * 100 <= ok);
    INFO("load rounds of 4 s until the rebuild: " << rounds);
    REQUIRE(rebuilt);
    CHECK(std::filesystem::exists(db_dir + ".damaged"));
    CHECK(metric_sum(c, "shoal_store_rebuilds_total") == 1);
    client::Client via3(c.options({c.nodes[2].client}));
    CHECK(via3.put("after-rebuild", "v").code == errc::ok);
    client::RequestOptions all;
    all.r = 3;
    CHECK(via3.get("after-rebuild", all).code == errc::ok);
    WARN("load rounds of 4 s until the rebuild: " << rounds);
}
