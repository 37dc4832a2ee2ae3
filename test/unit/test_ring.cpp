// Unit tests for the ring: partitioning, claim balance and stability, preference orders.
#include <algorithm>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "core/hash.h"
#include "ring/ring.h"

using shoal::NodeId;
using shoal::PartitionId;
using shoal::ring::compute_claim;
using shoal::ring::Member;
using shoal::ring::Ring;

namespace {

constexpr std::size_t k_n = 3;  // replicas in these tests

// Members with ids first_id.. and no zone.
std::vector<Member> plain_members(std::uint32_t count, std::uint32_t first_id = 1) {
    std::vector<Member> members;
    for (std::uint32_t i = 0; i < count; ++i) members.push_back({NodeId{first_id + i}, ""});
    return members;
}

// Members in zones "z0", "z1", ...: sizes[z] members in zone z, ids from 1.
std::vector<Member> zoned_members(const std::vector<std::uint32_t>& sizes) {
    std::vector<Member> members;
    std::uint32_t id = 1;
    for (std::size_t z = 0; z < sizes.size(); ++z)
        for (std::uint32_t i = 0; i < sizes[z]; ++i) members.push_back({NodeId{id++}, "z" + std::to_string(z)});
    return members;
}

std::map<NodeId, std::uint32_t> counts_of(const std::vector<NodeId>& claim) {
    std::map<NodeId, std::uint32_t> counts;
    for (NodeId n : claim) counts[n] += 1;
    return counts;
}

// Every owner is a member and every member owns floor(Q/M) or ceil(Q/M).
void require_balanced(const std::vector<NodeId>& claim, std::uint32_t q, const std::vector<Member>& members) {
    REQUIRE(claim.size() == q);
    const auto counts = counts_of(claim);
    std::set<NodeId> ids;
    for (const Member& m : members) ids.insert(m.id);
    for (const auto& [id, count] : counts) REQUIRE(ids.count(id) == 1);
    const std::uint32_t lo = q / members.size();
    const std::uint32_t hi = lo + (q % members.size() ? 1 : 0);
    std::uint32_t sum = 0;
    for (const Member& m : members) {
        const auto it = counts.find(m.id);
        const std::uint32_t c = it == counts.end() ? 0 : it->second;
        REQUIRE(c >= lo);
        REQUIRE(c <= hi);
        sum += c;
    }
    REQUIRE(sum == q);
}

std::uint32_t moved(const std::vector<NodeId>& before, const std::vector<NodeId>& after) {
    REQUIRE(before.size() == after.size());
    std::uint32_t n = 0;
    for (std::size_t p = 0; p < before.size(); ++p) n += before[p] != after[p] ? 1 : 0;
    return n;
}

std::uint32_t zone_count(const std::vector<Member>& members) {
    std::set<std::string> zones;
    for (const Member& m : members) zones.insert(m.zone);
    return static_cast<std::uint32_t>(zones.size());
}

// Checks every row: each member once, the owner first (the first step of the walk is
// always eligible), the first N distinct and, with at least N zones, in distinct zones.
void require_preference_orders(const Ring& ring) {
    const auto& members = ring.members();
    const bool zone_spread = zone_count(members) >= k_n;
    for (std::uint32_t p = 0; p < ring.partition_count(); ++p) {
        const auto order = ring.preference_order(PartitionId{p});
        REQUIRE(order.size() == members.size());
        std::set<NodeId> seen(order.begin(), order.end());
        REQUIRE(seen.size() == members.size());
        for (const Member& m : members) REQUIRE(seen.count(m.id) == 1);
        REQUIRE(order[0] == ring.owner(PartitionId{p}));
        const std::size_t primaries = std::min(k_n, order.size());
        std::set<std::string> zones;
        for (std::size_t i = 0; i < primaries; ++i) {
            zones.insert(ring.zone_of(order[i]));
            REQUIRE(ring.is_primary(PartitionId{p}, order[i], k_n));
        }
        if (zone_spread) REQUIRE(zones.size() == k_n);
        for (std::size_t i = primaries; i < order.size(); ++i)
            REQUIRE_FALSE(ring.is_primary(PartitionId{p}, order[i], k_n));
    }
}

// Worst moved/ideal ratio seen by the stability tests.
double g_worst_ratio = 0.0;

void require_bounded_move(const std::vector<NodeId>& before, const std::vector<NodeId>& after, std::uint32_t ideal) {
    const std::uint32_t n = moved(before, after);
    INFO("moved " << n << " ideal " << ideal);
    REQUIRE(n <= 2 * ideal);
    if (ideal > 0) g_worst_ratio = std::max(g_worst_ratio, double(n) / ideal);
}

}  // namespace

