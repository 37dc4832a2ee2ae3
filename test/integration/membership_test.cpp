// Integration: membership changes under load. A 3-node dev cluster grows to 4 (a
// standalone node joined with `shoal cluster join`) and then shrinks (`shoal cluster
// leave`) while a writer thread keeps writing distinct keys; a 4-node cluster loses a
// node to SIGKILL and removes it (`shoal cluster remove`). Every write the cluster
// acknowledged must read back afterwards. Bounded in time and in keys.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <boost/json.hpp>

#include "client/client.h"
#include "client/http_get.h"
#include "harness.h"

using namespace shoal;
using it::DevCluster;

namespace {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;

constexpr int k_max_keys_per_writer = 200'000;
constexpr auto k_max_write_time = std::chrono::seconds(400);

int membership_base_port() {
    // Below the other integration tests' 20000.. range and the kernel's ephemeral ports;
    // the clusters here use base+11..base+103 (the removal case starts at base+60).
    return 10000 + static_cast<int>(::getpid() % 90) * 100;
}

std::string key_of(int i) {
    return "grow/" + std::to_string(i);
}

std::string value_of(int i) {
    return "value-" + std::to_string(i);
}

// Writes key_of(first), key_of(first + 1), ... once each from a thread with a client
// of its own, until stopped (or a bound is hit), and records which were acknowledged.
class Writer {
public:
    Writer(client::Options options, int first) : next_(first) {
        thread_ = std::thread([this, options = std::move(options)] { run(options); });
    }
    ~Writer() { stop(); }
    Writer(const Writer&) = delete;
    Writer& operator=(const Writer&) = delete;

    void stop() {
        stop_ = true;
        if (thread_.joinable()) thread_.join();
    }
    int acked_count() const { return acked_count_.load(); }
    int attempted() const { return attempted_.load(); }
    // After stop(): the acknowledged key numbers, and the key number after the last one tried.
    const std::vector<int>& acked() const { return acked_; }
    int next() const { return next_; }
    // After stop(): failures by error name.
    const std::map<std::string, int>& failures() const { return failures_; }

private:
    void run(const client::Options& options) {
        client::Client cl(options);
        const auto until = Clock::now() + k_max_write_time;
        for (int n = 0; n < k_max_keys_per_writer && !stop_ && Clock::now() < until; ++n, ++next_) {
            const auto r = cl.put(key_of(next_), value_of(next_));
            attempted_ += 1;
            if (r.ok()) {
                acked_.push_back(next_);
                acked_count_ += 1;
            } else {
                failures_[make_error_code(r.code).message()] += 1;
            }
        }
    }

    std::atomic<bool> stop_{false};
    std::atomic<int> acked_count_{0}, attempted_{0};
    int next_;
    std::vector<int> acked_;
    std::map<std::string, int> failures_;
    std::thread thread_;
};

// Waits (bounded) until the writer has `count` acknowledgements.
bool wait_acked(const Writer& w, int count, std::chrono::seconds timeout) {
    const auto until = Clock::now() + timeout;
    while (w.acked_count() < count && Clock::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    return w.acked_count() >= count;
}

// Reads every key in `keys` through `cl`; returns how many came back with their value
// (every sibling equal to it: a retried put may leave a twin). Names a few that did not.
int count_readable(client::Client& cl, const std::vector<int>& keys) {
    int ok = 0, reported = 0;
    for (int i : keys) {
        const auto r = cl.get(key_of(i));
        bool good = r.ok() && !r.values.empty();
        for (const auto& v : r.values) good = good && v == value_of(i);
        ok += good ? 1 : 0;
        if (!good && reported++ < 10) {
            WARN("acknowledged " << key_of(i) << " reads back as " << make_error_code(r.code).message() << " with "
                                 << r.values.size() << " value(s)" << (r.values.empty() ? "" : ": " + r.values[0]));
        }
    }
    return ok;
}

json::object cluster_json(const std::string& http) {
    const auto res = client::http_get(http, "/cluster", 3000);
    REQUIRE(res.status == 200);
    boost::system::error_code ec;
    auto doc = json::parse(res.body, ec);
    REQUIRE(!ec);
    REQUIRE(doc.is_object());
    return doc.as_object();
}

// Member id -> status, and member id -> partitions owned, from one /cluster answer.
struct Members {
    std::map<std::int64_t, std::string> status;
    std::map<std::int64_t, int> owned;
    std::string status_of(std::int64_t id) const { return status.count(id) ? status.at(id) : "(not a member)"; }
    int owned_by(std::int64_t id) const { return owned.count(id) ? owned.at(id) : 0; }
};

Members members_of(const json::object& o) {
    Members m;
    for (const auto& v : o.at("members").as_array())
        m.status[v.at("id").as_int64()] = std::string(v.at("status").as_string());
    for (const auto& p : o.at("partitions").as_array()) m.owned[p.at("owner").as_int64()] += 1;
    return m;
}

// /proc/PID/stat state, so an exited but unreaped process counts as gone.
bool process_running(int pid) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(stat, line)) return false;
    const auto paren = line.rfind(')');
    return paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] != 'Z' && line[paren + 2] != 'X';
}

