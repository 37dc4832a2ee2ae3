// BufferedStore: staging and numbered batches, outstanding batches visible until done,
// the merged scan, synced writes, lost batches, and the read cache. (The Store contract
// itself runs against it in test_store.cpp.)
#include <catch2/catch.hpp>

#include "core/errc.h"
#include "store/buffered_store.h"
#include "store/memory_store.h"
#include "store_test_util.h"

using namespace shoal;
using namespace shoal::store;
using namespace shoal::test;

// ---- BufferedStore -------------------------------------------------------------------

TEST_CASE("BufferedStore reads see uncommitted writes the inner store lacks", "[store][buffered]") {
    MemStore mem;
    put(mem, "old", "inner", true);
    BufferedStore buf(mem, SyncMode::batch);
    put(buf, "new", "1");
    del(buf, "old");
    put(buf, "new", "2");
    CHECK(buf.pending_ops() == 3);
    CHECK(read(buf, "new") == "2");
    CHECK(read(buf, "old") == std::nullopt);
    CHECK(read(mem, "new") == std::nullopt);
    CHECK(read(mem, "old") == "inner");
}

TEST_CASE("BufferedStore commit_now is one synced inner write", "[store][buffered]") {
    MemStore mem;
    CountingStore counting(mem);
    BufferedStore buf(counting, SyncMode::batch);
    for (int i = 0; i < 5; ++i) put(buf, "k" + std::to_string(i), "v");
    del(buf, "k0");
    CHECK(counting.writes == 0);

    REQUIRE_FALSE(buf.commit_now());
    CHECK(counting.writes == 1);
    CHECK(counting.last_write_synced);
    CHECK(counting.last_write_ops == 6);
    CHECK(buf.pending_ops() == 0);
    CHECK(buf.overlay_keys() == 0);

    REQUIRE_FALSE(buf.commit_now());  // nothing staged: nothing to do
    CHECK(counting.writes == 1);
    CHECK(counting.syncs == 0);

    mem.crash();  // committed means durable
    CHECK(scan_all(buf, "", "") == Pairs{{"k1", "v"}, {"k2", "v"}, {"k3", "v"}, {"k4", "v"}});
}

TEST_CASE("BufferedStore writes lost before commit never reached the inner store", "[store][buffered]") {
    MemStore mem;
    put(mem, "a", "durable", true);
    {
        BufferedStore buf(mem, SyncMode::batch);
        put(buf, "a", "uncommitted");
        put(buf, "b", "uncommitted");
        CHECK(read(mem, "a") == "durable");
        CHECK(mem.size() == 1);
    }  // the node dies here
    mem.crash();
    BufferedStore restarted(mem, SyncMode::batch);
    CHECK(scan_all(restarted, "", "") == Pairs{{"a", "durable"}});
}

TEST_CASE("BufferedStore batches are numbered and carry the mode's sync flag", "[store][buffered]") {
    MemStore mem;
    StagedBatch b;
    SECTION("batch mode: synced") {
        BufferedStore buf(mem, SyncMode::batch);
        CHECK_FALSE(buf.take_batch(b));  // nothing staged
        put(buf, "a", "1");
        REQUIRE(buf.take_batch(b));
        CHECK(b.seq == 1);
        CHECK(b.sync);
        CHECK(b.writes.ops().size() == 1);
        CHECK(buf.last_seq() == 1);
        put(buf, "b", "2");
        REQUIRE(buf.take_batch(b));
        CHECK(b.seq == 2);
    }
    SECTION("none mode: unsynced, unless a write asked for sync while a batch was out") {
        BufferedStore buf(mem, SyncMode::none);
        put(buf, "a", "1");
        REQUIRE(buf.take_batch(b));
        CHECK_FALSE(b.sync);
        put(buf, "b", "2", true);  // batch 1 is still out: staged, and the next batch syncs
        CHECK(mem.size() == 0);
        StagedBatch next;
        REQUIRE(buf.take_batch(next));
        CHECK(next.sync);
        CHECK(next.seq == 2);
    }
}