TEST_CASE("valid_partition_count accepts powers of two up to the maximum", "[ring]") {
    CHECK_FALSE(shoal::ring::valid_partition_count(0));
    CHECK_FALSE(shoal::ring::valid_partition_count(3));
    CHECK_FALSE(shoal::ring::valid_partition_count(6000));
    CHECK_FALSE(shoal::ring::valid_partition_count(8192));
    CHECK_FALSE(shoal::ring::valid_partition_count(UINT32_MAX));
    CHECK(shoal::ring::valid_partition_count(1));
    CHECK(shoal::ring::valid_partition_count(2));
    CHECK(shoal::ring::valid_partition_count(64));
    CHECK(shoal::ring::valid_partition_count(shoal::ring::k_max_partitions));
}

TEST_CASE("partition_of takes the top bits of the hash", "[ring]") {
    for (std::uint32_t q : {1u, 2u, 64u, 1024u, 4096u}) {
        const auto members = plain_members(3);
        const Ring ring(q, members, compute_claim(q, members, {}));
        CHECK(ring.partition_of(0) == PartitionId{0});
        CHECK(ring.partition_of(UINT64_MAX) == PartitionId{q - 1});
        PartitionId last{0};
        for (std::uint64_t h = 0; h < UINT64_MAX - (1ull << 53); h += (1ull << 52) + 12345) {
            const PartitionId p = ring.partition_of(h);
            REQUIRE(p >= last);
            REQUIRE(p.value < q);
            last = p;
        }
    }
    const auto members = plain_members(2);
    const Ring ring(64, members, compute_claim(64, members, {}));
    CHECK(ring.partition_of((1ull << 58) - 1) == PartitionId{0});
    CHECK(ring.partition_of(1ull << 58) == PartitionId{1});
    CHECK(ring.partition_of(UINT64_MAX >> 1) == PartitionId{31});
    CHECK(ring.partition_of((UINT64_MAX >> 1) + 1) == PartitionId{32});
}

TEST_CASE("a new claim is balanced within one partition", "[ring][claim]") {
    for (std::uint32_t q : {8u, 64u, 256u, 1024u}) {
        for (std::uint32_t m = 1; m <= 20; ++m) {
            INFO("Q " << q << " M " << m);
            require_balanced(compute_claim(q, plain_members(m), {}), q, plain_members(m));
            const auto zoned = zoned_members({m / 2 + m % 2, m / 3, m - m / 2 - m % 2 - m / 3});
            REQUIRE(zoned.size() == m);
            require_balanced(compute_claim(q, zoned, {}), q, zoned);
        }
    }
}

TEST_CASE("a new claim with equal zones alternates zones between neighbours", "[ring][claim]") {
    for (std::uint32_t per_zone = 1; per_zone <= 5; ++per_zone) {
        const auto members = zoned_members({per_zone, per_zone, per_zone});
        const Ring ring(64, members, compute_claim(64, members, {}));
        // Only the wrap from the last partition to the first may repeat a zone.
        for (std::uint32_t p = 0; p + 1 < 64; ++p) {
            INFO("per zone " << per_zone << " p " << p);
            REQUIRE(ring.zone_of(ring.owner(PartitionId{p})) != ring.zone_of(ring.owner(PartitionId{p + 1})));
        }
    }
}

