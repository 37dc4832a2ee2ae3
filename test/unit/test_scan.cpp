// Key listing (SCAN): the pattern matcher, the cursors, the coordinator's merge of
// replicas' pages, the core's pages on a harness cluster at their bounds, and SCAN
// through a Redis session.
#include <catch2/catch.hpp>

#include <set>
#include <string>
#include <vector>

#include "core/limits.h"
#include "node_harness.h"
#include "replica/list_coordinator.h"
#include "replica/namespaces.h"
#include "resp/protocol.h"
#include "resp/scan.h"
#include "resp/session.h"
#include "resp_test_util.h"

using namespace shoal;
using namespace shoal::replica;

TEST_CASE("scan: MATCH patterns as Redis globs them", "[scan]") {
    using resp::glob_match;
    CHECK(glob_match("*", ""));
    CHECK(glob_match("*", "anything"));
    CHECK(glob_match("user:*", "user:1"));
    CHECK_FALSE(glob_match("user:*", "users:1"));
    CHECK(glob_match("h?llo", "hello"));
    CHECK_FALSE(glob_match("h?llo", "hllo"));
    CHECK(glob_match("h*llo", "hllo"));
    CHECK(glob_match("h*llo", "heeeello"));
    CHECK(glob_match("h[ae]llo", "hallo"));
    CHECK_FALSE(glob_match("h[ae]llo", "hillo"));
    CHECK(glob_match("h[^e]llo", "hallo"));
    CHECK_FALSE(glob_match("h[^e]llo", "hello"));
    CHECK(glob_match("h[a-b]llo", "hbllo"));
    CHECK(glob_match("h[b-a]llo", "hallo"));  // a reversed range, as Redis takes it
    CHECK_FALSE(glob_match("h[a-b]llo", "hcllo"));
    CHECK(glob_match("a\\*b", "a*b"));
    CHECK_FALSE(glob_match("a\\*b", "axb"));
    CHECK(glob_match("*a*b*c*", "xxaxxbxxcxx"));
    CHECK_FALSE(glob_match("*a*b*c*", "xxaxxcxxbxx"));
    CHECK(glob_match("[]]x", "]x"));  // a ']' first in a set is a member
    CHECK_FALSE(glob_match("abc", "ab"));
    CHECK_FALSE(glob_match("ab", "abc"));
    CHECK(resp::literal_prefix("user:*") == "user:");
    CHECK(resp::literal_prefix("a\\*b*") == "a*b");
    CHECK(resp::literal_prefix("h?llo") == "h");
    CHECK(resp::literal_prefix("[ab]") == "");
    CHECK(resp::literal_prefix("plain") == "plain");
}