TEST_CASE("BufferedStore keeps an outstanding batch visible until it is done", "[store][buffered]") {
    MemStore mem;
    put(mem, "old", "inner", true);
    BufferedStore buf(mem, SyncMode::batch);
    put(buf, "a", "1");
    put(buf, "k", "first");
    StagedBatch first;
    REQUIRE(buf.take_batch(first));
    put(buf, "k", "second");  // staged while the first batch is out
    del(buf, "old");
    CHECK(read(buf, "a") == "1");
    CHECK(read(buf, "k") == "second");
    CHECK(read(buf, "old") == std::nullopt);

    // The commit thread writes the first batch; only its keys leave the overlay.
    REQUIRE_FALSE(mem.write(first.writes, first.sync));
    buf.batch_done(first.seq, {});
    CHECK(buf.overlay_keys() == 2);  // k (rewritten since) and old
    CHECK(read(buf, "a") == "1");
    CHECK(read(buf, "k") == "second");
    CHECK(read(mem, "k") == "first");
    CHECK(scan_all(buf, "", "") == Pairs{{"a", "1"}, {"k", "second"}});

    StagedBatch second;
    REQUIRE(buf.take_batch(second));
    REQUIRE_FALSE(mem.write(second.writes, second.sync));
    buf.batch_done(second.seq, {});
    CHECK(buf.overlay_keys() == 0);
    mem.crash();
    CHECK(scan_all(mem, "", "") == Pairs{{"a", "1"}, {"k", "second"}});
}

TEST_CASE("BufferedStore scan merges staged writes with the inner store, writing nothing", "[store][buffered]") {
    MemStore mem;
    CountingStore counting(mem);
    for (const char* k : {"b", "d", "f"}) put(mem, k, std::string("inner-") + k, true);
    BufferedStore buf(counting, SyncMode::batch);
    put(buf, "a", "staged-a");
    put(buf, "d", "staged-d");
    del(buf, "f");
    put(buf, "g", "staged-g");
    CHECK(scan_all(buf, "", "") ==
          Pairs{{"a", "staged-a"}, {"b", "inner-b"}, {"d", "staged-d"}, {"g", "staged-g"}});
    CHECK(scan_all(buf, "b", "g") == Pairs{{"b", "inner-b"}, {"d", "staged-d"}});
    CHECK(scan_all(buf, "c", "") == Pairs{{"d", "staged-d"}, {"g", "staged-g"}});
    CHECK(scan_all(buf, "", "", 2) == Pairs{{"a", "staged-a"}, {"b", "inner-b"}});  // the visitor stops it
    CHECK(counting.writes == 0);
    CHECK(buf.pending_ops() == 4);
}

TEST_CASE("BufferedStore synced writes", "[store][buffered]") {
    MemStore mem;
    CountingStore counting(mem);
    SECTION("write(sync=true) with no batch out carries the staged writes with it, at once") {
        BufferedStore buf(counting, SyncMode::batch);
        put(buf, "a", "1");
        put(buf, "b", "2", true);
        CHECK(counting.writes == 1);
        CHECK(counting.last_write_synced);
        CHECK(counting.last_write_ops == 2);
        CHECK(buf.pending_ops() == 0);
        CHECK(buf.overlay_keys() == 0);
    }
    SECTION("always mode commits every write synced at once") {
        BufferedStore buf(counting, SyncMode::always);
        put(buf, "a", "1");
        CHECK(buf.pending_ops() == 0);
        put(buf, "b", "2");
        CHECK(counting.writes == 2);
        CHECK(counting.last_write_synced);
        CHECK(counting.last_write_ops == 1);
        StagedBatch b;
        CHECK_FALSE(buf.take_batch(b));
    }
    mem.crash();
    CHECK(scan_all(mem, "", "") == Pairs{{"a", "1"}, {"b", "2"}});
}

