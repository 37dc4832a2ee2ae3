// Unit and property tests for the cluster view: merge laws, codec, persistence.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "core/errc.h"
#include "core/rng.h"
#include "gossip/view.h"
#include "replica/messages.h"
#include "store/memory_store.h"

using namespace shoal;
using namespace shoal::gossip;

namespace {

constexpr std::uint32_t k_q = 16;

// A random view over ids 1..6 with small versions, so that equal versions with
// different contents (the tie-break cases) are common.
ClusterView random_view(Rng& rng) {
    ClusterView v = ClusterView::empty(k_q);
    v.cluster_id = rng.chance(0.5) ? 0 : 77;  // unset, or the one cluster's id
    std::vector<NodeId> ids;
    for (std::uint32_t id = 1; id <= 6; ++id) {
        if (!rng.chance(0.7)) continue;
        MemberRecord m;
        m.id = NodeId{id};
        m.version = rng.below(3);
        m.incarnation = static_cast<std::uint32_t>(rng.below(3));
        m.peer_address = "n" + std::to_string(id) + ":" + std::to_string(7000 + rng.below(2));
        m.client_address = rng.chance(0.5) ? "c" + std::to_string(id) : "";
        m.http_address = rng.chance(0.5) ? "h" + std::to_string(id) : "";
        m.zone = rng.chance(0.5) ? "z" + std::to_string(rng.below(2)) : "";
        m.status = static_cast<MemberStatus>(rng.below(k_max_status + 1));
        v.members.emplace(m.id, m);
        ids.push_back(m.id);
    }
    // Namespaces, with equal versions from different writers now and then.
    for (const char* name : {"carts", "sessions", "x"}) {
        if (!rng.chance(0.5)) continue;
        NamespaceRecord n;
        n.version = rng.below(3);
        n.set_by = NodeId{static_cast<std::uint32_t>(1 + rng.below(2))};
        n.props.conflict = rng.chance(0.5) ? replica::ConflictMode::lww : replica::ConflictMode::dvv;
        n.props.ttl_s = static_cast<std::int64_t>(rng.below(2) * 1800);
        n.props.r = rng.chance(0.3) ? replica::k_quorum_majority : static_cast<std::uint32_t>(rng.below(3));
        v.namespaces.emplace(name, n);
    }
    if (ids.empty()) return v;
    for (PartitionClaim& c : v.claim) {
        if (rng.chance(0.2)) continue;  // unassigned
        c.owner = ids[rng.below(ids.size())];
        c.version = rng.below(4);
        if (ids.size() > 1 && rng.chance(0.4)) {
            do c.next = ids[rng.below(ids.size())];
            while (c.next == c.owner);
            c.handoff_done = rng.chance(0.5);
        }
    }
    return v;
}

std::string encoded(const ClusterView& v) {
    std::string out;
    encode(v, out);
    return out;
}

MemberRecord record(std::uint32_t id, std::uint64_t version, MemberStatus status, std::string peer = "p") {
    MemberRecord m;
    m.id = NodeId{id};
    m.version = version;
    m.status = status;
    m.peer_address = std::move(peer);
    return m;
}

}  // namespace

TEST_CASE("view merge is commutative, associative and idempotent", "[gossip][view][property]") {
    Rng rng(42);
    for (int i = 0; i < 2000; ++i) {
        const ClusterView a = random_view(rng), b = random_view(rng), c = random_view(rng);
        INFO("iteration " << i);
        REQUIRE(merged(a, b) == merged(b, a));
        REQUIRE(merged(merged(a, b), c) == merged(a, merged(b, c)));
        REQUIRE(merged(a, a) == a);
        // The join is an upper bound: merging either input again changes nothing.
        ClusterView ab = merged(a, b);
        REQUIRE_FALSE(merge_into(ab, a));
        REQUIRE_FALSE(merge_into(ab, b));
        REQUIRE(digest(merged(a, b)) == digest(merged(b, a)));
    }
}

TEST_CASE("member payload follows the version, status only moves forward", "[gossip][view]") {
    ClusterView a = ClusterView::empty(k_q), b = ClusterView::empty(k_q);
    a.members.emplace(NodeId{1}, record(1, 5, MemberStatus::valid, "old"));
    b.members.emplace(NodeId{1}, record(1, 6, MemberStatus::joining, "new"));
    const ClusterView m = merged(a, b);
    const MemberRecord* r = find_member(m, NodeId{1});
    REQUIRE(r != nullptr);
    CHECK(r->peer_address == "new");              // newer payload
    CHECK(r->status == MemberStatus::valid);      // status never goes back
    CHECK(merge_into(a, b));
    CHECK_FALSE(merge_into(a, b));
}

TEST_CASE("claim merge keeps the higher version and then the done flag", "[gossip][view]") {
    ClusterView a = ClusterView::empty(k_q), b = ClusterView::empty(k_q);
    for (std::uint32_t id : {1u, 2u, 3u}) {
        a.members.emplace(NodeId{id}, record(id, 1, MemberStatus::valid));
        b.members.emplace(NodeId{id}, record(id, 1, MemberStatus::valid));
    }
    a.claim[0] = {NodeId{1}, NodeId{2}, 4, false};
    b.claim[0] = {NodeId{1}, NodeId{2}, 4, true};
    a.claim[1] = {NodeId{3}, NodeId{}, 7, false};
    b.claim[1] = {NodeId{1}, NodeId{2}, 6, true};
    const ClusterView m = merged(a, b);
    CHECK(m.claim[0].handoff_done);
    CHECK(m.claim[1] == a.claim[1]);
}

