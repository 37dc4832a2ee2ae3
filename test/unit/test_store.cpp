// Store contract tests, run against every Store, plus per-implementation behaviour
// (MemStore crash and faults, LevelStore reopen; BufferedStore has its own file) and the
// key layout.
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "core/errc.h"
#include "store/buffered_store.h"
#include "store/keys.h"
#include "store/leveldb_store.h"
#include "store/memory_store.h"
#include "store/store.h"
#include "store_test_util.h"

using namespace shoal;
using namespace shoal::store;
using namespace shoal::test;

namespace {

std::unique_ptr<LevelStore> open_level(const std::string& dir, LevelOptions opts = {}) {
    opts.block_cache_bytes = 1024 * 1024;
    opts.write_buffer_bytes = 1024 * 1024;
    std::error_code ec;
    auto db = LevelStore::open(dir, opts, ec);
    REQUIRE_FALSE(ec);
    REQUIRE(db != nullptr);
    return db;
}

struct MemFixture {
    MemStore mem;
    Store& store() { return mem; }
};

struct LevelFixture {
    TempDir dir;
    std::unique_ptr<LevelStore> db = open_level(dir.path() + "/db");
    Store& store() { return *db; }
};

struct BufferedBatchFixture {
    MemStore mem;
    BufferedStore buf{mem, SyncMode::batch};
    Store& store() { return buf; }
};

struct BufferedAlwaysFixture {
    MemStore mem;
    BufferedStore buf{mem, SyncMode::always};
    Store& store() { return buf; }
};


}  // namespace

// ---- the contract every Store keeps ------------------------------------------------

TEMPLATE_TEST_CASE("store contract", "[store]", MemFixture, LevelFixture, BufferedBatchFixture, BufferedAlwaysFixture) {
    TestType fx;
    Store& s = fx.store();

    SECTION("absent key reads as nullopt") {
        CHECK(read(s, "nope") == std::nullopt);
    }

    SECTION("put, overwrite, delete") {
        put(s, "k", "v1");
        CHECK(read(s, "k") == "v1");
        put(s, "k", "v2");
        CHECK(read(s, "k") == "v2");
        del(s, "k");
        CHECK(read(s, "k") == std::nullopt);
        del(s, "never-there");
        CHECK(read(s, "never-there") == std::nullopt);
    }

    SECTION("binary keys and values round-trip exactly") {
        const std::string key("a\0b\xff", 4);
        const std::string value("\0\x01\xfe", 3);
        put(s, key, value);
        CHECK(read(s, key) == value);
        CHECK(read(s, std::string("a\0b", 3)) == std::nullopt);
        put(s, "empty", "");
        CHECK(read(s, "empty") == std::string());
    }

    SECTION("a batch applies in order: the later op for a key wins") {
        put(s, "gone", "x");
        WriteBatch b;
        b.put("a", "1");
        b.put("b", "2");
        b.del("a");
        b.put("c", "3");
        b.put("c", "4");
        b.del("gone");
        b.put("back", "old");
        b.del("back");
        b.put("back", "new");
        REQUIRE_FALSE(s.write(b, false));
        CHECK(read(s, "a") == std::nullopt);
        CHECK(read(s, "b") == "2");
        CHECK(read(s, "c") == "4");
        CHECK(read(s, "gone") == std::nullopt);
        CHECK(read(s, "back") == "new");
    }

    SECTION("an empty batch is fine") {
        REQUIRE_FALSE(s.write(WriteBatch{}, false));
        REQUIRE_FALSE(s.write(WriteBatch{}, true));
        CHECK(scan_all(s, "", "").empty());
    }

    SECTION("scan: byte order, bounds, early stop, deletes hidden") {
        for (const char* k : {"d", "b", "a", "c2", "c", "e"}) put(s, k, std::string("v") + k);
        put(s, "\xff", "high");  // must sort after ASCII: bytes compare unsigned
        put(s, "dead", "x");
        del(s, "dead");
        CHECK(scan_all(s, "b", "d") == Pairs{{"b", "vb"}, {"c", "vc"}, {"c2", "vc2"}});
        CHECK(scan_all(s, "c1", "") == Pairs{{"c2", "vc2"}, {"d", "vd"}, {"e", "ve"}, {"\xff", "high"}});
        CHECK(scan_all(s, "", "", 2) == Pairs{{"a", "va"}, {"b", "vb"}});
        CHECK(scan_all(s, "b", "b").empty());
        CHECK(scan_all(s, "zz", "\xff").empty());
    }

    SECTION("scanning a partition's data_range sees only that partition") {
        put(s, data_key(PartitionId{1}, "\xff\xff"), "p1");
        put(s, data_key(PartitionId{2}, "x"), "p2x");
        put(s, data_key(PartitionId{2}, "a"), "p2a");
        put(s, data_key(PartitionId{3}, ""), "p3");
        put(s, data_key(PartitionId{0x100 + 2}, "a"), "p258");
        put(s, meta_key("claim"), "m");
        put(s, hint_key(NodeId{2}, 1), "h");
        KeyRange r = data_range(PartitionId{2});
        std::vector<std::string> users;
        auto ec = s.scan(r.begin, r.end, [&](std::string_view k, std::string_view) {
            PartitionId p;
            std::string_view user;
            REQUIRE(parse_data_key(k, p, user));
            CHECK(p == PartitionId{2});
            users.emplace_back(user);
            return true;
        });
        REQUIRE_FALSE(ec);
        CHECK(users == std::vector<std::string>{"a", "x"});
    }

    SECTION("sync and synced writes succeed and keep the data") {
        put(s, "a", "1");
        REQUIRE_FALSE(s.sync());
        put(s, "b", "2", true);
        REQUIRE_FALSE(s.sync());
        CHECK(scan_all(s, "", "") == Pairs{{"a", "1"}, {"b", "2"}});
    }
}