int read_pid(const std::string& dir, int id) {
    std::ifstream in(dir + "/n" + std::to_string(id) + ".pid");
    int pid = 0;
    in >> pid;
    return pid;
}

std::vector<int> joined(const std::vector<int>& a, const std::vector<int>& b) {
    std::vector<int> out = a;
    out.insert(out.end(), b.begin(), b.end());
    return out;
}

// "grow: 2577 of 2600 writes acknowledged; timeout x23", for failure messages.
std::string summary(const char* phase, const Writer& w) {
    std::string failures;
    for (const auto& [what, count] : w.failures()) failures += " " + what + " x" + std::to_string(count);
    return std::string(phase) + ": " + std::to_string(w.acked().size()) + " of " + std::to_string(w.attempted()) +
           " writes acknowledged;" + (failures.empty() ? " no failures" : failures);
}

// A counter's value in a node's /metrics text (-1 when absent).
long long metric(const std::string& http, const std::string& name) {
    const auto res = client::http_get(http, "/metrics", 3000);
    REQUIRE(res.status == 200);
    const std::string line_start = "\n" + name + " ";
    const auto at = res.body.find(line_start);
    if (at == std::string::npos) return -1;
    return std::atoll(res.body.c_str() + at + line_start.size());
}

}  // namespace

