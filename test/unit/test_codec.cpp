// Unit tests for the version codec: round trips, digests, context tokens, and bounded
// decoding of truncated, malformed and random input.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "core/errc.h"
#include "core/rng.h"
#include "core/types.h"
#include "replica/codec.h"
#include "replica/version.h"

using shoal::errc;
using shoal::NodeId;
using shoal::Rng;
using shoal::Time;
using shoal::replica::ActorId;
using shoal::replica::context_from_token;
using shoal::replica::context_to_token;
using shoal::replica::decode;
using shoal::replica::decode_stored;
using shoal::replica::digest;
using shoal::replica::encode_stored;
using shoal::replica::stored_digest;
using shoal::replica::Dot;
using shoal::replica::encode;
using shoal::k_max_context_entries;
using shoal::replica::make_actor;
using shoal::replica::Sibling;
using shoal::replica::SiblingSet;
using shoal::replica::VersionVector;

namespace {

constexpr std::int64_t k_min64 = std::numeric_limits<std::int64_t>::min();
constexpr std::int64_t k_max64 = std::numeric_limits<std::int64_t>::max();

void put_varint(std::string& out, std::uint64_t v) {
    while (v >= 0x80) {
        out.push_back(static_cast<char>(v | 0x80));
        v >>= 7;
    }
    out.push_back(static_cast<char>(v));
}

std::int64_t random_time(Rng& rng) {
    switch (rng.below(6)) {
        case 0: return 0;
        case 1: return k_min64;
        case 2: return k_max64;
        case 3: return -static_cast<std::int64_t>(rng.below(1'000'000'000));
        case 4: return -1;
        default: return static_cast<std::int64_t>(rng.next() >> 1);
    }
}

// A legal counter: 1 .. k_max_counter - 1, with the extremes often.
std::uint64_t random_counter(Rng& rng) {
    switch (rng.below(4)) {
        case 0: return 1 + rng.below(5);
        case 1: return shoal::k_max_counter - 1;
        case 2: return 1 + rng.below(1u << 20);
        default: return (rng.next() >> 2) | 1;  // never 0, below 2^62
    }
}

VersionVector random_vv(Rng& rng, std::size_t max_entries = 5) {
    VersionVector vv;
    const auto n = rng.below(max_entries + 1);
    for (std::uint64_t i = 0; i < n; ++i) {
        const ActorId actor = rng.chance(0.5) ? make_actor(NodeId{static_cast<std::uint32_t>(1 + rng.below(9))},
                                                           static_cast<std::uint32_t>(1 + rng.below(3)))
                                              : rng.next();
        vv.raise(actor, random_counter(rng));
    }
    return vv;
}

std::string random_bytes(Rng& rng, std::size_t max_len) {
    std::string s(rng.below(max_len + 1), '\0');
    for (auto& c : s) c = static_cast<char>(rng.below(256));
    if (!s.empty() && rng.chance(0.5)) s[rng.below(s.size())] = '\0';
    return s;
}

// A canonical sibling set: context, siblings sorted with distinct dots covered by it.
SiblingSet random_set(Rng& rng) {
    SiblingSet set;
    set.context = random_vv(rng);
    std::set<Dot> dots;
    const auto& entries = set.context.entries();
    if (!entries.empty()) {
        const auto want = rng.below(6);
        for (std::uint64_t i = 0; i < want; ++i) {
            const auto& [actor, top] = entries[rng.below(entries.size())];
            const std::uint64_t counter = rng.chance(0.3) ? top : 1 + rng.below(std::min<std::uint64_t>(top, 1u << 30));
            dots.insert(Dot{actor, counter});
        }
    }
    for (const Dot& d : dots) {
        Sibling s;
        s.dot = d;
        s.tombstone = rng.chance(0.25);
        if (!s.tombstone) s.value = random_bytes(rng, rng.chance(0.1) ? 3000 : 40);
        if (!s.tombstone && rng.chance(0.3)) s.content_type = rng.chance(0.5) ? "text/plain" : "application/json";
        s.written = Time{random_time(rng)};
        s.expires = rng.chance(0.5) ? Time{0} : Time{random_time(rng)};
        set.siblings.push_back(std::move(s));
    }
    return set;
}

std::string encoded(const SiblingSet& s) {
    std::string out;
    encode(s, out);
    return out;
}

std::string encoded(const VersionVector& vv) {
    std::string out;
    encode(vv, out);
    return out;
}

SiblingSet sample_set() {
    SiblingSet s;
    const ActorId a1 = make_actor(NodeId{1}, 1);
    const ActorId a2 = make_actor(NodeId{2}, 1);
    s.context.raise(a1, 3);
    s.context.raise(a2, 2);
    s.siblings.push_back(Sibling{Dot{a1, 3}, false, std::string("ca\0rt", 5), Time{-5}, Time{0}});
    s.siblings.push_back(Sibling{Dot{a2, 1}, true, "", Time{0}, Time{1000}});
    s.siblings.push_back(Sibling{Dot{a2, 2}, false, "x", Time{77}, Time{-3}});
    return s;
}

bool valid_token_char(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

}  // namespace

TEST_CASE("sibling sets and version vectors round trip", "[codec]") {
    Rng rng(42);
    for (int i = 0; i < 2000; ++i) {
        const SiblingSet in = random_set(rng);
        std::string bytes = "prefix";  // encode appends
        encode(in, bytes);
        REQUIRE(bytes.compare(0, 6, "prefix") == 0);
        SiblingSet out;
        out.siblings.push_back(Sibling{});  // decode replaces what was there
        INFO("iteration " << i);
        REQUIRE_FALSE(decode(std::string_view(bytes).substr(6), out));
        REQUIRE(out == in);
        REQUIRE(digest(out) == digest(in));

        const VersionVector vv = random_vv(rng, 8);
        VersionVector vout;
        vout.raise(12345, 6);
        REQUIRE_FALSE(decode(encoded(vv), vout));
        REQUIRE(vout == vv);
    }
}

TEST_CASE("round trip of extreme values", "[codec]") {
    SiblingSet s;
    const ActorId big = std::numeric_limits<std::uint64_t>::max();
    s.context.raise(0, 1);  // actor 0 is a legal actor value for the codec
    s.context.raise(big, shoal::k_max_counter - 1);
    s.siblings.push_back(Sibling{Dot{0, 1}, false, std::string(1, '\0'), Time{k_min64}, Time{k_max64}});
    s.siblings.push_back(Sibling{Dot{big, shoal::k_max_counter - 1}, true, "", Time{k_max64}, Time{k_min64}});
    SiblingSet out;
    REQUIRE_FALSE(decode(encoded(s), out));
    CHECK(out == s);
    // One more and the counter is refused, in the context and in a dot: counters never
    // come near wrapping.
    SiblingSet over = s;
    over.context.raise(big, shoal::k_max_counter);
    CHECK(decode(encoded(over), out) == errc::corrupt);
    SiblingSet over_dot;
    over_dot.context.raise(7, 3);
    over_dot.siblings.push_back(Sibling{Dot{7, shoal::k_max_counter}, false, "v", Time{1}, Time{0}});
    CHECK(decode(encoded(over_dot), out) == errc::corrupt);

    SiblingSet empty;
    const std::string e = encoded(empty);
    CHECK(e == std::string("\x01\x00\x00", 3));
    SiblingSet eout = sample_set();
    REQUIRE_FALSE(decode(e, eout));
    CHECK(eout == empty);
    CHECK(encoded(VersionVector{}) == std::string(1, '\0'));
}

TEST_CASE("digest: equal states equal, different states differ", "[codec]") {
    const SiblingSet base = sample_set();
    SiblingSet same = sample_set();
    CHECK(digest(base) == digest(same));

    std::vector<SiblingSet> variants;
    {
        auto v = base;
        v.siblings[0].value[2] = '\1';
        variants.push_back(v);
    }
    {
        auto v = base;
        v.siblings[2].tombstone = true;
        v.siblings[2].value.clear();
        variants.push_back(v);
    }
    {
        auto v = base;
        v.siblings[2].written = Time{78};
        variants.push_back(v);
    }
    {
        auto v = base;
        v.siblings[1].expires = Time{1001};
        variants.push_back(v);
    }
    {
        auto v = base;
        v.context.raise(make_actor(NodeId{1}, 1), 4);
        variants.push_back(v);
    }
    {
        auto v = base;
        v.siblings.pop_back();
        variants.push_back(v);
    }
    variants.push_back(SiblingSet{});
    std::set<std::uint64_t> digests{digest(base)};
    for (const auto& v : variants) {
        REQUIRE_FALSE(v == base);
        CHECK(digest(v) != digest(base));
        digests.insert(digest(v));
    }
    CHECK(digests.size() == variants.size() + 1);
    // The stored form carries the digest: what the store holds gives it without a
    // second encoding (Node::entry_of_stored), for every state.
    variants.push_back(base);
    for (const auto& v : variants) {
        std::string stored;
        encode_stored(v, stored);
        CHECK(stored_digest(stored) == digest(v));
        SiblingSet back;
        REQUIRE_FALSE(decode_stored(stored, back));
        CHECK(digest(back) == stored_digest(stored));
    }
}

TEST_CASE("context tokens round trip and use URL-safe characters", "[codec]") {
    CHECK(context_to_token(VersionVector{}).empty());
    VersionVector out;
    out.raise(5, 5);
    CHECK_FALSE(context_from_token("", out));
    CHECK(out.empty());

    Rng rng(7);
    std::size_t nonempty = 0;
    for (int i = 0; i < 2000; ++i) {
        const VersionVector vv = random_vv(rng, 10);
        const std::string token = context_to_token(vv);
        INFO("token " << token);
        REQUIRE(token.empty() == vv.empty());
        REQUIRE(std::all_of(token.begin(), token.end(), valid_token_char));
        VersionVector back;
        REQUIRE_FALSE(context_from_token(token, back));
        REQUIRE(back == vv);
        if (!token.empty()) ++nonempty;
    }
    CHECK(nonempty > 1000);

    // Every alphabet character is reachable: characters 62 and 63 ('-', '_') appear.
    VersionVector all_ones;
    all_ones.raise(std::numeric_limits<std::uint64_t>::max(), shoal::k_max_counter - 1);
    const std::string t = context_to_token(all_ones);
    CHECK(t.find('_') != std::string::npos);
    VersionVector back;
    REQUIRE_FALSE(context_from_token(t, back));
    CHECK(back == all_ones);
}

TEST_CASE("bad context tokens are bad_context", "[codec]") {
    VersionVector vv;
    vv.raise(make_actor(NodeId{1}, 1), 3);
    vv.raise(make_actor(NodeId{2}, 1), 9);
    const std::string good = context_to_token(vv);
    REQUIRE(good.size() > 4);

    for (char bad : {'!', '=', ' ', '+', '/', '\0', '.'}) {
        for (std::size_t pos : {std::size_t{0}, good.size() / 2, good.size() - 1}) {
            std::string t = good;
            t[pos] = bad;
            VersionVector out;
            INFO("char " << int(bad) << " at " << pos);
            CHECK(context_from_token(t, out) == errc::bad_context);
        }
        VersionVector out;
        CHECK(context_from_token(good + bad, out) == errc::bad_context);
    }
    VersionVector out;
    // Padding is not part of the alphabet.
    CHECK(context_from_token(good + "==", out) == errc::bad_context);
    // Valid characters, invalid content.
    CHECK(context_from_token("A", out) == errc::bad_context);
    CHECK(context_from_token("____", out) == errc::bad_context);
    // Every truncation of a valid token is rejected.
    for (std::size_t len = 1; len < good.size(); ++len) {
        INFO("length " << len);
        const auto ec = context_from_token(std::string_view(good).substr(0, len), out);
        // A truncation may only drop trailing padding bits of the last byte.
        if (ec) {
            CHECK(ec == errc::bad_context);
        } else {
            CHECK(len * 6 / 8 == encoded(vv).size());
            CHECK(out == vv);
        }
    }
    // Over-long tokens fail without decoding.
    CHECK(context_from_token(std::string(k_max_context_entries * 40 + 1, 'A'), out) == errc::bad_context);
}

TEST_CASE("every truncation of a valid encoding fails", "[codec]") {
    Rng rng(99);
    for (int i = 0; i < 200; ++i) {
        SiblingSet in = random_set(rng);
        const std::string bytes = encoded(in);
        for (std::size_t len = 0; len < bytes.size(); ++len) {
            SiblingSet out;
            INFO("iteration " << i << " length " << len << " of " << bytes.size());
            REQUIRE(decode(std::string_view(bytes).substr(0, len), out) == errc::corrupt);
        }
        const std::string vbytes = encoded(in.context);
        for (std::size_t len = 0; len < vbytes.size(); ++len) {
            VersionVector out;
            REQUIRE(decode(std::string_view(vbytes).substr(0, len), out) == errc::bad_context);
        }
    }
    const std::string sample = encoded(sample_set());
    for (std::size_t len = 0; len < sample.size(); ++len) {
        SiblingSet out;
        CHECK(decode(std::string_view(sample).substr(0, len), out) == errc::corrupt);
    }
}

TEST_CASE("content types: kept with a value, canonical, and states written before them still decode", "[codec]") {
    SiblingSet s;
    s.context.raise(7, 2);
    s.siblings.push_back(Sibling{Dot{7, 1}, false, "v", Time{1}, Time{0}, "text/plain"});
    s.siblings.push_back(Sibling{Dot{7, 2}, false, "w", Time{2}, Time{0}, ""});
    const std::string bytes = encoded(s);
    SiblingSet back;
    REQUIRE_FALSE(decode(bytes, back));
    CHECK(back == s);
    // The same state without content types is the old encoding, byte for byte: the
    // flags byte is 0 or 1 and nothing follows the value.
    SiblingSet plain = s;
    plain.siblings[0].content_type.clear();
    const std::string old = encoded(plain);
    CHECK(old.size() + 1 + std::string("text/plain").size() == bytes.size());
    REQUIRE_FALSE(decode(old, back));
    CHECK(back == plain);
    // Non-canonical or over-long: refused.
    SiblingSet t;
    t.context.raise(7, 1);
    t.siblings.push_back(Sibling{Dot{7, 1}, true, "", Time{1}, Time{0}, ""});
    std::string typed_tombstone = encoded(t);
    const std::size_t flags_at = typed_tombstone.size() - 1 - 1 - 1 - 1 - 1 - 1;  // flags, actor, counter, 2 times, len
    REQUIRE(typed_tombstone[flags_at] == 1);
    typed_tombstone[flags_at] = 3;
    typed_tombstone += std::string("\x01x", 2);
    CHECK(decode(typed_tombstone, back) == errc::corrupt);
    SiblingSet long_type = s;
    long_type.siblings[0].content_type = std::string(shoal::k_max_content_type_bytes + 1, 't');
    CHECK(decode(encoded(long_type), back) == errc::corrupt);
    long_type.siblings[0].content_type = std::string(shoal::k_max_content_type_bytes, 't');
    CHECK_FALSE(decode(encoded(long_type), back));
}

TEST_CASE("malformed encodings are rejected", "[codec]") {
    const std::string good = encoded(sample_set());
    SiblingSet out;
    REQUIRE_FALSE(decode(good, out));

    SECTION("wrong version byte") {
        for (int v : {0, 2, 0x81, 0xff}) {
            std::string b = good;
            b[0] = static_cast<char>(v);
            CHECK(decode(b, out) == errc::corrupt);
        }
    }
    SECTION("trailing garbage") {
        CHECK(decode(good + '\0', out) == errc::corrupt);
        CHECK(decode(good + "xyz", out) == errc::corrupt);
        VersionVector vv;
        vv.raise(3, 4);
        VersionVector vout;
        CHECK(decode(encoded(vv) + '\0', vout) == errc::bad_context);
    }
    SECTION("huge declared counts fail fast") {
        const auto start = std::chrono::steady_clock::now();
        // Context entry count 2^40.
        std::string b(1, '\x01');
        put_varint(b, std::uint64_t{1} << 40);
        b += std::string(16, '\x01');
        CHECK(decode(b, out) == errc::corrupt);
        // Sibling count 2^40 after a valid context.
        std::string c(1, '\x01');
        put_varint(c, 1);
        put_varint(c, 1);
        put_varint(c, 1);
        put_varint(c, std::uint64_t{1} << 40);
        c += std::string(64, '\x01');
        CHECK(decode(c, out) == errc::corrupt);
        // Sibling count 2^64-1.
        std::string d(1, '\x01');
        put_varint(d, 0);
        put_varint(d, std::numeric_limits<std::uint64_t>::max());
        CHECK(decode(d, out) == errc::corrupt);
        // Counts within the limits but beyond the bytes present.
        std::string e(1, '\x01');
        put_varint(e, k_max_context_entries);
        e += std::string(20, '\x01');
        CHECK(decode(e, out) == errc::corrupt);
        std::string f(1, '\x01');
        put_varint(f, 0);
        put_varint(f, 65536);
        f += std::string(100, '\0');
        CHECK(decode(f, out) == errc::corrupt);
        // Over the context limit even with enough bytes.
        std::string g;
        put_varint(g, k_max_context_entries + 1);
        for (std::uint64_t i = 1; i <= k_max_context_entries + 1; ++i) {
            put_varint(g, i);
            put_varint(g, 1);
        }
        VersionVector vout;
        CHECK(decode(g, vout) == errc::bad_context);
        // A value length of 2^40.
        std::string h(1, '\x01');
        put_varint(h, 1);
        put_varint(h, 1);
        put_varint(h, 1);
        put_varint(h, 1);
        h += std::string("\x00\x01\x01\x00\x00", 5);
        put_varint(h, std::uint64_t{1} << 40);
        h += "abc";
        CHECK(decode(h, out) == errc::corrupt);
        // VV count 2^40.
        std::string v;
        put_varint(v, std::uint64_t{1} << 40);
        v += std::string(8, '\x01');
        CHECK(decode(v, vout) == errc::bad_context);
        const auto took = std::chrono::steady_clock::now() - start;
        CHECK(took < std::chrono::milliseconds(500));
    }
    SECTION("non-canonical version vectors") {
        VersionVector vout;
        // Actors decreasing: 5 then 3.
        CHECK(decode(std::string("\x02\x05\x01\x03\x01", 5), vout) == errc::bad_context);
        // Actors equal.
        CHECK(decode(std::string("\x02\x03\x01\x03\x02", 5), vout) == errc::bad_context);
        // Zero counter.
        CHECK(decode(std::string("\x01\x03\x00", 3), vout) == errc::bad_context);
        CHECK(decode(std::string("\x02\x03\x01\x04\x00", 5), vout) == errc::bad_context);
        // The canonical form of the same decodes.
        REQUIRE_FALSE(decode(std::string("\x02\x03\x01\x05\x01", 5), vout));
        const std::vector<VersionVector::Entry> expected{{3, 1}, {5, 1}};
        CHECK(vout.entries() == expected);
        // The same inside a sibling set's context.
        CHECK(decode(std::string("\x01\x02\x05\x01\x03\x01\x00", 7), out) == errc::corrupt);
        CHECK(decode(std::string("\x01\x01\x03\x00\x00", 5), out) == errc::corrupt);
        REQUIRE_FALSE(decode(std::string("\x01\x02\x03\x01\x05\x01\x00", 7), out));
        CHECK(out.context.entries() == expected);
    }
    SECTION("siblings not covered, unsorted, duplicated or malformed") {
        const ActorId a1 = make_actor(NodeId{1}, 1);
        const ActorId a2 = make_actor(NodeId{2}, 1);
        auto with = [&](std::vector<Sibling> sibs) {
            SiblingSet s;
            s.context.raise(a1, 2);
            s.siblings = std::move(sibs);
            return encoded(s);
        };
        Sibling s1{Dot{a1, 1}, false, "a", Time{1}, Time{0}};
        Sibling s2{Dot{a1, 2}, false, "b", Time{2}, Time{0}};
        REQUIRE_FALSE(decode(with({s1, s2}), out));
        // Dot beyond the context's counter.
        CHECK(decode(with({Sibling{Dot{a1, 3}, false, "c", Time{3}, Time{0}}}), out) == errc::corrupt);
        // Actor absent from the context.
        CHECK(decode(with({Sibling{Dot{a2, 1}, false, "c", Time{3}, Time{0}}}), out) == errc::corrupt);
        // Counter 0.
        CHECK(decode(with({Sibling{Dot{a1, 0}, false, "c", Time{3}, Time{0}}}), out) == errc::corrupt);
        // Unsorted and duplicate dots.
        CHECK(decode(with({s2, s1}), out) == errc::corrupt);
        CHECK(decode(with({s1, s1}), out) == errc::corrupt);
        // Flags byte other than 0 or 1.
        std::string b = with({s1});
        // The flags byte follows version, context (count + one entry) and the sibling count.
        std::string prefix(1, '\x01');
        {
            VersionVector ctx;
            ctx.raise(a1, 2);
            prefix += encoded(ctx);
        }
        put_varint(prefix, 1);
        REQUIRE(b.compare(0, prefix.size(), prefix) == 0);
        REQUIRE(b[prefix.size()] == '\0');
        for (int flag : {2, 0x80, 0xff}) {
            std::string bad = b;
            bad[prefix.size()] = static_cast<char>(flag);
            CHECK(decode(bad, out) == errc::corrupt);
        }
        std::string tomb = b;
        tomb[prefix.size()] = '\x01';
        REQUIRE_FALSE(decode(tomb, out));
        CHECK(out.siblings.at(0).tombstone);
    }
}

TEST_CASE("random and mutated bytes never crash the decoder", "[codec]") {
    Rng rng(2024);
    std::size_t decoded = 0;
    auto check_set = [&](const std::string& bytes) {
        SiblingSet out;
        const auto ec = decode(bytes, out);
        if (!ec) {
            ++decoded;
            // Whatever decodes is canonical: sorted, distinct, covered; and it
            // survives its own round trip.
            for (std::size_t i = 0; i < out.siblings.size(); ++i) {
                REQUIRE(out.context.covers(out.siblings[i].dot));
                if (i > 0) REQUIRE(out.siblings[i - 1].dot < out.siblings[i].dot);
            }
            SiblingSet again;
            REQUIRE_FALSE(decode(encoded(out), again));
            REQUIRE(again == out);
        } else {
            REQUIRE(ec == errc::corrupt);
        }
    };
    auto check_vv = [&](const std::string& bytes) {
        VersionVector out;
        const auto ec = decode(bytes, out);
        if (!ec) {
            const auto& e = out.entries();
            for (std::size_t i = 0; i < e.size(); ++i) {
                REQUIRE(e[i].second != 0);
                if (i > 0) REQUIRE(e[i - 1].first < e[i].first);
            }
        } else {
            REQUIRE(ec == errc::bad_context);
        }
        std::string token;
        for (unsigned char c : bytes)
            token.push_back("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[c & 63]);
        const auto tec = context_from_token(token, out);
        REQUIRE((!tec || tec == errc::bad_context));
    };

    for (int i = 0; i < 3000; ++i) {
        std::string bytes = random_bytes(rng, 64);
        if (!bytes.empty() && rng.chance(0.5)) bytes[0] = '\x01';
        check_set(bytes);
        check_vv(bytes);
    }
    // Mutations of valid encodings reach deeper into the decoder.
    for (int i = 0; i < 3000; ++i) {
        std::string bytes = encoded(random_set(rng));
        const auto edits = 1 + rng.below(3);
        for (std::uint64_t e = 0; e < edits && !bytes.empty(); ++e) {
            switch (rng.below(3)) {
                case 0: bytes[rng.below(bytes.size())] = static_cast<char>(rng.below(256)); break;
                case 1: bytes.erase(rng.below(bytes.size()), 1 + rng.below(4)); break;
                default: bytes.insert(rng.below(bytes.size() + 1), 1, static_cast<char>(rng.below(256))); break;
            }
        }
        check_set(bytes);
        check_vv(bytes);
    }
    CHECK(decoded > 0);
}
