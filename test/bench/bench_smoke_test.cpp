// The bench smoke test: short shoal-bench runs (a few seconds each) against a local
// `shoal dev` cluster in a temp dir (base port 27100), and against redis-server when it
// is installed. Checks the JSON summary for sane, non-zero figures and that error
// counts follow the injected faults: with W=2 a killed node costs (almost) no writes;
// with W=3 writes fail while it is down. No timing assertions.
// Usage: bench_smoke_test SHOAL_BENCH SHOAL (ctest passes both).
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

std::string g_bench = "shoal-bench", g_shoal = "shoal";

struct TempDir {
    fs::path path;
    TempDir() {
        path = fs::temp_directory_path() / ("shoal-bench-test-" + std::to_string(::getpid()));
        fs::remove_all(path);
        fs::create_directories(path);
    }
    ~TempDir() { fs::remove_all(path); }
};

int sh(const std::string& cmd) {
    const int rc = std::system(cmd.c_str());
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

struct Cluster {
    std::string dir;
    Cluster(const fs::path& root, int base_port) : dir((root / "cluster").string()) {
        REQUIRE(sh(g_shoal + " --dir " + dir + " dev up 3 --base-port " + std::to_string(base_port) + " >/dev/null") == 0);
    }
    ~Cluster() { sh(g_shoal + " --dir " + dir + " dev down >/dev/null 2>&1"); }
};

json::object run_bench(const fs::path& root, const std::string& name, const std::string& args) {
    const auto out = root / (name + ".json");
    const auto log = root / (name + ".log");
    const std::string cmd = g_bench + " --quiet --json " + out.string() + " " + args + " >" + log.string() + " 2>&1";
    const int rc = sh(cmd);
    std::ifstream lf(log);
    std::stringstream text;
    text << lf.rdbuf();
    INFO("command: " << cmd << "\noutput:\n" << text.str());
    REQUIRE(rc == 0);
    std::ifstream in(out);
    std::stringstream body;
    body << in.rdbuf();
    return json::parse(body.str()).as_object();
}

double num(const json::value& v) {
    return v.is_double() ? v.as_double() : v.is_int64() ? static_cast<double>(v.as_int64()) : static_cast<double>(v.as_uint64());
}

const json::object& at(const json::object& o, std::initializer_list<const char*> path) {
    const json::object* cur = &o;
    for (const char* p : path) {
        INFO("looking up " << p);
        REQUIRE(cur->contains(p));
        cur = &cur->at(p).as_object();
    }
    return *cur;
}

void check_sane(const json::object& s) {
    REQUIRE(s.contains("git_revision"));
    CHECK(!s.at("git_revision").as_string().empty());
    CHECK(num(at(s, {"machine"}).at("cpus")) >= 1);
    const auto& all = at(s, {"result", "total", "all"});
    CHECK(num(all.at("ok")) > 50);
    CHECK(num(at(s, {"result"}).at("ops_per_s")) > 0);
    const double p50 = num(all.at("p50_ms")), p99 = num(all.at("p99_ms")), mx = num(all.at("max_ms"));
    CHECK(p50 > 0);
    CHECK(p99 >= p50);
    CHECK(mx >= p99);
}

}  // namespace

TEST_CASE("bench: native preset a with W=2 survives a killed node; W=3 does not") {
    TempDir tmp;
    Cluster c(tmp.path, 27100);
    const std::string common = " --dev " + c.dir + " --driver native --preset a --keys 2000 --clients 8 --warmup 500ms";

    SECTION("W=2: kill n2, restart it: writes keep succeeding, phases and cost reported") {
        const auto s = run_bench(tmp.path, "w2",
                                 common + " --w 2 --timeout-ms 2000 --duration 7s"
                                          " --fault 'at=1500ms kill n2; at=3500ms restart n2'");
        check_sane(s);
        const auto& result = at(s, {"result"});
        REQUIRE(result.contains("faults"));
        const auto& faults = result.at("faults").as_array();
        REQUIRE(faults.size() == 2);
        for (const auto& f : faults) CHECK(num(f.as_object().at("exit_code")) == 0);
        const auto& during = at(s, {"result", "phases", "during", "writes"});
        CHECK(num(during.at("count")) > 0);
        CHECK(num(during.at("errors")) <= 0.01 * num(during.at("count")));
        CHECK(num(at(s, {"result", "phases", "before", "writes"}).at("errors")) == 0);
        CHECK(num(at(s, {"result", "phases", "after", "all"}).at("ok")) > 0);
        CHECK(num(at(s, {"result", "cost"}).at("server_cpu_s")) > 0);
    }

    SECTION("W=3: kill n2 and leave it down: writes fail while it is down, not before") {
        const auto s = run_bench(tmp.path, "w3",
                                 common + " --w 3 --timeout-ms 300 --duration 3s --no-load --fault 'at=1s kill n2'");
        const auto& before = at(s, {"result", "phases", "before", "writes"});
        const auto& during = at(s, {"result", "phases", "during", "writes"});
        CHECK(num(before.at("ok")) > 0);
        CHECK(num(before.at("errors")) == 0);
        CHECK(num(during.at("errors")) > 0);
        CHECK(num(at(s, {"result", "phases", "during", "ops", "read"}).at("ok")) > 0);  // R=2 still met
        sh(g_shoal + " --dir " + c.dir + " dev restart 2 >/dev/null 2>&1");
    }

    SECTION("HTTP driver, open loop: no errors, sane figures") {
        const auto s = run_bench(tmp.path, "http", common + " --driver http --rate 500 --duration 2s");
        check_sane(s);
        CHECK(num(at(s, {"result", "total", "all"}).at("errors")) == 0);
        CHECK(at(s, {"settings"}).at("loop").as_string() == "open");
    }
}