TEST_CASE("membership: grow 3 -> 4 under writes, then node 2 leaves; every acknowledged write stays readable",
          "[membership]") {
    DevCluster c(3, membership_base_port());

    // --- grow: a standalone node 4 joins through node 1 while writes go on.
    Writer grow_writer(c.options(), 0);  // nodes 1..3: node 4 refuses key-value requests until it joins
    REQUIRE(wait_acked(grow_writer, 500, std::chrono::seconds(60)));
    REQUIRE(c.run("dev add --standalone") == 0);
    c.reload();
    REQUIRE(c.nodes.size() == 4);
    const int acked_before_join = grow_writer.acked_count();
    REQUIRE(c.run("cluster join 4 1") == 0);
    REQUIRE(c.run("cluster wait --timeout-s 180") == 0);
    const int acked_during_growth = grow_writer.acked_count() - acked_before_join;
    // A little more on the new ring (and at least 1,000 in all, however slow the
    // machine was during the growth), then stop.
    REQUIRE(wait_acked(grow_writer, std::max(grow_writer.acked_count() + 200, 1000), std::chrono::seconds(120)));
    grow_writer.stop();
    const std::string grow_summary = summary("grow", grow_writer);
    INFO(grow_summary);
    CHECK(acked_during_growth > 0);
    REQUIRE(grow_writer.acked().size() >= 1000);
    {
        client::Client reader(c.options());
        CHECK(count_readable(reader, grow_writer.acked()) == static_cast<int>(grow_writer.acked().size()));
    }
    REQUIRE(c.run("cluster status") == 0);
    // Node 4 got its partitions by handoff streams (not only through later repair).
    CHECK(metric(c.node(4).http, "shoal_handoff_keys_received_total") > 100);
    for (const auto& n : c.nodes) {  // every node sees 4 valid members, each owning partitions
        const auto o = cluster_json(n.http);
        INFO("as seen by node " << n.id);
        CHECK(o.at("settled").as_bool());
        CHECK(o.at("transfers").as_array().empty());
        const Members m = members_of(o);
        CHECK(m.status.size() == 4);
        for (int id = 1; id <= 4; ++id) {
            INFO("member " << id);
            CHECK(m.status_of(id) == "valid");
            CHECK(m.owned_by(id) > 0);
        }
    }

    // --- shrink: node 2 leaves while writes go on (through nodes 1, 3 and 4).
    const int pid2 = read_pid(c.dir, 2);
    REQUIRE(process_running(pid2));
    const std::vector<std::string> remaining{c.node(1).client, c.node(3).client, c.node(4).client};
    Writer leave_writer(c.options(remaining), grow_writer.next());
    REQUIRE(wait_acked(leave_writer, 200, std::chrono::seconds(60)));
    REQUIRE(c.run("cluster leave 2") == 0);
    REQUIRE(c.run("cluster wait --timeout-s 180") == 0);
    const auto exit_deadline = Clock::now() + std::chrono::seconds(60);
    while (process_running(pid2) && Clock::now() < exit_deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    CHECK_FALSE(process_running(pid2));
    wait_acked(leave_writer, leave_writer.acked_count() + 200, std::chrono::seconds(20));
    leave_writer.stop();
    const std::string leave_summary = summary("leave", leave_writer);
    INFO(leave_summary);
    CHECK(leave_writer.acked().size() >= 400);
    {
        client::Client reader(c.options(remaining));
        const auto all = joined(grow_writer.acked(), leave_writer.acked());
        CHECK(count_readable(reader, all) == static_cast<int>(all.size()));
    }
    const Members m = members_of(cluster_json(c.node(1).http));
    CHECK((m.status_of(2) == "exiting" || m.status_of(2) == "removed"));
    CHECK(m.owned_by(2) == 0);
    for (int id : {1, 3, 4}) {
        INFO("member " << id);
        CHECK(m.status_of(id) == "valid");
        CHECK(m.owned_by(id) > 0);
    }
}

TEST_CASE("membership: a killed node is removed; its partitions are refilled and every acknowledged write stays readable",
          "[membership]") {
    DevCluster c(4, membership_base_port() + 60);
    Writer before(c.options(), 0);
    REQUIRE(wait_acked(before, 800, std::chrono::seconds(60)));
    before.stop();
    // A live member is not removed by mistake (exit 5, 409 with the reason).
    CHECK(c.run("cluster remove 3") == 5);
    REQUIRE(c.run("dev kill 3") == 0);
    // Writes go on through the three that are left while node 3 is dead, then removed.
    const std::vector<std::string> rest{c.node(1).client, c.node(2).client, c.node(4).client};
    Writer during(c.options(rest), before.next());
    REQUIRE(wait_acked(during, 200, std::chrono::seconds(60)));
    // Once the failure detector notices it is gone (a few gossip intervals), remove works.
    int removed = -1;
    for (int i = 0; i < 100 && removed != 0; ++i) {
        removed = c.run("cluster remove 3");
        if (removed != 0) std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    REQUIRE(removed == 0);
    REQUIRE(c.run("cluster wait --timeout-s 180") == 0);
    wait_acked(during, during.acked_count() + 200, std::chrono::seconds(20));
    during.stop();
    INFO(summary("before", before) << "; " << summary("during", during));
    const Members m = members_of(cluster_json(c.node(1).http));
    CHECK(m.status_of(3) == "removed");
    CHECK(m.owned_by(3) == 0);
    for (int id : {1, 2, 4}) CHECK(m.owned_by(id) > 0);
    client::Client reader(c.options(rest));
    const auto all = joined(before.acked(), during.acked());
    CHECK(count_readable(reader, all) == static_cast<int>(all.size()));
}