// ---- MemStore ------------------------------------------------------------------------

TEST_CASE("MemStore crash loses exactly the unsynced writes", "[store][mem]") {
    MemStore m;
    put(m, "a", "1");
    put(m, "b", "2");
    put(m, "gone", "x");
    REQUIRE_FALSE(m.sync());
    del(m, "gone", true);  // a synced delete

    put(m, "a", "10");
    put(m, "a", "11");  // two unsynced writes to one key: the durable value is still "1"
    del(m, "b");
    put(m, "c", "3");
    put(m, "gone", "back");
    REQUIRE(m.size() == 3);

    m.crash();
    CHECK(scan_all(m, "", "") == Pairs{{"a", "1"}, {"b", "2"}});
    CHECK(m.size() == 2);

    SECTION("a crash with nothing unsynced changes nothing") {
        m.crash();
        CHECK(scan_all(m, "", "") == Pairs{{"a", "1"}, {"b", "2"}});
    }
    SECTION("a synced write makes earlier unsynced writes durable too") {
        put(m, "u", "unsynced");
        put(m, "s", "synced", true);
        put(m, "later", "lost");
        m.crash();
        CHECK(scan_all(m, "", "") == Pairs{{"a", "1"}, {"b", "2"}, {"s", "synced"}, {"u", "unsynced"}});
    }
}

TEST_CASE("MemStore fail_next_writes fails exactly n writes, applying nothing", "[store][mem]") {
    MemStore m;
    put(m, "a", "1");  // unsynced
    m.fail_next_writes(2);
    WriteBatch b;
    b.put("x", "1");
    b.del("a");
    CHECK(m.write(b, true) == errc::store_error);
    CHECK(m.write(b, false) == errc::store_error);
    CHECK(read(m, "x") == std::nullopt);
    CHECK(read(m, "a") == "1");
    m.crash();  // the failed synced write synced nothing
    CHECK(read(m, "a") == std::nullopt);
    REQUIRE_FALSE(m.write(b, false));
    CHECK(read(m, "x") == "1");
}

TEST_CASE("MemStore wipe loses durable and unsynced data", "[store][mem]") {
    MemStore m;
    put(m, "a", "1", true);
    put(m, "b", "2");
    m.wipe();
    CHECK(m.size() == 0);
    m.crash();
    CHECK(m.size() == 0);
    CHECK(read(m, "a") == std::nullopt);
    put(m, "c", "3");
    CHECK(m.size() == 1);
}

// ---- LevelStore ----------------------------------------------------------------------