TEST_CASE("BufferedStore a failed synced write keeps what was staged before it", "[store][buffered]") {
    MemStore mem;
    BufferedStore buf(mem, SyncMode::batch);
    put(buf, "a", "staged");
    mem.fail_next_writes(1);
    WriteBatch b;
    b.put("b", "synced");
    CHECK(buf.write(b, true) == errc::store_error);
    CHECK(read(buf, "a") == "staged");
    CHECK(read(buf, "b") == std::nullopt);
    CHECK(buf.pending_ops() == 1);
}

TEST_CASE("BufferedStore a lost batch drops its writes and every write staged after it", "[store][buffered]") {
    MemStore mem;
    put(mem, "a", "durable", true);
    BufferedStore buf(mem, SyncMode::batch);
    put(buf, "a", "new");
    StagedBatch b;
    REQUIRE(buf.take_batch(b));
    put(buf, "c", "read-the-lost-state");
    buf.batch_done(b.seq, make_error_code(errc::store_error));
    CHECK(buf.pending_ops() == 0);
    CHECK(buf.overlay_keys() == 0);
    CHECK(read(buf, "a") == "durable");
    CHECK(read(buf, "c") == std::nullopt);
    StagedBatch none;
    CHECK_FALSE(buf.take_batch(none));

    put(buf, "a", "retried");
    REQUIRE_FALSE(buf.commit_now());
    mem.crash();
    CHECK(read(mem, "a") == "retried");
}

// ---- BufferedStore read cache ----------------------------------------------------------

TEST_CASE("BufferedStore read cache serves hot keys and stays exact through writes", "[store][buffered][cache]") {
    MemStore mem;
    put(mem, "a", "inner-a", true);
    put(mem, "b", "inner-b", true);
    BufferedStore buf(mem, SyncMode::batch, 1 << 20);
    CHECK(read(buf, "a") == "inner-a");  // a miss fills the cache
    CHECK(buf.cache_misses() == 1);
    CHECK(read(buf, "a") == "inner-a");
    CHECK(buf.cache_hits() == 1);

    put(buf, "a", "new-a");
    del(buf, "b");
    REQUIRE_FALSE(buf.commit_now());
    CHECK(buf.overlay_keys() == 0);
    CHECK(read(buf, "a") == "new-a");  // the write updated the cache
    CHECK(read(buf, "b") == std::nullopt);
    CHECK(buf.cached_keys() == 1);

    SECTION("a lost batch clears it") {
        put(buf, "a", "lost");
        StagedBatch b;
        REQUIRE(buf.take_batch(b));
        buf.batch_done(b.seq, make_error_code(errc::store_error));
        CHECK(buf.cached_keys() == 0);
        CHECK(read(buf, "a") == "new-a");
    }
    SECTION("forget_cached drops it, so a change behind its back shows") {
        put(mem, "a", "changed-on-disk", true);
        CHECK(read(buf, "a") == "new-a");  // the cache does not know
        buf.forget_cached();
        CHECK(read(buf, "a") == "changed-on-disk");
    }
}

TEST_CASE("BufferedStore read cache stays within its bytes", "[store][buffered][cache]") {
    MemStore mem;
    BufferedStore buf(mem, SyncMode::batch, 1000);  // a value of over 125 bytes is never cached
    for (int i = 0; i < 50; ++i) put(buf, "k" + std::to_string(i), std::string(100, 'v'));
    CHECK(buf.cached_keys() <= 10);  // 1000 bytes / (2-3 + 100) per entry
    CHECK(buf.cached_keys() >= 9);
    put(buf, "big", std::string(200, 'v'));
    REQUIRE_FALSE(buf.commit_now());
    CHECK(read(buf, "big") == std::string(200, 'v'));
    CHECK(read(buf, "big") == std::string(200, 'v'));
    CHECK(buf.cache_hits() == 0);  // too large to cache: read from the store each time
    BufferedStore off(mem, SyncMode::batch, 0);
    CHECK(read(off, "k1") == std::string(100, 'v'));
    CHECK(off.cached_keys() == 0);
}
