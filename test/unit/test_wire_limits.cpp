// Unit tests for the native wire protocol's limits: bounds enforced on the segment
// table before the body arrives, content validation, and robustness against
// truncated, flipped and random input.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>

#include "core/limits.h"
#include "wire_test_util.h"

using namespace wire_test;

TEST_CASE("wire: a frame claiming 4 GiB is refused from its first 8 bytes", "[wire]") {
    std::string header(8, '\0');
    put_u32(header, 0, 0);           // one segment
    put_u32(header, 4, 0x20000000);  // of 2^29 words = 4 GiB
    FrameReader reader;
    reader.feed(header);
    Frame f;
    std::error_code why;
    CHECK(reader.next(f, why) == FrameReader::Status::error);
    CHECK(why == errc::value_too_large);
    CHECK(reader.buffered() == 8);
    // The error sticks: the stream cannot be resynchronised.
    reader.feed(std::string(64, '\0'));
    CHECK(reader.next(f, why) == FrameReader::Status::error);
    CHECK(why == errc::value_too_large);
}

TEST_CASE("wire: segment sizes summing past the limit are refused as they arrive", "[wire]") {
    std::string header(8, '\0');
    // Each segment alone is 60% of the default limit; the two together pass it.
    const auto words = static_cast<std::uint32_t>(shoal::wire::k_default_max_frame_bytes * 6 / 10 / 8);
    put_u32(header, 0, 2);      // three segments
    put_u32(header, 4, words);
    FrameReader reader;
    reader.feed(header);
    Frame f;
    std::error_code why;
    CHECK(reader.next(f, why) == FrameReader::Status::need_more);
    std::string second(4, '\0');
    put_u32(second, 0, words);
    reader.feed(second);
    CHECK(reader.next(f, why) == FrameReader::Status::error);
    CHECK(why == errc::value_too_large);
}

TEST_CASE("wire: a frame over a configured limit is refused before its body", "[wire]") {
    std::string bytes;
    shoal::wire::encode_peer(GetResp{1, errc::ok, sample_state()}, bytes);
    // Its 10 kB value sits in a second segment: feed the whole segment table only.
    const std::size_t segments = static_cast<std::uint8_t>(bytes[0]) + 1u;
    const std::size_t table_bytes = (4 + 4 * segments + 7) / 8 * 8;
    REQUIRE(table_bytes < bytes.size());
    FrameReader reader(1024);
    reader.feed(std::string_view(bytes).substr(0, table_bytes));
    Frame f;
    std::error_code why;
    CHECK(reader.next(f, why) == FrameReader::Status::error);
    CHECK(why == errc::value_too_large);
}

TEST_CASE("wire: the largest hello fits the first-frame limit; a reader raised after it takes larger frames",
          "[wire][limits]") {
    shoal::wire::Hello hello;
    hello.role = shoal::wire::Hello::Role::peer;
    hello.node = shoal::NodeId{0xffffffffu};
    hello.protocol = 0xffffffffu;
    std::string bytes;
    shoal::wire::encode_hello(hello, bytes);
    CHECK(bytes.size() <= shoal::k_max_hello_frame_bytes);

    // What a stranger's connection is held to: a hello, then the port's own limit.
    std::string big;
    shoal::wire::encode_peer(GetResp{1, errc::ok, sample_state()}, big);
    REQUIRE(big.size() > shoal::k_max_hello_frame_bytes);
    FrameReader strict(shoal::k_max_hello_frame_bytes);
    strict.feed(big);
    Frame f;
    std::error_code why;
    CHECK(strict.next(f, why) == FrameReader::Status::error);
    CHECK(why == errc::value_too_large);

    FrameReader reader(shoal::k_max_hello_frame_bytes);
    reader.feed(bytes);
    REQUIRE(reader.next(f, why) == FrameReader::Status::frame);
    CHECK(f.kind == Frame::Kind::hello);
    reader.set_max_frame_bytes(shoal::wire::k_default_max_frame_bytes);
    reader.feed(big);
    CHECK(reader.next(f, why) == FrameReader::Status::frame);
}

TEST_CASE("wire: more than 64 segments are refused", "[wire]") {
    std::string header(4, '\0');
    put_u32(header, 0, 999);  // 1000 segments
    require_error(header, errc::value_too_large);
    put_u32(header, 0, 0xffffffff);  // 2^32 segments: no overflow
    require_error(header, errc::value_too_large);
}

TEST_CASE("wire: a truncated frame needs more, at every length", "[wire]") {
    std::string bytes;
    shoal::wire::encode_reply(1, sample_reply(errc::ok), bytes);
    for (std::size_t n = 0; n < bytes.size(); ++n) {
        std::error_code why;
        REQUIRE(feed_all(std::string_view(bytes).substr(0, n), why) == FrameReader::Status::need_more);
    }
}