TEST_CASE("LevelStore keeps synced data across a reopen", "[store][leveldb]") {
    TempDir dir;
    const std::string path = dir.path() + "/db";
    {
        auto db = open_level(path);
        put(*db, "a", "1", true);
        put(*db, "b", "2");
        del(*db, "a");
        REQUIRE_FALSE(db->sync());
    }
    auto db = open_level(path);
    CHECK(scan_all(*db, "", "") == Pairs{{"b", "2"}});
}

TEST_CASE("LevelStore's log grows in zero-filled steps and is read back through them", "[store][leveldb]") {
    TempDir dir;
    const std::string path = dir.path() + "/db";
    LevelOptions opts;
    opts.log_step_bytes = 64 * 1024;
    const std::string value(1000, 'v');
    const auto log_bytes = [&] {
        std::uintmax_t total = 0;
        for (const auto& f : std::filesystem::directory_iterator(path))
            if (f.path().extension() == ".log") total += f.file_size();
        return total;
    };
    {
        std::error_code ec;
        auto db = LevelStore::open(path, opts, ec);
        REQUIRE(db);
        for (int i = 0; i < 300; ++i) put(*db, "k" + std::to_string(1000 + i), value, /*sync=*/true);
        // ~300 KB of records: five steps of zeros, the file never smaller than its records.
        const auto bytes = log_bytes();
        CHECK(bytes % opts.log_step_bytes == 0);
        CHECK(bytes >= 300 * value.size());
        CHECK(bytes < 300 * value.size() + 2 * opts.log_step_bytes);
    }
    // Reopened: LevelDB recovers every record from the log and skips the zeros after them.
    std::error_code ec;
    auto db = LevelStore::open(path, opts, ec);
    REQUIRE(db);
    const Pairs all = scan_all(*db, "", "", 1000);
    REQUIRE(all.size() == 300);
    CHECK(all.front() == std::pair<std::string, std::string>{"k1000", value});
    CHECK(all.back() == std::pair<std::string, std::string>{"k1299", value});
    put(*db, "after", "reopen", true);  // and takes writes again, on a new log
    CHECK(read(*db, "after") == std::optional<std::string>{"reopen"});
}

TEST_CASE("memtable sizes differ between the nodes of a cluster", "[store][leveldb]") {
    const std::size_t base = 16 * 1024 * 1024;
    std::vector<std::size_t> sizes;
    for (std::uint32_t id = 1; id <= 8; ++id) sizes.push_back(store::staggered_write_buffer(base, id));
    std::vector<std::size_t> sorted = sizes;
    std::sort(sorted.begin(), sorted.end());
    CHECK(std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end());  // eight different sizes
    CHECK(sorted.front() == base);                                           // id 8
    CHECK(sorted.back() == base + base / 16 * 7);                            // id 7: under 1.5 x
    CHECK(store::staggered_write_buffer(base, 9) == store::staggered_write_buffer(base, 1));
    CHECK(store::staggered_write_buffer(base, 2) - store::staggered_write_buffer(base, 1) == base / 16);
}

TEST_CASE("LevelStore open failures are store_error", "[store][leveldb]") {
    TempDir dir;
    std::error_code ec;
    SECTION("missing database without create_if_missing") {
        LevelOptions opts;
        opts.create_if_missing = false;
        auto db = LevelStore::open(dir.path() + "/missing", opts, ec);
        CHECK(db == nullptr);
        CHECK(ec == errc::store_error);
    }
    SECTION("a database already open holds its lock") {
        auto first = open_level(dir.path() + "/db");
        auto second = LevelStore::open(dir.path() + "/db", LevelOptions{}, ec);
        CHECK(second == nullptr);
        CHECK(ec == errc::store_error);
    }
}

// ---- key layout ----------------------------------------------------------------------

TEST_CASE("data keys: exact bytes and round-trip", "[store][keys]") {
    CHECK(data_key(PartitionId{0x01020304}, "k") == std::string("d\x01\x02\x03\x04k", 6));
    const std::string user("u\0\xff", 3);
    std::string stored = data_key(PartitionId{0xfffffffe}, user);
    PartitionId p;
    std::string_view parsed;
    REQUIRE(parse_data_key(stored, p, parsed));
    CHECK(p == PartitionId{0xfffffffe});
    CHECK(parsed == user);

    CHECK_FALSE(parse_data_key(meta_key("claim"), p, parsed));
    CHECK_FALSE(parse_data_key(hint_key(NodeId{1}, 1), p, parsed));
    CHECK_FALSE(parse_data_key(std::string("d\0\0\0", 4), p, parsed));
    CHECK(meta_key("claim") == "mclaim");
}