TEST_CASE("view codec round-trips random views", "[gossip][view][codec]") {
    Rng rng(7);
    for (int i = 0; i < 500; ++i) {
        const ClusterView v = random_view(rng);
        const std::string bytes = encoded(v);
        ClusterView back;
        REQUIRE_FALSE(decode(bytes, back));
        REQUIRE(back == v);
        REQUIRE(encoded(back) == bytes);
    }
}

TEST_CASE("view codec rejects truncation, trailing bytes and garbage", "[gossip][view][codec]") {
    Rng rng(11);
    ClusterView v = random_view(rng);
    while (v.members.empty()) v = random_view(rng);
    const std::string bytes = encoded(v);
    ClusterView out;
    for (std::size_t n = 0; n < bytes.size(); ++n) {
        INFO("prefix " << n);
        REQUIRE(decode(std::string_view(bytes).substr(0, n), out) == errc::corrupt);
    }
    REQUIRE(decode(bytes + "x", out) == errc::corrupt);

    // Flipped bytes and random junk: either an error or a view that round-trips.
    for (int i = 0; i < 3000; ++i) {
        std::string bad = bytes;
        const int flips = 1 + static_cast<int>(rng.below(3));
        for (int f = 0; f < flips; ++f) bad[rng.below(bad.size())] = static_cast<char>(rng.below(256));
        if (rng.chance(0.3)) {
            bad.assign(rng.below(64), '\0');
            for (char& c : bad) c = static_cast<char>(rng.below(256));
        }
        ClusterView got;
        if (!decode(bad, got)) {
            ClusterView again;
            REQUIRE_FALSE(decode(encoded(got), again));
            REQUIRE(again == got);
        }
    }
}

TEST_CASE("view codec rejects inconsistent views", "[gossip][view][codec]") {
    ClusterView v = ClusterView::empty(k_q);
    v.members.emplace(NodeId{1}, record(1, 1, MemberStatus::valid));
    v.claim[3].owner = NodeId{9};  // not a member
    ClusterView out;
    CHECK(decode(encoded(v), out) == errc::corrupt);
    v.claim[3] = {NodeId{1}, NodeId{1}, 1, false};  // moving to itself
    CHECK(decode(encoded(v), out) == errc::corrupt);
    v.claim[3] = {NodeId{1}, NodeId{}, 1, true};  // done without a move
    CHECK(decode(encoded(v), out) == errc::corrupt);
    v.claim[3] = {NodeId{1}, NodeId{}, 1, false};
    CHECK_FALSE(decode(encoded(v), out));
    // An oversized address.
    v.members[NodeId{1}].peer_address.assign(k_max_address_bytes + 1, 'a');
    CHECK(decode(encoded(v), out) == errc::corrupt);
}

TEST_CASE("a saved view loads back; nothing saved loads as nullopt", "[gossip][view][store]") {
    store::MemStore store;
    std::optional<ClusterView> loaded;
    REQUIRE_FALSE(load_view(store, loaded));
    CHECK_FALSE(loaded.has_value());
    Rng rng(3);
    const ClusterView v = random_view(rng);
    REQUIRE_FALSE(save_view(store, v, true));
    store.crash();  // synced: survives
    REQUIRE_FALSE(load_view(store, loaded));
    REQUIRE(loaded.has_value());
    CHECK(*loaded == v);
}

TEST_CASE("make_ring routes by current owners and lists active members", "[gossip][view]") {
    ClusterView v = ClusterView::empty(4);
    CHECK(make_ring(v) == nullptr);  // not founded
    v.members.emplace(NodeId{1}, record(1, 1, MemberStatus::valid));
    v.members.emplace(NodeId{2}, record(2, 1, MemberStatus::valid));
    v.members.emplace(NodeId{3}, record(3, 1, MemberStatus::joining));
    v.members.emplace(NodeId{4}, record(4, 1, MemberStatus::removed));
    v.claim[0] = {NodeId{1}, NodeId{3}, 1, false};
    v.claim[1] = {NodeId{2}, NodeId{}, 1, false};
    v.claim[2] = {NodeId{1}, NodeId{}, 1, false};
    v.claim[3] = {NodeId{4}, NodeId{}, 1, false};  // removed, not yet reassigned
    const auto ring = make_ring(v);
    REQUIRE(ring != nullptr);
    CHECK(ring->owner(PartitionId{0}) == NodeId{1});
    CHECK(ring->members().size() == 4);
    const auto moving = moves(v);
    REQUIRE(moving.size() == 1);
    CHECK(moving[0] == ring::Move{PartitionId{0}, NodeId{1}, NodeId{3}, false});
}

TEST_CASE("namespaces: a merge never holds more than the bound; every node keeps the same ones", "[gossip][view]") {
    ClusterView a = ClusterView::empty(k_q), b = ClusterView::empty(k_q);
    // Two nodes that each created namespaces up to the bound, with different names.
    for (std::size_t i = 0; i < k_max_namespaces; ++i) {
        a.namespaces.emplace("a" + std::to_string(1000 + i), NamespaceRecord{{}, 1, NodeId{1}});
        b.namespaces.emplace("b" + std::to_string(1000 + i), NamespaceRecord{{}, 1, NodeId{2}});
    }
    const ClusterView ab = merged(a, b), ba = merged(b, a);
    CHECK(ab == ba);
    CHECK(ab.namespaces.size() == k_max_namespaces);
    CHECK(ab.namespaces.begin()->first == "a1000");
    ClusterView back;
    REQUIRE_FALSE(decode(encoded(ab), back));  // still decodes
    CHECK(back == ab);
    ClusterView again = ab;
    CHECK_FALSE(merge_into(again, b));  // nothing new: b's names are all past the bound
}
