// Byte patches (replica/patch.h): a patch made from one value to another applies back
// to exactly the other; small changes make small patches; a patch does not fit any
// other value by accident of bounds; apply_patch refuses what does not decode.
#include <string>

#include <catch2/catch.hpp>

#include "core/byte_codec.h"
#include "core/rng.h"
#include "replica/datatypes.h"
#include "replica/patch.h"

using namespace shoal;
using namespace shoal::replica;

namespace {

std::string random_bytes(Rng& rng, std::size_t n) {
    std::string s(n, '\0');
    for (auto& c : s) c = static_cast<char>(rng.between(0, 255));
    return s;
}

std::string patched(std::string_view from, std::string_view patch) {
    std::string out;
    REQUIRE(apply_patch(from, patch, out));
    return out;
}

}  // namespace

TEST_CASE("patch: random edits of random values patch back exactly", "[patch]") {
    Rng rng(7);
    for (int round = 0; round < 2000; ++round) {
        const std::string from = random_bytes(rng, rng.between(2400, 3000));
        std::string to = from;
        // Up to six edits, each in its own stretch of at least 400 bytes (made from the
        // last to the first, so that each position is the old value's): a drop of up to
        // 40 bytes and an insertion of up to 200.
        const int edits = static_cast<int>(rng.between(0, 6));
        const std::size_t stretch = edits == 0 ? 0 : from.size() / edits;
        for (int e = edits - 1; e >= 0; --e) {
            const std::size_t at = e * stretch + rng.between(0, static_cast<std::int64_t>(stretch) - 250);
            to.replace(at, rng.between(0, 40), random_bytes(rng, rng.between(0, 200)));
        }
        INFO("round " << round << ", " << edits << " edits");
        const auto patch = make_patch(from, to, SIZE_MAX);
        REQUIRE(patch.has_value());
        CHECK(patched(from, *patch) == to);
        // The patch is about the size of what the edits inserted, not the value's.
        CHECK(patch->size() <= static_cast<std::size_t>(edits) * 216);
    }
}

TEST_CASE("patch: a set's add patches as the item and the clock's change", "[patch]") {
    dt::State state = dt::Set{};
    const ActorId actor = make_actor(NodeId{1}, 1);
    for (std::uint64_t i = 1; i <= 200; ++i) {
        const std::string before = dt::encode(state);
        REQUIRE_FALSE(dt::apply(state, dt::SetUpdate{{"item-" + std::to_string(1000 + (i * 7919) % 1000)}, {}, {}},
                                Dot{actor, i}));
        const std::string after = dt::encode(state);
        const auto patch = make_patch(before, after, SIZE_MAX);
        REQUIRE(patch.has_value());
        CHECK(patched(before, *patch) == after);
        INFO("add " << i << ": state " << after.size() << " bytes, patch " << patch->size());
        CHECK(patch->size() <= 48);
    }
}

TEST_CASE("patch: bounds at their edges", "[patch]") {
    Rng rng(11);
    const std::string from = random_bytes(rng, 1100);
    std::string to = from;
    // k_max_patch_edits changed bytes far apart make a patch; one more does not.
    for (std::size_t e = 0; e < k_max_patch_edits; ++e) to[30 + e * 60] ^= 1;
    REQUIRE(make_patch(from, to, SIZE_MAX).has_value());
    to[30 + k_max_patch_edits * 60] ^= 1;
    CHECK_FALSE(make_patch(from, to, SIZE_MAX).has_value());
    // max_bytes: a patch of exactly that many bytes is made, one byte less is refused.
    const std::string one = from.substr(0, 500) + "xyz" + from.substr(500);
    const auto p = make_patch(from, one, SIZE_MAX);
    REQUIRE(p.has_value());
    CHECK(make_patch(from, one, p->size()).has_value());
    CHECK_FALSE(make_patch(from, one, p->size() - 1).has_value());
    // An insertion of k_patch_window bytes is one edit; longer ones replace the rest.
    const std::string window = from.substr(0, 500) + std::string(k_patch_window, 'w') + from.substr(500);
    CHECK(make_patch(from, window, SIZE_MAX)->size() < k_patch_window + 16);
    // Identical values: an empty patch, which keeps everything.
    CHECK(make_patch(from, from, SIZE_MAX) == std::string{});
    CHECK(patched(from, "") == from);
}

TEST_CASE("patch: a patch that does not fit or decode is refused", "[patch]") {
    std::string out;
    std::string keep_past_end;
    put_varint(keep_past_end, 11);  // keep 11 of a 10-byte value
    put_varint(keep_past_end, 0);
    put_string(keep_past_end, "");
    CHECK_FALSE(apply_patch("0123456789", keep_past_end, out));
    std::string drop_past_end;
    put_varint(drop_past_end, 5);
    put_varint(drop_past_end, 6);
    put_string(drop_past_end, "");
    CHECK_FALSE(apply_patch("0123456789", drop_past_end, out));
    CHECK_FALSE(apply_patch("0123456789", std::string("\x01\x00\x05" "ab", 5), out));  // insert truncated
    CHECK_FALSE(apply_patch("0123456789", std::string("\xff", 1), out));             // varint truncated
    std::string too_many;
    for (std::size_t e = 0; e <= k_max_patch_edits; ++e) {
        put_varint(too_many, 0);
        put_varint(too_many, 0);
        put_string(too_many, "x");
    }
    CHECK_FALSE(apply_patch("0123456789", too_many, out));
    // The same patch on another value of the same length applies, to other bytes: what
    // the digest of ReplicateDelta is there to catch.
    const std::string a = "a cart of apples, pears and figs, and plums";
    const std::string b = "a cart of apples, pears and FIGS, and plums";
    const std::string c = "A CART OF APPLES, PEARS AND figs, AND PLUMS";
    const auto p = make_patch(a, b, SIZE_MAX);
    REQUIRE(p.has_value());
    CHECK(patched(a, *p) == b);
    const std::string other = patched(c, *p);
    CHECK(other.size() == b.size());
    CHECK(other != b);
    CHECK(other.substr(0, 10) == "A CART OF ");
}