TEST_CASE("data keys sort by partition first, numerically", "[store][keys]") {
    CHECK(data_key(PartitionId{1}, "\xff\xff\xff") < data_key(PartitionId{2}, ""));
    CHECK(data_key(PartitionId{2}, "zzz") < data_key(PartitionId{256}, "a"));
    CHECK(data_key(PartitionId{256}, "a") < data_key(PartitionId{0xffffffff}, ""));
    CHECK(data_key(PartitionId{2}, "a") < data_key(PartitionId{2}, "b"));
}

TEST_CASE("data_range covers its partition and excludes the neighbours", "[store][keys]") {
    auto inside = [](const KeyRange& r, const std::string& k) { return r.begin <= k && k < r.end; };
    for (std::uint32_t v : {0u, 1u, 255u, 256u, 0xfffffffeu, 0xffffffffu}) {
        INFO("partition " << v);
        KeyRange r = data_range(PartitionId{v});
        REQUIRE_FALSE(r.end.empty());
        CHECK(inside(r, data_key(PartitionId{v}, "")));
        CHECK(inside(r, data_key(PartitionId{v}, "\xff\xff\xff\xff\xff")));
        if (v > 0) CHECK_FALSE(inside(r, data_key(PartitionId{v - 1}, "\xff\xff\xff\xff\xff")));
        if (v < 0xffffffffu) CHECK_FALSE(inside(r, data_key(PartitionId{v + 1}, "")));
        CHECK_FALSE(inside(r, hint_key(NodeId{0}, 0)));
        CHECK_FALSE(inside(r, meta_key("")));
    }
    CHECK(data_range(PartitionId{0xffffffff}).end == "e");
}

TEST_CASE("hint keys: exact bytes, seq order, ranges", "[store][keys]") {
    CHECK(hint_key(NodeId{7}, 0x0102) == std::string("h\0\0\0\x07\0\0\0\0\0\0\x01\x02", 13));
    CHECK(hint_key(NodeId{7}, 255) < hint_key(NodeId{7}, 256));
    CHECK(hint_key(NodeId{7}, ~0ull) < hint_key(NodeId{8}, 0));

    NodeId target;
    std::uint64_t seq = 0;
    REQUIRE(parse_hint_key(hint_key(NodeId{0xabcdef01}, 0x1122334455667788ull), target, seq));
    CHECK(target == NodeId{0xabcdef01});
    CHECK(seq == 0x1122334455667788ull);
    CHECK_FALSE(parse_hint_key(data_key(PartitionId{1}, "12345678"), target, seq));

    KeyRange r = hint_range(NodeId{7});
    CHECK(r.begin <= hint_key(NodeId{7}, 0));
    CHECK(hint_key(NodeId{7}, ~0ull) < r.end);
    CHECK_FALSE(hint_key(NodeId{6}, ~0ull) >= r.begin);
    CHECK_FALSE(hint_key(NodeId{8}, 0) < r.end);
    CHECK(hint_range(NodeId{0xffffffff}).end == "i");
}

TEST_CASE("sync modes parse and print", "[store]") {
    for (SyncMode m : {SyncMode::none, SyncMode::batch, SyncMode::always})
        CHECK(parse_sync_mode(sync_mode_name(m)) == m);
    CHECK(sync_mode_name(SyncMode::batch) == "batch");
    CHECK(parse_sync_mode("Batch") == std::nullopt);
    CHECK(parse_sync_mode("") == std::nullopt);
}

TEST_CASE("WriteBatch counts bytes and clears", "[store]") {
    WriteBatch b;
    b.put("key", "value");
    b.del("gone");
    CHECK(b.size_bytes() == 3 + 5 + 4);
    REQUIRE(b.ops().size() == 2);
    CHECK(b.ops()[1].is_delete);
    CHECK(b.ops()[1].key == "gone");
    b.clear();
    CHECK(b.empty());
    CHECK(b.size_bytes() == 0);
}