TEST_CASE("scan: cursors are never 0, below 2^53, and the oldest is forgotten past the bound", "[scan]") {
    resp::ScanCursors cursors;
    const Time now{1'800'000'000LL * 1'000'000};
    const std::uint64_t first = cursors.open({"default", "", {3, "k", false}}, now);
    CHECK(first != 0);
    CHECK(first < (std::uint64_t{1} << 53));
    REQUIRE(cursors.find(first) != nullptr);
    CHECK(cursors.find(first)->at.partition == 3);
    CHECK(cursors.find(first)->at.after == "k");
    CHECK(cursors.find(first + 1) == nullptr);
    for (std::size_t i = 1; i < resp::k_max_scan_cursors; ++i) cursors.open({"default", "", {}}, now);
    CHECK(cursors.size() == resp::k_max_scan_cursors);
    CHECK(cursors.find(first) != nullptr);  // at the bound, still known
    const std::uint64_t last = cursors.open({"default", "", {}}, now);
    CHECK(cursors.size() == resp::k_max_scan_cursors);
    CHECK(cursors.find(first) == nullptr);  // one past it: the oldest went
    CHECK(cursors.find(first + 1) != nullptr);
    CHECK(cursors.find(last) != nullptr);
    // A later life starts elsewhere.
    resp::ScanCursors later;
    CHECK(later.open({"default", "", {}}, Time{now.us + 10'000'000}) > last);
}

namespace {
ListCoordinator two_replicas(std::uint32_t limit, std::string after = {}) {
    ListCoordinator::Spec spec;
    spec.token = 7;
    spec.request.req = 1;
    spec.request.partition = PartitionId{5};
    spec.request.after = std::move(after);
    spec.request.limit = limit;
    spec.partitions = 6;
    spec.need = 2;
    spec.targets = {Target{NodeId{1}, NodeId{}, true}, Target{NodeId{2}, NodeId{}, true},
                    Target{NodeId{3}, NodeId{}, true}};
    ListCoordinator list(std::move(spec));
    std::vector<NodeId> asked;
    list.ask([&](const Target& t) { asked.push_back(t.node); });
    REQUIRE(asked == std::vector<NodeId>{NodeId{1}, NodeId{2}});
    return list;
}
ListResp page(std::vector<std::string> keys, bool complete, std::string last = {}) {
    ListResp p;
    p.req = 1;
    p.keys = std::move(keys);
    p.complete = complete;
    p.last = std::move(last);
    return p;
}
}  // namespace

TEST_CASE("scan: a page is the union of r replicas' pages up to where the first of them stopped", "[scan]") {
    SECTION("both complete: every key once, and the next partition") {
        ListCoordinator list = two_replicas(10);
        auto a = page({"a", "c"}, true), b = page({"b", "c"}, true);
        CHECK(list.on_answer(NodeId{1}, a));
        CHECK_FALSE(list.ready());
        CHECK(list.on_answer(NodeId{2}, b));
        REQUIRE(list.ready());
        const ClientReply r = list.reply();
        CHECK(r.keys == std::vector<std::string>{"a", "b", "c"});
        CHECK(r.next.done);  // partitions 0..5: 5 was the last
    }
    SECTION("one stopped early: keys past its stop wait for the next page") {
        ListCoordinator list = two_replicas(10);
        auto a = page({"a", "b"}, false, "b"), b = page({"a", "c", "d"}, true);
        list.on_answer(NodeId{1}, a);
        list.on_answer(NodeId{2}, b);
        const ClientReply r = list.reply();
        CHECK(r.keys == std::vector<std::string>{"a", "b"});
        CHECK(r.next.partition == 5);
        CHECK(r.next.after == "b");
        CHECK_FALSE(r.next.done);
    }
    SECTION("a union over the limit is cut there, and goes on after the last key given") {
        ListCoordinator list = two_replicas(2);
        auto a = page({"a", "c"}, true), b = page({"b", "d"}, true);
        list.on_answer(NodeId{1}, a);
        list.on_answer(NodeId{2}, b);
        const ClientReply r = list.reply();
        CHECK(r.keys == std::vector<std::string>{"a", "b"});
        CHECK(r.next.after == "b");
        CHECK_FALSE(r.next.done);
    }
    SECTION("a page that is no answer to the request fails its replica; another is asked") {
        ListCoordinator list = two_replicas(2, "m");
        auto behind = page({"a"}, true);               // a key before `after`
        auto stuck = page({}, false, "m");             // unfinished without moving on
        auto too_many = page({"n", "o", "p"}, true);  // over the limit
        CHECK(list.on_answer(NodeId{1}, behind));
        CHECK(list.on_answer(NodeId{2}, stuck));
        CHECK(list.got() == 0);
        std::vector<NodeId> asked;
        list.ask([&](const Target& t) { asked.push_back(t.node); });
        CHECK(asked == std::vector<NodeId>{NodeId{3}});
        CHECK(list.hopeless());  // one target left for two pages
        CHECK(list.on_answer(NodeId{3}, too_many));
        CHECK(list.got() == 0);
        auto late = page({"n"}, true);
        CHECK_FALSE(list.on_answer(NodeId{1}, late));  // failed already: not counted
    }
}

namespace {
// A ring of one partition for a sole node: every key in one partition's range, where
// the per-page bounds show.
std::shared_ptr<const ring::Ring> one_partition_ring() {
    std::vector<ring::Member> ms{{NodeId{1}, "z1"}};
    return std::make_shared<const ring::Ring>(1, ms, ring::compute_claim(1, ms, {}));
}

ClientRequest list_request(std::uint32_t partition, std::string after, std::uint32_t limit, std::string ns = {},
                           std::uint32_t r = 0) {
    ClientRequest q;
    q.op = ClientOp::list;
    q.list.partition = partition;
    q.list.after = std::move(after);
    q.list_limit = limit;
    q.options.ns = std::move(ns);
    q.options.r = r;
    return q;
}

// Every key a listing through node `via` finds, page by page.
std::multiset<std::string> list_all(test::Cluster& c, std::uint32_t via, std::uint32_t limit, std::string ns = {},
                                    std::uint32_t r = 0, std::size_t* pages = nullptr) {
    std::multiset<std::string> out;
    ListPosition at;
    std::size_t n = 0;
    while (!at.done) {
        REQUIRE(++n < 10'000);
        ClientReply reply = c.call(via, list_request(at.partition, at.after, limit, ns, r));
        REQUIRE(reply.code == errc::ok);
        for (auto& k : reply.keys) out.insert(k);
        at = reply.next;
    }
    if (pages) *pages = n;
    return out;
}
}  // namespace

TEST_CASE("scan: the core lists live keys of one namespace, each once, within its bounds", "[scan]") {
    test::Cluster c(3);
    NamespaceProps props;
    for (std::uint32_t i = 1; i <= 3; ++i) c.node(i).set_namespaces({{"other", props}});
    std::set<std::string> want;
    for (int i = 0; i < 120; ++i) {
        const std::string key = "k" + std::to_string(i);
        REQUIRE(c.put(1, key, "v").code == errc::ok);
        want.insert(key);
    }
    // Deleted keys (tombstones) and another namespace's keys are not listed.
    for (int i = 0; i < 120; i += 3) {
        ClientRequest del;
        del.op = ClientOp::del;
        del.key = "k" + std::to_string(i);
        REQUIRE(c.call(2, del).code == errc::ok);
        want.erase(del.key);
    }
    ClientRequest other;
    other.op = ClientOp::put;
    other.key = "elsewhere";
    other.value = "v";
    other.options.ns = "other";
    REQUIRE(c.call(1, other).code == errc::ok);

    std::size_t pages = 0;
    const auto got = list_all(c, 2, 5, {}, 0, &pages);
    CHECK(std::set<std::string>(got.begin(), got.end()) == want);
    CHECK(got.size() == want.size());  // each once
    CHECK(pages >= 64);                // every partition walked
    CHECK(list_all(c, 3, k_max_list_keys, "other") == std::multiset<std::string>{"elsewhere"});

    // A prefix narrows the range.
    ClientRequest narrow = list_request(0, {}, k_max_list_keys);
    std::set<std::string> ones;
    ListPosition at;
    while (!at.done) {
        narrow.list = at;
        narrow.list_prefix = "k1";
        ClientReply r = c.call(1, narrow);
        REQUIRE(r.code == errc::ok);
        for (auto& k : r.keys) {
            CHECK(k.rfind("k1", 0) == 0);
            ones.insert(k);
        }
        at = r.next;
    }
    std::set<std::string> want_ones;
    for (const auto& k : want)
        if (k.rfind("k1", 0) == 0) want_ones.insert(k);
    CHECK(ones == want_ones);

    // Bounds at their edges.
    CHECK(c.call(1, list_request(0, {}, 0)).code == errc::bad_request);
    CHECK(c.call(1, list_request(0, {}, k_max_list_keys)).code == errc::ok);
    CHECK(c.call(1, list_request(0, {}, k_max_list_keys + 1)).code == errc::bad_request);
    CHECK(c.call(1, list_request(63, {}, 1)).code == errc::ok);
    CHECK(c.call(1, list_request(64, {}, 1)).code == errc::bad_request);  // 64 partitions
    CHECK(c.call(1, list_request(0, std::string(1024, 'a'), 1)).code == errc::ok);
    CHECK(c.call(1, list_request(0, std::string(1025, 'a'), 1)).code == errc::bad_request);
    CHECK(c.call(1, list_request(0, {}, 1, "nope")).code == errc::no_namespace);
    // A position outside its prefix, or a key that names another namespace's scope.
    ClientRequest outside = list_request(0, "b", 1);
    outside.list_prefix = "a";
    CHECK(c.call(1, outside).code == errc::bad_request);
    ClientRequest scoped = list_request(0, {}, 1);
    scoped.list_prefix = std::string("\0other\0", 7);
    CHECK(c.call(1, scoped).code == errc::bad_request);
    // The same from a peer: refused, not scanned.
    ListReq peer;
    peer.req = 1;
    peer.partition = PartitionId{0};
    peer.prefix = "a";
    peer.after = "b";
    peer.limit = 1;
    c.node(2).step(c.now, NodeId{1}, peer);
    c.collect(2);
    bool refused = false;
    for (auto& [from, env] : c.wire) {
        if (auto* r = std::get_if<ListResp>(&env.msg)) refused = r->code == errc::bad_request;
    }
    CHECK(refused);
    c.wire.clear();
}

TEST_CASE("scan: a page merges r replicas, so a key one replica lacks is still listed", "[scan]") {
    test::Cluster c(3);
    c.dead.insert(3);  // node 3 hears none of these writes
    std::set<std::string> want;
    for (int i = 0; i < 40; ++i) {
        const std::string key = "w" + std::to_string(i);
        REQUIRE(c.put(1, key, "v").code == errc::ok);
        want.insert(key);
    }
    c.dead.clear();
    SiblingSet local;
    REQUIRE_FALSE(c.node(3).read_local("w0", local));
    REQUIRE(local.siblings.empty());
    // Node 3 coordinates and reads its own copy first: at r=1 it finds nothing.
    CHECK(list_all(c, 3, 100, {}, 1).empty());
    const auto got = list_all(c, 3, 100, {}, 2);
    CHECK(std::set<std::string>(got.begin(), got.end()) == want);
}

namespace {
// Writes keys d0..d(count-1) through node 1 and deletes each: tombstones.
void write_and_delete(test::Cluster& c, std::uint32_t count) {
    for (std::uint32_t i = 0; i < count; ++i) {
        const std::string key = "d" + std::to_string(i);
        REQUIRE(c.put(1, key, "v").code == errc::ok);
        ClientRequest del;
        del.op = ClientOp::del;
        del.key = key;
        REQUIRE(c.call(1, del).code == errc::ok);
    }
}
}  // namespace

TEST_CASE("scan: a replica looks at k_max_list_examined entries per page, however many are dead", "[scan]") {
    const NodeConfig one = test::one_copy();
    test::Cluster c(1, one);
    // More tombstones than a page may look at, all in one partition's range or spread:
    // the listing still ends, and finds the one live key.
    const std::uint32_t dead = k_max_list_examined + 100;
    write_and_delete(c, dead);
    REQUIRE(c.put(1, "alive", "v").code == errc::ok);
    std::size_t pages = 0;
    CHECK(list_all(c, 1, 10, {}, 0, &pages) == std::multiset<std::string>{"alive"});
    // 64 partitions of about 64 tombstones each need one page each; a partition
    // holding more than the bound would need more.
    CHECK(pages >= 64);
    // In a one-partition ring every tombstone is in one partition: the bound shows.
    const auto one_partition = one_partition_ring();
    test::Cluster single(1, one, one_partition);
    write_and_delete(single, dead);
    ClientReply first = single.call(1, list_request(0, {}, 10));
    REQUIRE(first.code == errc::ok);
    CHECK(first.keys.empty());
    CHECK_FALSE(first.next.done);  // stopped at the bound, not at the end
    CHECK_FALSE(first.next.after.empty());
    ClientReply second = single.call(1, list_request(0, first.next.after, 10));
    REQUIRE(second.code == errc::ok);
    CHECK(second.next.done);  // the 100 left fit the next page
}

TEST_CASE("scan: a replica decodes at most k_max_list_scanned_bytes of values per page", "[scan]") {
    const NodeConfig one = test::one_copy();
    const auto one_partition = one_partition_ring();
    test::Cluster c(1, one, one_partition);
    // 100 live keys of 100 KiB each, in one partition: more than a page may decode.
    const std::size_t value_bytes = 100 * 1024;
    for (int i = 0; i < 100; ++i) {
        REQUIRE(c.put(1, "big" + std::to_string(100 + i), std::string(value_bytes, 'v')).code == errc::ok);
    }
    const ClientReply first = c.call(1, list_request(0, {}, 1000));
    REQUIRE(first.code == errc::ok);
    // It stops at the first entry that takes the decoded bytes to the bound.
    const std::size_t at_most = k_max_list_scanned_bytes / value_bytes + 1;
    const std::size_t at_least = k_max_list_scanned_bytes / (value_bytes + 1024);
    CHECK(first.keys.size() <= at_most);
    CHECK(first.keys.size() >= at_least);
    CHECK_FALSE(first.next.done);
    const ClientReply second = c.call(1, list_request(0, first.next.after, 1000));
    REQUIRE(second.code == errc::ok);
    CHECK(second.next.done);
    CHECK(first.keys.size() + second.keys.size() == 100);
}

namespace {
struct HarnessCore final : resp::Core {
    test::Cluster& c;
    explicit HarnessCore(test::Cluster& cluster) : c(cluster) {}
    void call(ClientRequest q, std::function<void(ClientReply)> done) override { done(c.call(1, std::move(q))); }
    Time now() override { return c.now.wall; }
    void after(Duration, std::function<void()> fn) override { fn(); }
    bool last_writer_wins(const std::string&) override { return false; }
    std::string datatype(const std::string& ns) override {
        auto it = c.node(1).namespaces().find(ns);
        return it == c.node(1).namespaces().end() ? std::string() : it->second.datatype;
    }
};

// SCAN's reply: the cursor and the keys.
std::pair<std::string, std::vector<std::string>> parse_scan(const std::string& reply) {
    std::pair<std::string, std::vector<std::string>> out;
    std::size_t pos = 0;
    auto line = [&]() {
        const std::size_t end = reply.find("\r\n", pos);
        REQUIRE(end != std::string::npos);
        std::string l = reply.substr(pos, end - pos);
        pos = end + 2;
        return l;
    };
    auto bulk = [&]() {
        const std::string head = line();
        REQUIRE(head[0] == '$');
        const std::size_t n = std::stoul(head.substr(1));
        std::string b = reply.substr(pos, n);
        pos += n + 2;
        return b;
    };
    REQUIRE(line() == "*2");
    out.first = bulk();
    const std::string head = line();
    REQUIRE(head[0] == '*');
    const std::size_t n = std::stoul(head.substr(1));
    for (std::size_t i = 0; i < n; ++i) out.second.push_back(bulk());
    CHECK(pos == reply.size());
    return out;
}

std::multiset<std::string> scan_all(resp::Session& s, std::vector<std::string> options, std::size_t* calls = nullptr) {
    std::multiset<std::string> out;
    std::string cursor = "0";
    std::size_t n = 0;
    do {
        REQUIRE(++n < 1000);
        std::vector<std::string> cmd{"SCAN", cursor};
        cmd.insert(cmd.end(), options.begin(), options.end());
        auto [next, keys] = parse_scan(test::run(s, cmd));
        out.insert(keys.begin(), keys.end());
        cursor = next;
    } while (cursor != "0");
    if (calls) *calls = n;
    return out;
}
}  // namespace

TEST_CASE("scan: SCAN walks the selected database's namespace with MATCH, COUNT and TYPE", "[scan][resp]") {
    test::Cluster c(3);
    NamespaceProps carts;
    carts.datatype = "set";
    for (std::uint32_t i = 1; i <= 3; ++i) c.node(i).set_namespaces({{"carts", carts}});
    HarnessCore core(c);
    resp::SessionConfig config;
    config.databases = {"default", "carts"};
    resp::Session s(core, config);
    std::set<std::string> want, users;
    for (int i = 0; i < 60; ++i) {
        const std::string key = (i % 2 ? "user:" : "item:") + std::to_string(i);
        REQUIRE(test::run(s, {"SET", key, "v"}) == "+OK\r\n");
        want.insert(key);
        if (i % 2) users.insert(key);
    }
    REQUIRE(test::run(s, {"DEL", "item:0"}) == ":1\r\n");
    want.erase("item:0");
    std::size_t calls = 0;
    const auto all = scan_all(s, {"COUNT", "7"}, &calls);
    CHECK(std::set<std::string>(all.begin(), all.end()) == want);
    CHECK(all.size() == want.size());
    CHECK(calls > 2);  // paged
    const auto matched = scan_all(s, {"MATCH", "user:*"});
    CHECK(std::set<std::string>(matched.begin(), matched.end()) == users);
    const auto by_pattern = scan_all(s, {"MATCH", "*:1?"});
    for (const auto& k : by_pattern) CHECK(resp::glob_match("*:1?", k));
    CHECK(by_pattern.size() == 10);  // 10..19
    CHECK(scan_all(s, {"TYPE", "set"}).empty());
    CHECK(scan_all(s, {"TYPE", "string"}).size() == want.size());
    // Another database is another namespace.
    REQUIRE(test::run(s, {"SELECT", "1"}) == "+OK\r\n");
    REQUIRE(test::run(s, {"SADD", "cart:1", "apple"}) == ":1\r\n");
    CHECK(scan_all(s, {}) == std::multiset<std::string>{"cart:1"});
    CHECK(scan_all(s, {"TYPE", "SET"}) == std::multiset<std::string>{"cart:1"});
    // Errors a client can act on.
    CHECK(test::run(s, {"SCAN", "x"}) == "-ERR invalid cursor\r\n");
    CHECK(test::run(s, {"SCAN", "12345"}).rfind("-ERR invalid cursor (this node does not know it", 0) == 0);
    CHECK(test::run(s, {"SCAN", "0", "COUNT", "0"}) == "-ERR syntax error\r\n");
    CHECK(test::run(s, {"SCAN", "0", "COUNT"}) == "-ERR syntax error\r\n");
    CHECK(test::run(s, {"SCAN", "0", "BOGUS", "1"}) == "-ERR syntax error\r\n");
    CHECK(test::run(s, {"SCAN", "0", "MATCH", std::string(256, '*')}).rfind("*2\r\n", 0) == 0);
    CHECK(test::run(s, {"SCAN", "0", "MATCH", std::string(257, '*')}).rfind("-ERR MATCH pattern longer", 0) == 0);
    CHECK(test::run(s, {"SCAN"}) == "-ERR wrong number of arguments for 'scan' command\r\n");
}

TEST_CASE("scan: one SCAN call's matching is bounded; the cursor goes on after the last key matched", "[scan][resp]") {
    const NodeConfig one = test::one_copy();
    const auto one_partition = one_partition_ring();
    test::Cluster c(1, one, one_partition);
    HarnessCore core(c);
    resp::Session s(core, resp::SessionConfig{});
    std::set<std::string> want;
    for (int i = 0; i < 40; ++i) {
        std::string key = "k" + std::to_string(100 + i);
        key.resize(1000, 'x');
        REQUIRE(test::run(s, {"SET", key, "v"}) == "+OK\r\n");
        want.insert(key);
    }
    // A pattern of 256 stars against 1,000-byte keys: each key's match may cost
    // 2 * 257 * 1001 = 514,514 comparisons, and a call spends at most 2^23: 16 keys.
    const std::string stars(256, '*');
    auto [cursor, keys] = parse_scan(test::run(s, {"SCAN", "0", "MATCH", stars, "COUNT", "1000"}));
    CHECK(keys.size() == 16);
    CHECK(cursor != "0");
    std::size_t calls = 0;
    const auto all = scan_all(s, {"MATCH", stars, "COUNT", "1000"}, &calls);
    CHECK(std::set<std::string>(all.begin(), all.end()) == want);
    CHECK(all.size() == want.size());  // each key once, across calls cut mid-page
    CHECK(calls == 3);                 // 16 + 16 + 8
    // A short pattern costs little: one call lists them all.
    auto [end, every] = parse_scan(test::run(s, {"SCAN", "0", "MATCH", "k*", "COUNT", "1000"}));
    CHECK(end == "0");
    CHECK(every.size() == 40);
}