TEST_CASE("wire: random garbage never crashes", "[wire]") {
    Rng rng(20240601);
    int errors = 0;
    for (int i = 0; i < 6000; ++i) {
        std::string bytes = random_bytes(rng, rng.below(i % 10 == 0 ? 5000 : 300));
        if (i % 2 == 1 && bytes.size() >= 16) {
            // A plausible one-segment table, so the garbage reaches the capnp decoder.
            bytes.resize(bytes.size() / 8 * 8);
            put_u32(bytes, 0, 0);
            put_u32(bytes, 4, static_cast<std::uint32_t>(bytes.size() / 8 - 1));
        }
        std::error_code why;
        std::vector<Frame> decoded;
        auto status = feed_all(bytes, why, &decoded);
        REQUIRE(status != FrameReader::Status::frame);
        if (status == FrameReader::Status::error) {
            ++errors;
            CHECK((why == errc::bad_request || why == errc::value_too_large));
        }
        for (const auto& f : decoded) decode_one(encoded(f));  // anything accepted is valid
    }
    CHECK(errors > 1000);
}

TEST_CASE("wire: flipped bytes in valid frames decode validly or fail, never crash", "[wire]") {
    Rng rng(99);
    const auto frames = sample_frames();
    int accepted = 0, refused = 0;
    for (int i = 0; i < 8000; ++i) {
        std::string bytes = encoded(frames[rng.below(frames.size())]);
        const int flips = 1 + static_cast<int>(rng.below(4));
        for (int k = 0; k < flips; ++k) {
            // Favour the first words: the segment table, root pointer and pointers.
            const std::size_t at =
                rng.chance(0.5) ? rng.below(std::min<std::size_t>(bytes.size(), 64)) : rng.below(bytes.size());
            bytes[at] = static_cast<char>(bytes[at] ^ (1 + rng.below(255)));
        }
        std::error_code why;
        std::vector<Frame> decoded;
        auto status = feed_all(bytes, why, &decoded);
        if (status == FrameReader::Status::error) ++refused;
        for (const auto& f : decoded) {
            ++accepted;
            decode_one(encoded(f));  // what was accepted re-encodes to a valid frame
        }
    }
    CHECK(accepted > 0);
    CHECK(refused > 0);
}

TEST_CASE("wire: non-canonical contexts inside a frame are refused", "[wire]") {
    constexpr std::uint64_t k_actor_x = 0x1111'2222'3333'4444;
    constexpr std::uint64_t k_actor_y = 0x5555'6666'7777'8888;
    constexpr std::uint64_t k_counter = 0x0123'4567'89ab'cdef;
    ClientRequest q = sample_request(ClientOp::put);
    q.context = make_vv({{k_actor_x, 3}, {k_actor_y, k_counter}});
    std::string good;
    shoal::wire::encode_request(1, q, good);
    decode_one(good);

    SECTION("a zero counter") {
        std::string bad = good;
        put_u64(bad, find_u64(bad, k_counter), 0);
        require_error(bad, errc::bad_request);
    }
    SECTION("a repeated actor") {
        std::string bad = good;
        put_u64(bad, find_u64(bad, k_actor_y), k_actor_x);
        require_error(bad, errc::bad_request);
    }
    SECTION("actors out of order") {
        std::string bad = good;
        put_u64(bad, find_u64(bad, k_actor_x), k_actor_y + 1);
        require_error(bad, errc::bad_request);
    }
}

TEST_CASE("wire: sibling sets must be sorted and covered by their context", "[wire]") {
    // The encoder does not validate, so a sender can put these on the wire.
    SiblingSet s;
    s.context = make_vv({{a1, 10}, {a2, 20}});
    s.siblings.push_back(Sibling{Dot{a1, 9}, false, "a", Time{1}, Time{}});
    s.siblings.push_back(Sibling{Dot{a2, 20}, true, "", Time{2}, Time{}});
    std::string good;
    shoal::wire::encode_peer(ReplicateReq{1, "k", s, NodeId{}}, good);
    decode_one(good);

    SECTION("a dot the context has not seen") {
        SiblingSet uncovered = s;
        uncovered.context = make_vv({{a1, 10}, {a2, 19}});
        std::string raw;
        shoal::wire::encode_peer(ReplicateReq{1, "k", uncovered, NodeId{}}, raw);
        require_error(raw, errc::bad_request);
    }
    SECTION("a zero dot") {
        SiblingSet zero = s;
        zero.siblings.insert(zero.siblings.begin(), Sibling{Dot{a1, 0}, false, "z", Time{}, Time{}});
        std::string raw;
        shoal::wire::encode_peer(GetResp{1, errc::ok, zero}, raw);
        require_error(raw, errc::bad_request);
    }
    SECTION("siblings out of order") {
        SiblingSet unsorted = s;
        std::swap(unsorted.siblings[0], unsorted.siblings[1]);
        std::string raw;
        shoal::wire::encode_peer(GetResp{1, errc::ok, unsorted}, raw);
        require_error(raw, errc::bad_request);
    }
    SECTION("a repeated dot") {
        SiblingSet dup = s;
        dup.siblings[1] = dup.siblings[0];
        std::string raw;
        shoal::wire::encode_peer(PutLeaderResp{1, errc::ok, Dot{}, dup}, raw);
        require_error(raw, errc::bad_request);
    }
    SECTION("in a client reply too") {
        ClientReply p;
        p.context = s.context;
        p.siblings = {s.siblings[1], s.siblings[0]};
        std::string raw;
        shoal::wire::encode_reply(1, p, raw);
        require_error(raw, errc::bad_request);
    }
}

