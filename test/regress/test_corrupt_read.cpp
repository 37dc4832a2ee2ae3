// Regression of the bounds issue, defect 4 (in part): LevelDB corruption errors were
// treated as transient; 68 keys under 512-byte bursts stayed unreadable for good. A
// replica whose store reports a key's block damaged now has it rewritten by the read
// that found it (read repair sends the merge to damaged copies too), and its tree is
// rebuilt so anti-entropy sees the key.
#include <catch2/catch.hpp>

#include "../unit/node_harness.h"
#include "core/hash.h"
#include "store/keys.h"

namespace shoal::test {

namespace {

// Node `id`'s store reports the block holding `key` damaged (as LevelDB does for a bad
// block), and its read cache forgets the key (the cache would hide the damage).
void damage_copy(Cluster& c, std::uint32_t id, const std::string& key) {
    Cluster::Member& damaged = *c.members[id - 1];
    damaged.disk.corrupt_reads_of(store::data_key(c.ring->partition_of(hash_key(key)), key));
    damaged.buffered->forget_cached();
}

}  // namespace

TEST_CASE("regress: a key whose block the store reports damaged is rewritten from the replicas by a read",
          "[regress][corrupt]") {
    // Every replica asked at once, so that the read meets the damaged copy (a quorum
    // read may be answered by the two good ones without asking it).
    NodeConfig all;
    all.read_fanout = ReadFanout::all;
    Cluster c(3, all);
    REQUIRE(c.put(1, "cart/alice", "apple").code == errc::ok);
    damage_copy(c, 2, "cart/alice");
    SiblingSet local;
    REQUIRE(c.node(2).read_local("cart/alice", local) == errc::corrupt);

    // A read at r=2: the damaged copy counts for nothing, the two good ones answer...
    RequestOptions two;
    two.r = 2;
    const ClientReply got = c.get(1, "cart/alice", two);
    REQUIRE(got.code == errc::ok);
    CHECK(values(got) == std::set<std::string>{"apple"});
    c.advance(Duration::millis(100));
    // ...and the damaged copy is replaced by the merge.
    REQUIRE_FALSE(c.node(2).read_local("cart/alice", local));
    REQUIRE(local.siblings.size() == 1);
    CHECK(local.siblings.front().value == "apple");
    CHECK(c.node(2).stats().corrupt_reads >= 1);
    CHECK(c.node(2).stats().corrupt_repaired >= 1);
}

// Seen on real processes once reads verify LevelDB's block checksums: a leader whose
// copy of the key is damaged refused the put as `corrupt`, and the client got that
// error although two good replicas could take the write.
TEST_CASE("regress: a put whose leader's copy is damaged is led by the next replica and repairs the copy",
          "[regress][corrupt]") {
    Cluster c(3);
    REQUIRE(c.put(2, "cart/bob", "apple").code == errc::ok);
    damage_copy(c, 2, "cart/bob");
    const ClientReply put = c.put(2, "cart/bob", "pear");  // node 2 coordinates and would lead
    REQUIRE(put.code == errc::ok);
    c.advance(Duration::millis(100));
    SiblingSet local;
    REQUIRE_FALSE(c.node(2).read_local("cart/bob", local));  // overwritten by the new leader's state
    bool has_pear = false;
    for (const auto& s : local.siblings) has_pear |= s.value == "pear";
    CHECK(has_pear);
    RequestOptions three;
    three.r = 3;
    const ClientReply got = c.get(1, "cart/bob", three);
    REQUIRE(got.code == errc::ok);
    CHECK(values(got).count("pear") == 1);
}

}  // namespace shoal::test