TEST_CASE("preference orders list every member once, primaries in distinct zones", "[ring]") {
    SECTION("no zones") {
        for (std::uint32_t m = 1; m <= 9; ++m) {
            for (std::uint32_t q : {1u, 8u, 64u}) {
                INFO("Q " << q << " M " << m);
                const auto members = plain_members(m);
                require_preference_orders(Ring(q, members, compute_claim(q, members, {})));
            }
        }
    }
    SECTION("three equal zones") {
        for (std::uint32_t per_zone = 2; per_zone <= 5; ++per_zone) {
            INFO("per zone " << per_zone);
            const auto members = zoned_members({per_zone, per_zone, per_zone});
            require_preference_orders(Ring(64, members, compute_claim(64, members, {})));
        }
    }
    SECTION("uneven zones") {
        for (const auto& sizes : std::vector<std::vector<std::uint32_t>>{
                 {4, 3, 2}, {5, 1, 1}, {6, 2, 2}, {1, 1, 1}, {3, 3, 3, 1}, {7, 2}}) {
            const auto members = zoned_members(sizes);
            for (std::uint32_t q : {8u, 64u, 256u}) {
                INFO("Q " << q << " M " << members.size());
                require_preference_orders(Ring(q, members, compute_claim(q, members, {})));
            }
        }
    }
    SECTION("more members than partitions") {
        const auto members = zoned_members({5, 4, 3});
        require_preference_orders(Ring(8, members, compute_claim(8, members, {})));
        require_preference_orders(Ring(1, members, compute_claim(1, members, {})));
    }
    SECTION("a skewed claim still spreads zones via members that own nothing") {
        const auto members = zoned_members({2, 1, 1});  // ids 1,2 in z0; 3 in z1; 4 in z2
        std::vector<NodeId> owners(16, NodeId{1});
        for (std::uint32_t p = 0; p < 16; p += 2) owners[p] = NodeId{2};
        const Ring ring(16, members, owners);
        require_preference_orders(ring);
        const auto order = ring.preference_order(PartitionId{0});
        CHECK(order[0] == NodeId{2});
        CHECK(order[1] == NodeId{3});  // non-owners in id order
        CHECK(order[2] == NodeId{4});
        CHECK(order[3] == NodeId{1});
    }
    SECTION("claims grown and shrunk incrementally") {
        auto members = zoned_members({2, 2, 2});
        auto claim = compute_claim(64, members, {});
        for (std::uint32_t id = 7; id <= 15; ++id) {
            members.push_back({NodeId{id}, "z" + std::to_string(id % 3)});
            claim = compute_claim(64, members, claim);
            require_preference_orders(Ring(64, members, claim));
        }
        while (members.size() > 3) {
            members.erase(members.begin());
            claim = compute_claim(64, members, claim);
            require_preference_orders(Ring(64, members, claim));
        }
    }
}

TEST_CASE("preference order walks clockwise over owners", "[ring]") {
    const std::vector<Member> members = {{NodeId{1}, "a"}, {NodeId{2}, "a"}, {NodeId{3}, "b"}, {NodeId{4}, "c"}};
    // Owners by partition: 1 2 3 1 4 2 3 4.
    const std::vector<NodeId> owners = {NodeId{1}, NodeId{2}, NodeId{3}, NodeId{1},
                                        NodeId{4}, NodeId{2}, NodeId{3}, NodeId{4}};
    const Ring ring(8, members, owners);
    // From 0: 1(a), skip 2(a), 3(b), skip 1, 4(c) -> new round: 2(a).
    const auto p0 = ring.preference_order(PartitionId{0});
    CHECK(std::vector<NodeId>(p0.begin(), p0.end()) == std::vector<NodeId>{NodeId{1}, NodeId{3}, NodeId{4}, NodeId{2}});
    // From 5: 2(a), 3(b), 4(c) -> new round: 1(a).
    const auto p5 = ring.preference_order(PartitionId{5});
    CHECK(std::vector<NodeId>(p5.begin(), p5.end()) == std::vector<NodeId>{NodeId{2}, NodeId{3}, NodeId{4}, NodeId{1}});
    CHECK(ring.is_primary(PartitionId{0}, NodeId{4}, 3));
    CHECK_FALSE(ring.is_primary(PartitionId{0}, NodeId{2}, 3));
    CHECK(ring.is_primary(PartitionId{0}, NodeId{2}, 10));
    CHECK(ring.zone_of(NodeId{3}) == "b");
    CHECK(ring.zone_of(NodeId{99}).empty());
}

TEST_CASE("adding or removing one member moves at most twice the ideal", "[ring][claim]") {
    for (std::uint32_t q : {64u, 256u}) {
        for (std::uint32_t m = 2; m <= 30; ++m) {
            INFO("Q " << q << " M " << m);
            const auto members = plain_members(m);
            const auto base = compute_claim(q, members, {});

            auto grown_members = plain_members(m + 1);
            const auto grown = compute_claim(q, grown_members, base);
            require_balanced(grown, q, grown_members);
            require_bounded_move(base, grown, (q + m) / (m + 1));

            for (std::uint32_t gone = 0; gone < m; gone += std::max(1u, m / 4)) {
                auto shrunk_members = members;
                shrunk_members.erase(shrunk_members.begin() + gone);
                const auto shrunk = compute_claim(q, shrunk_members, base);
                require_balanced(shrunk, q, shrunk_members);
                require_bounded_move(base, shrunk, counts_of(base)[members[gone].id]);
            }
        }
    }
}