TEST_CASE("wire: counts over the bounds are refused", "[wire]") {
    SECTION("a context of 4097 entries") {
        ClientRequest q = sample_request(ClientOp::del);
        q.context = VersionVector{};
        for (std::uint64_t a = 1; a <= 4097; ++a) q.context.raise(a, a);
        std::string bytes;
        shoal::wire::encode_request(1, q, bytes);
        require_error(bytes, errc::bad_request);
        q.context = VersionVector{};
        for (std::uint64_t a = 1; a <= 4096; ++a) q.context.raise(a, a);
        bytes.clear();
        shoal::wire::encode_request(1, q, bytes);
        CHECK(decode_one(bytes).request.request.context == q.context);
    }
    SECTION("65537 siblings") {
        SiblingSet big;
        big.context = make_vv({{a1, 65537}});
        for (std::uint64_t c = 1; c <= 65537; ++c)
            big.siblings.push_back(Sibling{Dot{a1, c}, true, "", Time{}, Time{}});
        std::string bytes;
        shoal::wire::encode_peer(GetResp{1, errc::ok, big}, bytes);
        FrameReader reader(64 * 1024 * 1024);
        reader.feed(bytes);
        Frame f;
        std::error_code why;
        CHECK(reader.next(f, why) == FrameReader::Status::error);
        CHECK(why == errc::bad_request);
    }
}

TEST_CASE("wire: unknown union members, enums and error codes are refused", "[wire]") {
    SECTION("an unknown frame kind") {
        std::string bytes;
        shoal::wire::encode_peer(Ping{1}, bytes);
        // One-segment table (8 bytes), root pointer (8), then Frame's data word whose
        // first 16 bits are the union tag: ping is @7.
        REQUIRE(bytes[16] == 7);
        REQUIRE(bytes[17] == 0);
        decode_one(bytes);
        bytes[16] = static_cast<char>(200);
        require_error(bytes, errc::bad_request);
    }
    SECTION("an unknown hello role") {
        std::string bytes;
        shoal::wire::encode_hello(Hello{Hello::Role::client, NodeId{0xa1b2c3d4}, 1}, bytes);
        decode_one(bytes);
        put_u64(bytes, find_u64(bytes, 0xa1b2c3d4'0000'0001), 0xa1b2c3d4'0000'0005);
        require_error(bytes, errc::bad_request);
    }
    SECTION("an unknown client op") {
        constexpr std::uint64_t k_id = 0x0fed'cba9'8765'4321;
        std::string bytes;
        shoal::wire::encode_request(k_id, sample_request(ClientOp::put), bytes);
        decode_one(bytes);
        const std::size_t op_at = find_u64(bytes, k_id) + 8;  // op follows the id
        REQUIRE(bytes[op_at] == 1);                           // put is @1
        bytes[op_at] = 3;
        require_error(bytes, errc::bad_request);
    }
    SECTION("an unknown error code") {
        constexpr std::uint64_t k_req = 0x0fed'cba9'8765'4321;
        std::string bytes;
        shoal::wire::encode_peer(PutLeaderResp{k_req, shoal::k_last_errc, Dot{a1, 1}, sample_state()}, bytes);
        decode_one(bytes);
        const std::size_t code_at = find_u64(bytes, k_req) + 8;  // code follows req
        REQUIRE(static_cast<std::uint8_t>(bytes[code_at]) == static_cast<std::uint8_t>(shoal::k_last_errc));
        bytes[code_at] = static_cast<char>(static_cast<int>(shoal::k_last_errc) + 1);
        require_error(bytes, errc::bad_request);
    }
    SECTION("a frame whose member is a null pointer") {
        std::string bytes;
        shoal::wire::encode_peer(Ping{1}, bytes);
        put_u64(bytes, 24, 0);  // Frame's pointer section: the ping struct pointer
        require_error(bytes, errc::bad_request);
    }
}