TEST_CASE("bench: the RESP driver against redis-server") {
    if (sh("command -v redis-server >/dev/null 2>&1") != 0) {
        WARN("redis-server is not installed; skipping (scripts/deps installs it)");
        return;
    }
    TempDir tmp;
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        ::execlp("redis-server", "redis-server", "--port", "27179", "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "no", "--dir", tmp.path.c_str(), "--logfile", (tmp.path / "redis.log").c_str(), "--loglevel", "warning",
                 static_cast<char*>(nullptr));
        ::_exit(127);
    }
    struct Stop {
        pid_t pid;
        ~Stop() {
            ::kill(pid, SIGTERM);
            ::waitpid(pid, nullptr, 0);
        }
    } stop{pid};
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    const auto s = run_bench(tmp.path, "resp",
                             "--driver resp --nodes 127.0.0.1:27179 --pid " + std::to_string(pid) +
                                 " --preset session --keys 1000 --clients 4 --warmup 200ms --duration 2s");
    check_sane(s);
    CHECK(num(at(s, {"result", "total", "all"}).at("errors")) == 0);
    CHECK(num(at(s, {"result", "cost"}).at("server_cpu_s")) >= 0);
    // Carts as Redis sets, checked: SMEMBERS through the one node reads every add back.
    const auto sets = run_bench(tmp.path, "resp-sets", "--driver resp --nodes 127.0.0.1:27179 --sets --preset cart"
                                                       " --keys 200 --clients 4 --warmup 200ms --duration 1s --check");
    check_sane(sets);
    CHECK(num(at(sets, {"result", "total", "all"}).at("errors")) == 0);
}

TEST_CASE("bench: carts as sets over RESP (SADD, SMEMBERS) on Shoal, every acknowledged add read back") {
    TempDir tmp;
    Cluster c(tmp.path, 27100);
    const std::string shoal = g_shoal + " --dir " + c.dir;
    REQUIRE(sh(shoal + " ns create carts --datatype set >/dev/null") == 0);
    for (int n = 1; n <= 3; ++n) {
        const std::string conf = c.dir + "/n" + std::to_string(n) + ".conf";
        REQUIRE(sh("echo 'resp_databases = default,carts' >>" + conf) == 0);
        REQUIRE(sh(shoal + " dev restart " + std::to_string(n) + " >/dev/null") == 0);
    }
    REQUIRE(sh(shoal + " cluster wait --timeout-s 30 >/dev/null") == 0);
    // --check exits 3 on a lost add or nodes that disagree: run_bench requires 0.
    const auto s = run_bench(tmp.path, "resp-sets",
                             "--dev " + c.dir +
                                 " --driver resp --resp-db 1 --sets --preset cart --keys 300 --clients 4"
                                 " --warmup 200ms --duration 2s --check --check-timeout 30s");
    check_sane(s);
    const auto& cart = at(s, {"result", "total", "ops", "cart"});
    CHECK(num(cart.at("ok")) > 50);
    CHECK(num(at(s, {"result", "total", "ops", "read"}).at("ok")) > 10);

    // The same flags where the database holds strings: every SADD is refused (WRONGTYPE).
    const int rc = sh(g_bench + " --quiet --dev " + c.dir +
                      " --driver resp --resp-db 0 --sets --preset cart --keys 50 --clients 2 --no-load"
                      " --warmup 0s --duration 1s --json " + (tmp.path / "wrong.json").string() + " >/dev/null 2>&1");
    CHECK(rc == 0);  // the run completes; its errors are counted
    std::ifstream in(tmp.path / "wrong.json");
    std::stringstream body;
    body << in.rdbuf();
    const auto w = json::parse(body.str()).as_object();
    CHECK(num(at(w, {"result", "total", "ops", "cart"}).at("ok")) == 0);
    CHECK(num(at(w, {"result", "total", "ops", "cart"}).at("errors")) > 0);
}

TEST_CASE("bench: the sets options' usage errors exit 2 before any connection") {
    const std::string to = g_bench + " --nodes 127.0.0.1:1 --duration 1s ";
    for (const char* bad : {"--driver native --sets --preset cart",        // sets are RESP's
                            "--driver resp --sets --preset a",             // updates are not cart adds
                            "--driver native --resp-db 1",                 // a database is RESP's
                            "--driver resp --resp-db 16",                  // Redis has 0..15
                            "--driver resp --resp-db 1.5",                 // a whole number
                            "--driver http --sets --preset cart --check"}) {
        INFO(bad);
        CHECK(sh(to + bad + " >/dev/null 2>&1") == 2);
    }
}

int main(int argc, char** argv) {
    if (argc >= 3) {
        g_bench = argv[1];
        g_shoal = argv[2];
    }
    Catch::Session session;
    return session.run(1, argv);
}
