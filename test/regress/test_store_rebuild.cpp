// Regression of the bounds issue, defect 4 (the second half): after a compaction met
// "Corruption: bad block type" the node could never write again, restarted into the same
// state and still reported healthy. Now corruption that a reopen does not clear makes
// the store unusable, and shoald moves it aside and starts again on a fresh store that
// keeps the node's identity (StoreHealth decides; server/store_rebuild does it).
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>

#include "../unit/store_test_util.h"
#include "core/errc.h"
#include "gossip/view.h"
#include "net/store_health.h"
#include "replica/node.h"
#include "server/store_rebuild.h"
#include "store/keys.h"
#include "store/leveldb_store.h"

namespace shoal::test {

namespace {

using clock = net::StoreHealth::clock;

// A StoreHealth whose reopen answers `reopen_result` and whose rebuild counts calls.
struct Probe {
    std::error_code reopen_result;
    int reopens = 0;
    int rebuilds = 0;
    net::StoreHealth health{[this] {
                                ++reopens;
                                return reopen_result;
                            },
                            [] { return std::error_code(); },
                            [this](std::error_code why) {
                                CHECK(why == errc::corrupt);
                                ++rebuilds;
                            },
                            ""};
};

gossip::ClusterView one_member_view() {
    gossip::ClusterView v = gossip::ClusterView::empty(8);
    gossip::MemberRecord m;
    m.id = NodeId{2};
    m.peer_address = "127.0.0.1:7002";
    v.members.emplace(m.id, m);
    return v;
}

// Overwrites LevelDB's descriptor with garbage: the next open fails as corrupt.
void damage_manifest(const std::string& dir) {
    bool found = false;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        if (entry.path().filename().string().rfind("MANIFEST-", 0) != 0) continue;
        std::ofstream f(entry.path(), std::ios::binary | std::ios::trunc);
        f << std::string(512, '\xab');
        found = true;
    }
    REQUIRE(found);
}

}  // namespace

TEST_CASE("regress: corruption that comes back after a reopen makes the store unusable, and it is rebuilt",
          "[regress][corrupt]") {
    Probe p;
    const auto t0 = clock::now();
    p.health.commit_failed(errc::corrupt, t0);
    REQUIRE(p.health.try_recover(t0 + net::StoreHealth::k_recovery_interval));  // a reopen clears it once
    CHECK(p.reopens == 1);
    CHECK_FALSE(p.health.unusable());

    // The compaction meets the same damaged block: corrupt again, soon after.
    p.health.commit_failed(errc::corrupt, t0 + std::chrono::seconds(30));
    CHECK(p.health.unusable());
    CHECK(p.health.health_json().find("\"store\":\"unusable\"") != std::string::npos);
    CHECK_FALSE(p.health.try_recover(t0 + std::chrono::seconds(31)));  // no wait: rebuilt at once
    CHECK(p.rebuilds == 1);
    CHECK(p.reopens == 1);  // not reopened again
}

TEST_CASE("regress: a reopen that finds the store corrupt makes it unusable", "[regress][corrupt]") {
    Probe p;
    p.reopen_result = errc::corrupt;
    const auto t0 = clock::now();
    p.health.commit_failed(errc::corrupt, t0);
    CHECK_FALSE(p.health.try_recover(t0 + net::StoreHealth::k_recovery_interval));
    CHECK(p.health.unusable());
    CHECK_FALSE(p.health.try_recover(t0 + net::StoreHealth::k_recovery_interval));
    CHECK(p.rebuilds == 1);
}

TEST_CASE("a full disk or corruption long after a recovery is not a reason to rebuild", "[store][health]") {
    Probe p;
    p.reopen_result = errc::store_full;
    const auto t0 = clock::now();
    p.health.commit_failed(errc::store_full, t0);
    for (int i = 1; i <= 5; ++i) CHECK_FALSE(p.health.try_recover(t0 + net::StoreHealth::k_recovery_interval * i));
    CHECK(p.reopens == 5);
    CHECK_FALSE(p.health.unusable());

    Probe q;
    q.health.commit_failed(errc::corrupt, t0);
    REQUIRE(q.health.try_recover(t0 + net::StoreHealth::k_recovery_interval));
    q.health.commit_failed(errc::corrupt, t0 + net::StoreHealth::k_corrupt_window + std::chrono::minutes(1));
    CHECK_FALSE(q.health.unusable());  // a new fault, not the old one back: reopen first
    CHECK(q.rebuilds == 0);
}

TEST_CASE("regress: a store that no longer opens is moved aside and rebuilt with the node's metadata",
          "[regress][corrupt]") {
    TempDir dir;
    const std::string db_dir = dir.path() + "/db";
    std::uint32_t incarnation = 0;
    {
        std::error_code ec;
        auto db = store::LevelStore::open(db_dir, {}, ec);
        REQUIRE(db);
        REQUIRE_FALSE(gossip::save_view(*db, one_member_view(), true));
        REQUIRE_FALSE(replica::bump_incarnation(*db, incarnation, 41));
        put(*db, store::data_key(PartitionId{3}, "cart/alice"), "state", true);
    }
    damage_manifest(db_dir);
    std::error_code ec;
    REQUIRE(store::LevelStore::open(db_dir, {}, ec) == nullptr);
    REQUIRE(ec == errc::corrupt);  // what the node met before: it could not start

    std::string err;
    auto db = server::open_or_rebuild(db_dir, {}, ec, err);
    REQUIRE(db);
    INFO(err);
    CHECK(std::filesystem::exists(db_dir + ".damaged"));
    std::optional<gossip::ClusterView> view;
    REQUIRE_FALSE(gossip::load_view(*db, view));
    REQUIRE(view);
    CHECK(view->members.count(NodeId{2}) == 1);
    CHECK_FALSE(read(*db, store::data_key(PartitionId{3}, "cart/alice")));  // data comes from the replicas
    std::uint32_t next = 0;
    REQUIRE_FALSE(replica::bump_incarnation(*db, next));
    CHECK(next > incarnation);  // dots of the earlier life are never issued again
    const net::StoreRebuilt rebuilt = server::read_rebuilt(*db);
    CHECK(rebuilt.count == 1);
    CHECK(rebuilt.reason == "corrupt at start");
}

TEST_CASE("a corrupt store without a cluster view is put back and the start fails with a reason", "[store][corrupt]") {
    TempDir dir;
    const std::string db_dir = dir.path() + "/db";
    {
        std::error_code ec;
        auto db = store::LevelStore::open(db_dir, {}, ec);
        REQUIRE(db);
        put(*db, store::data_key(PartitionId{3}, "cart/alice"), "state", true);
    }
    damage_manifest(db_dir);
    std::error_code ec;
    std::string err;
    CHECK(server::open_or_rebuild(db_dir, {}, ec, err) == nullptr);
    CHECK(ec == errc::corrupt);
    CHECK(err.find("cluster view could not be salvaged") != std::string::npos);
    CHECK(std::filesystem::exists(db_dir));
    CHECK_FALSE(std::filesystem::exists(db_dir + ".damaged"));
}

}  // namespace shoal::test
