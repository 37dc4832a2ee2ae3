// The pure pieces of repair: the Merkle tree, the checksummed stored form, and
// the simulator's repair checkers.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "core/errc.h"
#include "core/hash.h"
#include "replica/codec.h"
#include "replica/merkle.h"
#include "sim/checkers.h"

using namespace shoal;
using namespace shoal::replica;

TEST_CASE("merkle: the same entries give the same root in any order; one change shows on one path", "[repair]") {
    MerkleTree a, b;
    std::vector<std::string> keys;
    for (int i = 0; i < 500; ++i) keys.push_back("key/" + std::to_string(i));
    for (std::size_t i = 0; i < keys.size(); ++i) {
        a.update(hash_key(keys[i]), 0, MerkleTree::entry_hash(keys[i], i * 7919));
    }
    for (std::size_t i = keys.size(); i-- > 0;) {
        b.update(hash_key(keys[i]), 0, MerkleTree::entry_hash(keys[i], i * 7919));
    }
    REQUIRE(a.root() == b.root());
    REQUIRE(a.entries() == 500);

    const std::uint64_t before = MerkleTree::entry_hash(keys[7], 7 * 7919);
    const std::uint64_t after = MerkleTree::entry_hash(keys[7], 1);
    a.update(hash_key(keys[7]), before, after);
    CHECK(a.root() != b.root());
    for (std::uint32_t level = 1; level <= MerkleTree::k_depth; ++level) {
        int differing = 0;
        for (std::uint32_t i = 0; i < MerkleTree::width(level); ++i) differing += a.hash(level, i) != b.hash(level, i);
        CHECK(differing == 1);
    }
    CHECK(a.hash(MerkleTree::k_depth, MerkleTree::leaf_of(hash_key(keys[7]))) !=
          b.hash(MerkleTree::k_depth, MerkleTree::leaf_of(hash_key(keys[7]))));
    a.update(hash_key(keys[7]), after, before);
    CHECK(a.root() == b.root());

    for (std::size_t i = 0; i < keys.size(); ++i) a.update(hash_key(keys[i]), MerkleTree::entry_hash(keys[i], i * 7919), 0);
    CHECK(a.root() == 0);
    CHECK(a.entries() == 0);
    CHECK(MerkleTree::corrupt_entry_hash("x") != MerkleTree::entry_hash("x", 0));
}

TEST_CASE("stored form: any damaged byte is detected", "[repair]") {
    SiblingSet s;
    s.context.raise(Dot{5, 3});
    s.siblings.push_back(Sibling{Dot{5, 3}, false, "a value of some length", Time{1}, Time{}});
    std::string bytes;
    encode_stored(s, bytes);
    SiblingSet back;
    REQUIRE(!decode_stored(bytes, back));
    REQUIRE(back == s);
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        std::string bad = bytes;
        bad[i] = static_cast<char>(bad[i] ^ 0x01);
        CHECK(decode_stored(bad, back) == make_error_code(errc::corrupt));
    }
    CHECK(decode_stored(bytes.substr(0, bytes.size() - 1), back) == make_error_code(errc::corrupt));
    CHECK(decode_stored("", back) == make_error_code(errc::corrupt));
}

TEST_CASE("checkers: a live sibling an acknowledged delete had seen is a resurrection", "[repair]") {
    sim::History h;
    h.acked_deletes["k"].raise(Dot{1, 4});
    SiblingSet s;
    s.context.raise(Dot{1, 5});
    s.siblings.push_back(Sibling{Dot{1, 4}, false, "old", {}, {}});
    s.siblings.push_back(Sibling{Dot{1, 5}, false, "new", {}, {}});
    const auto found = sim::find_resurrected("k", s, h);
    REQUIRE(found.size() == 1);
    CHECK(found[0] == Dot{1, 4});
    s.siblings[0].tombstone = true;  // a tombstone is not a resurrection
    CHECK(sim::find_resurrected("k", s, h).empty());
    CHECK(sim::find_resurrected("other", s, h).empty());
}

TEST_CASE("checkers: replicas agree only when identical, absent counting as empty", "[repair]") {
    SiblingSet a;
    a.context.raise(Dot{1, 1});
    a.siblings.push_back(Sibling{Dot{1, 1}, true, "", {}, {}});
    SiblingSet b = a;
    CHECK(sim::replicas_agree({&a, &b}));
    CHECK_FALSE(sim::replicas_agree({&a, nullptr}));  // a tombstone still differs from nothing
    CHECK(sim::replicas_agree({nullptr, nullptr}));
    b.siblings[0].tombstone = false;
    CHECK_FALSE(sim::replicas_agree({&a, &b}));
}