TEST_CASE("growing 3 to 6 members and shrinking back stays balanced and stable", "[ring][claim]") {
    for (bool zoned : {false, true}) {
        for (std::uint32_t q : {64u, 256u, 1024u}) {
            INFO("Q " << q << " zoned " << zoned);
            std::vector<Member> members;
            for (std::uint32_t id = 1; id <= 3; ++id)
                members.push_back({NodeId{id}, zoned ? "z" + std::to_string(id % 3) : ""});
            auto claim = compute_claim(q, members, {});
            for (std::uint32_t id = 4; id <= 6; ++id) {
                members.push_back({NodeId{id}, zoned ? "z" + std::to_string(id % 3) : ""});
                auto next = compute_claim(q, members, claim);
                require_balanced(next, q, members);
                require_bounded_move(claim, next, (q + members.size() - 1) / members.size());
                CHECK(counts_of(next)[NodeId{id}] >= q / members.size());
                claim = next;
            }
            while (members.size() > 3) {
                const NodeId gone = members.back().id;
                const std::uint32_t ideal = counts_of(claim)[gone];
                members.pop_back();
                auto next = compute_claim(q, members, claim);
                require_balanced(next, q, members);
                require_bounded_move(claim, next, ideal);
                CHECK(counts_of(next).count(gone) == 0);
                claim = next;
            }
            require_preference_orders(Ring(q, members, claim));
        }
    }
    INFO("worst moved/ideal ratio " << g_worst_ratio);
    CHECK(g_worst_ratio <= 2.0);
}

TEST_CASE("the claim is deterministic and ignores member order", "[ring][claim]") {
    const auto members = zoned_members({3, 2, 2});
    auto reversed = members;
    std::reverse(reversed.begin(), reversed.end());
    const auto a = compute_claim(256, members, {});
    CHECK(a == compute_claim(256, members, {}));
    CHECK(a == compute_claim(256, reversed, {}));

    auto more = members;
    more.push_back({NodeId{42}, "z1"});
    const auto b = compute_claim(256, more, a);
    CHECK(b == compute_claim(256, more, a));
    std::reverse(more.begin(), more.end());
    CHECK(b == compute_claim(256, more, a));

    const Ring r1(256, members, a), r2(256, reversed, a);
    for (std::uint32_t p = 0; p < 256; ++p) {
        const auto o1 = r1.preference_order(PartitionId{p});
        const auto o2 = r2.preference_order(PartitionId{p});
        REQUIRE(std::equal(o1.begin(), o1.end(), o2.begin(), o2.end()));
    }
}

TEST_CASE("a previous claim of the wrong size or with no live owner starts afresh", "[ring][claim]") {
    const auto members = plain_members(4);
    const auto fresh = compute_claim(64, members, {});
    CHECK(compute_claim(64, members, std::vector<NodeId>(32, NodeId{1})) == fresh);
    CHECK(compute_claim(64, members, std::vector<NodeId>(64, NodeId{99})) == fresh);
    // Unknown and invalid owners are treated as departed.
    std::vector<NodeId> mixed = fresh;
    mixed[0] = NodeId{0};
    mixed[1] = NodeId{77};
    const auto repaired = compute_claim(64, members, mixed);
    require_balanced(repaired, 64, members);
    CHECK(moved(fresh, repaired) <= 2);
    // An unbalanced previous claim is rebalanced.
    std::vector<NodeId> skewed(64, NodeId{1});
    skewed[5] = NodeId{2};
    const auto rebalanced = compute_claim(64, members, skewed);
    require_balanced(rebalanced, 64, members);
    CHECK(moved(skewed, rebalanced) == 47);
}

TEST_CASE("keys spread evenly over primary replicas", "[ring]") {
    const auto members = plain_members(5);
    const Ring ring(64, members, compute_claim(64, members, {}));
    std::map<NodeId, std::uint32_t> replicas;
    constexpr std::uint32_t k_keys = 100000;
    for (std::uint32_t i = 0; i < k_keys; ++i) {
        const PartitionId p = ring.partition_of(shoal::hash_key("key-" + std::to_string(i)));
        const auto order = ring.preference_order(p);
        for (std::size_t r = 0; r < k_n; ++r) replicas[order[r]] += 1;
    }
    REQUIRE(replicas.size() == 5);
    const double mean = double(k_keys) * k_n / 5;
    for (const auto& [id, count] : replicas) {
        INFO("node " << id.value << " holds " << count << " of mean " << mean);
        CHECK(count >= 0.75 * mean);
        CHECK(count <= 1.25 * mean);
    }
}
