// Unit tests for the native wire protocol: round trips of every frame kind, stream
// reassembly, bounds enforced on the segment table before the body arrives, content
// validation, and robustness against truncated, flipped and random input.
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <catch2/catch.hpp>

#include "core/errc.h"
#include "core/rng.h"
#include "core/types.h"
#include "replica/messages.h"
#include "replica/version.h"
#include "wire/wire.h"

using shoal::errc;
using shoal::NodeId;
using shoal::Rng;
using shoal::Time;
using shoal::replica::ActorId;
using shoal::replica::ClientOp;
using shoal::replica::ClientReply;
using shoal::replica::ClientRequest;
using shoal::replica::Dot;
using shoal::replica::GetReq;
using shoal::replica::GetResp;
using shoal::replica::make_actor;
using shoal::replica::PeerMessage;
using shoal::replica::Ping;
using shoal::replica::Pong;
using shoal::replica::PutLeaderReq;
using shoal::replica::PutLeaderResp;
using shoal::replica::ReplicateReq;
using shoal::replica::ReplicateResp;
using shoal::replica::Sibling;
using shoal::replica::SiblingSet;
using shoal::replica::VersionVector;
using shoal::wire::Frame;
using shoal::wire::FrameReader;
using shoal::wire::Hello;

namespace {

constexpr std::uint64_t k_u64_max = std::numeric_limits<std::uint64_t>::max();
constexpr errc k_all_errc[] = {
    errc::ok,          errc::bad_request,    errc::key_too_large, errc::value_too_large, errc::too_many_siblings,
    errc::bad_context, errc::quorum_not_met, errc::timeout,       errc::unavailable,     errc::overloaded,
    errc::store_error, errc::corrupt,        errc::not_found,     errc::shutting_down,
};

const ActorId a1 = make_actor(NodeId{1}, 3);
const ActorId a2 = make_actor(NodeId{2}, 1);
const ActorId a3 = make_actor(NodeId{0xffffffff}, 0xffffffff);

std::string binary(std::string_view s) {
    return std::string(s);
}

std::string random_bytes(Rng& rng, std::size_t n) {
    std::string s(n, '\0');
    for (auto& c : s) c = static_cast<char>(rng.below(256));
    return s;
}

VersionVector make_vv(std::initializer_list<std::pair<ActorId, std::uint64_t>> entries) {
    VersionVector vv;
    for (const auto& [actor, counter] : entries) vv.raise(actor, counter);
    return vv;
}

// A state with binary values, a tombstone, expiry, extreme ids and counters.
SiblingSet sample_state() {
    Rng rng(7);
    SiblingSet s;
    s.context = make_vv({{a1, 5}, {a2, 2}, {a3, k_u64_max}});
    s.siblings.push_back(Sibling{Dot{a1, 4}, false, binary({"v\0al\xff", 5}), Time{1'700'000'000'000'000}, Time{0}});
    s.siblings.push_back(Sibling{Dot{a1, 5}, true, "", Time{-42}, Time{0}});
    s.siblings.push_back(Sibling{Dot{a2, 2}, false, "", Time{5}, Time{1'700'000'000'000'999}});
    s.siblings.push_back(Sibling{Dot{a3, k_u64_max}, false, random_bytes(rng, 10000),
                                 Time{std::numeric_limits<std::int64_t>::max()},
                                 Time{std::numeric_limits<std::int64_t>::min()}});
    return s;
}

ClientRequest sample_request(ClientOp op) {
    ClientRequest q;
    q.op = op;
    q.key = binary({"\0key\0", 5});
    q.value = op == ClientOp::put ? binary({"\xff\0\x01value", 8}) : "";
    q.context = make_vv({{a1, 9}, {a3, 1}});
    q.options = {1, 2, 3, 4, 5, 6, 7'000, 86'400};
    return q;
}

ClientReply sample_reply(errc code) {
    const SiblingSet state = sample_state();
    ClientReply p;
    p.code = code;
    p.replies = 2;
    p.required = 3;
    p.context = state.context;
    for (const auto& s : state.siblings) {
        if (!s.tombstone) p.siblings.push_back(s);
    }
    p.dot = Dot{a2, 77};
    return p;
}

// Every kind of frame, with non-trivial contents.
std::vector<Frame> sample_frames() {
    std::vector<Frame> frames;
    auto add = [&](auto fill) {
        Frame f;
        fill(f);
        frames.push_back(std::move(f));
    };
    add([](Frame& f) { f.kind = Frame::Kind::hello, f.hello = Hello{Hello::Role::peer, NodeId{3}, 1}; });
    add([](Frame& f) { f.kind = Frame::Kind::hello, f.hello = Hello{Hello::Role::client, NodeId{}, 9}; });
    PutLeaderReq plr{11, binary({"k\0", 2}), {}, NodeId{4}, 64};
    plr.op = {binary({"\0", 1}), false, make_vv({{a1, 3}}), Time{123}, Time{456}};
    add([&](Frame& f) { f.kind = Frame::Kind::peer, f.peer = plr; });
    add([](Frame& f) {
        f.kind = Frame::Kind::peer, f.peer = PutLeaderResp{12, errc::too_many_siblings, Dot{a1, 5}, sample_state()};
    });
    add([](Frame& f) { f.kind = Frame::Kind::peer, f.peer = ReplicateReq{0, "key", sample_state(), NodeId{9}}; });
    add([](Frame& f) { f.kind = Frame::Kind::peer, f.peer = ReplicateResp{13, errc::store_error}; });
    add([](Frame& f) { f.kind = Frame::Kind::peer, f.peer = GetReq{14, binary({"\0\0\0", 3})}; });
    add([](Frame& f) { f.kind = Frame::Kind::peer, f.peer = GetResp{15, errc::ok, sample_state()}; });
    add([](Frame& f) { f.kind = Frame::Kind::peer, f.peer = GetResp{16, errc::not_found, SiblingSet{}}; });
    add([](Frame& f) { f.kind = Frame::Kind::peer, f.peer = Ping{k_u64_max}; });
    add([](Frame& f) { f.kind = Frame::Kind::peer, f.peer = Pong{0}; });
    add([](Frame& f) { f.kind = Frame::Kind::client_request, f.request = {17, sample_request(ClientOp::put)}; });
    add([](Frame& f) { f.kind = Frame::Kind::client_request, f.request = {18, sample_request(ClientOp::del)}; });
    add([](Frame& f) { f.kind = Frame::Kind::client_reply, f.reply = {19, sample_reply(errc::ok)}; });
    return frames;
}

void encode(const Frame& f, std::string& out) {
    switch (f.kind) {
        case Frame::Kind::hello: shoal::wire::encode_hello(f.hello, out); return;
        case Frame::Kind::peer: shoal::wire::encode_peer(f.peer, out); return;
        case Frame::Kind::client_request:
            shoal::wire::encode_request(f.request.request_id, f.request.request, out);
            return;
        case Frame::Kind::client_reply: shoal::wire::encode_reply(f.reply.request_id, f.reply.reply, out); return;
    }
}

std::string encoded(const Frame& f) {
    std::string out;
    encode(f, out);
    return out;
}

// Decodes bytes that must hold exactly one valid frame.
Frame decode_one(const std::string& bytes) {
    FrameReader reader;
    reader.feed(bytes);
    Frame f;
    std::error_code why;
    REQUIRE(reader.next(f, why) == FrameReader::Status::frame);
    CHECK(!why);
    CHECK(reader.buffered() == 0);
    Frame none;
    CHECK(reader.next(none, why) == FrameReader::Status::need_more);
    return f;
}

template <typename M>
M round_trip_peer(const M& m) {
    std::string bytes;
    shoal::wire::encode_peer(m, bytes);
    REQUIRE(bytes.size() % 8 == 0);
    Frame f = decode_one(bytes);
    REQUIRE(f.kind == Frame::Kind::peer);
    REQUIRE(std::holds_alternative<M>(f.peer));
    return std::get<M>(f.peer);
}

// Decodes the stream fed in chunks of `chunk` bytes (0: random sizes).
std::vector<Frame> decode_stream(const std::string& bytes, std::size_t chunk, Rng* rng = nullptr) {
    FrameReader reader;
    std::vector<Frame> frames;
    std::size_t at = 0;
    while (at < bytes.size()) {
        std::size_t n = chunk != 0 ? chunk : 1 + rng->below(3000);
        n = std::min(n, bytes.size() - at);
        reader.feed(std::string_view(bytes).substr(at, n));
        at += n;
        for (;;) {
            Frame f;
            std::error_code why;
            auto status = reader.next(f, why);
            REQUIRE(status != FrameReader::Status::error);
            if (status == FrameReader::Status::need_more) break;
            frames.push_back(std::move(f));
        }
    }
    CHECK(reader.buffered() == 0);
    return frames;
}

std::string concat(const std::vector<Frame>& frames) {
    std::string out;
    for (const auto& f : frames) encode(f, out);
    return out;
}

// Feeds bytes and drains the reader; returns the last status (never frame).
FrameReader::Status drain(FrameReader& reader, std::string_view bytes, std::error_code& why,
                          std::vector<Frame>* decoded = nullptr) {
    reader.feed(bytes);
    for (int i = 0; i < 10000; ++i) {
        Frame f;
        auto status = reader.next(f, why);
        if (status != FrameReader::Status::frame) return status;
        if (decoded) decoded->push_back(std::move(f));
    }
    FAIL("reader kept producing frames");
    return FrameReader::Status::error;
}

FrameReader::Status feed_all(std::string_view bytes, std::error_code& why, std::vector<Frame>* decoded = nullptr) {
    FrameReader reader;
    return drain(reader, bytes, why, decoded);
}

void put_u32(std::string& s, std::size_t at, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) s[at + i] = static_cast<char>(v >> (8 * i));
}
void put_u64(std::string& s, std::size_t at, std::uint64_t v) {
    for (int i = 0; i < 8; ++i) s[at + i] = static_cast<char>(v >> (8 * i));
}
std::string u64_bytes(std::uint64_t v) {
    std::string s(8, '\0');
    put_u64(s, 0, v);
    return s;
}

// The offset of the one occurrence of the 8-byte little-endian `needle` in bytes.
std::size_t find_u64(const std::string& bytes, std::uint64_t needle) {
    const std::string n = u64_bytes(needle);
    const std::size_t at = bytes.find(n);
    REQUIRE(at != std::string::npos);
    REQUIRE(bytes.find(n, at + 1) == std::string::npos);
    return at;
}

void require_error(const std::string& bytes, errc expected) {
    std::error_code why;
    REQUIRE(feed_all(bytes, why) == FrameReader::Status::error);
    CHECK(why == expected);
}

void check_same(const Frame& a, const Frame& b) {
    REQUIRE(a.kind == b.kind);
    CHECK(encoded(a) == encoded(b));
}

}  // namespace

TEST_CASE("wire: hello round trip", "[wire]") {
    for (auto role : {Hello::Role::peer, Hello::Role::client}) {
        Hello h{role, NodeId{role == Hello::Role::peer ? 0xfffffffeu : 0u}, 0xabcdef};
        std::string bytes;
        shoal::wire::encode_hello(h, bytes);
        Frame f = decode_one(bytes);
        REQUIRE(f.kind == Frame::Kind::hello);
        CHECK(f.hello.role == h.role);
        CHECK(f.hello.node == h.node);
        CHECK(f.hello.protocol == h.protocol);
    }
}

TEST_CASE("wire: peer hello without a node id is refused", "[wire]") {
    std::string bytes;
    shoal::wire::encode_hello(Hello{Hello::Role::peer, NodeId{}, 1}, bytes);
    require_error(bytes, errc::bad_request);
}

TEST_CASE("wire: put leader request and response round trip", "[wire]") {
    PutLeaderReq m;
    m.req = k_u64_max;
    m.key = binary({"a\0b", 3});
    m.op.value = binary({"\0\xff\0", 3});
    m.op.tombstone = true;
    m.op.context = make_vv({{a1, 1}, {a2, 1u << 31}, {a3, k_u64_max}});
    m.op.written = Time{-1};
    m.op.expires = Time{999};
    m.hint_for = NodeId{42};
    m.max_siblings = 4096;
    auto d = round_trip_peer(m);
    CHECK(d.req == m.req);
    CHECK(d.key == m.key);
    CHECK(d.op.value == m.op.value);
    CHECK(d.op.tombstone == m.op.tombstone);
    CHECK(d.op.context == m.op.context);
    CHECK(d.op.written == m.op.written);
    CHECK(d.op.expires == m.op.expires);
    CHECK(d.hint_for == m.hint_for);
    CHECK(d.max_siblings == m.max_siblings);

    for (errc code : k_all_errc) {
        PutLeaderResp r{7, code, Dot{a2, 2}, sample_state()};
        auto dr = round_trip_peer(r);
        CHECK(dr.req == r.req);
        CHECK(dr.code == code);
        CHECK(dr.dot == r.dot);
        CHECK(dr.state == r.state);
    }
}

TEST_CASE("wire: replicate, get, ping and pong round trip", "[wire]") {
    ReplicateReq rr{0, binary({"\0", 1}), sample_state(), NodeId{5}};
    auto drr = round_trip_peer(rr);
    CHECK(drr.req == 0);
    CHECK(drr.key == rr.key);
    CHECK(drr.state == rr.state);
    CHECK(drr.hint_for == rr.hint_for);

    for (errc code : k_all_errc) {
        auto d = round_trip_peer(ReplicateResp{99, code});
        CHECK(d.req == 99);
        CHECK(d.code == code);
        auto g = round_trip_peer(GetResp{100, code, sample_state()});
        CHECK(g.req == 100);
        CHECK(g.code == code);
        CHECK(g.state == sample_state());
    }
    auto empty = round_trip_peer(GetResp{1, errc::not_found, SiblingSet{}});
    CHECK(empty.state.empty());

    auto g = round_trip_peer(GetReq{3, binary({"x\0y\0", 4})});
    CHECK(g.req == 3);
    CHECK(g.key == binary({"x\0y\0", 4}));
    CHECK(round_trip_peer(Ping{k_u64_max}).seq == k_u64_max);
    CHECK(round_trip_peer(Pong{12345}).seq == 12345);
}

TEST_CASE("wire: client request round trip, every op and option", "[wire]") {
    for (auto op : {ClientOp::get, ClientOp::put, ClientOp::del}) {
        const ClientRequest q = sample_request(op);
        std::string bytes;
        shoal::wire::encode_request(k_u64_max - 1, q, bytes);
        Frame f = decode_one(bytes);
        REQUIRE(f.kind == Frame::Kind::client_request);
        CHECK(f.request.request_id == k_u64_max - 1);
        const auto& d = f.request.request;
        CHECK(d.op == op);
        CHECK(d.key == q.key);
        CHECK(d.value == q.value);
        CHECK(d.context == q.context);
        CHECK(d.options.n == 1);
        CHECK(d.options.r == 2);
        CHECK(d.options.w == 3);
        CHECK(d.options.pr == 4);
        CHECK(d.options.pw == 5);
        CHECK(d.options.dw == 6);
        CHECK(d.options.timeout_ms == 7'000);
        CHECK(d.options.ttl_s == 86'400);
    }
}

TEST_CASE("wire: client reply round trip, every error code", "[wire]") {
    for (errc code : k_all_errc) {
        ClientReply p = sample_reply(code);
        p.token = 555;  // not sent
        std::string bytes;
        shoal::wire::encode_reply(31, p, bytes);
        Frame f = decode_one(bytes);
        REQUIRE(f.kind == Frame::Kind::client_reply);
        CHECK(f.reply.request_id == 31);
        const auto& d = f.reply.reply;
        CHECK(d.token == 0);
        CHECK(d.code == code);
        CHECK(d.replies == p.replies);
        CHECK(d.required == p.required);
        CHECK(d.siblings == p.siblings);
        CHECK(d.context == p.context);
        CHECK(d.dot == p.dot);
    }
}

TEST_CASE("wire: a 1 MiB value fits the default frame limit", "[wire]") {
    Rng rng(3);
    ClientRequest q = sample_request(ClientOp::put);
    q.value = random_bytes(rng, 1024 * 1024);
    std::string bytes;
    shoal::wire::encode_request(1, q, bytes);
    Frame f = decode_one(bytes);
    CHECK(f.request.request.value == q.value);
}

TEST_CASE("wire: frames fed byte by byte, in one chunk and in random chunks agree", "[wire]") {
    std::vector<Frame> frames;
    for (int round = 0; round < 3; ++round) {
        for (auto& f : sample_frames()) frames.push_back(std::move(f));
    }
    const std::string stream = concat(frames);
    const auto whole = decode_stream(stream, stream.size());
    const auto bytewise = decode_stream(stream, 1);
    Rng rng(11);
    const auto chunked = decode_stream(stream, 0, &rng);
    REQUIRE(whole.size() == frames.size());
    REQUIRE(bytewise.size() == frames.size());
    REQUIRE(chunked.size() == frames.size());
    for (std::size_t i = 0; i < frames.size(); ++i) {
        check_same(whole[i], frames[i]);
        check_same(bytewise[i], frames[i]);
        check_same(chunked[i], frames[i]);
    }
    CHECK(concat(whole) == stream);
}

TEST_CASE("wire: a long stream of small frames decodes in order (buffer compaction)", "[wire]") {
    std::string stream;
    constexpr std::uint64_t k_frames = 20000;
    for (std::uint64_t i = 0; i < k_frames; ++i) {
        shoal::wire::encode_peer(i % 2 ? PeerMessage{Ping{i}} : PeerMessage{GetReq{i, std::string(i % 50, 'k')}},
                                 stream);
    }
    Rng rng(5);
    FrameReader reader;
    std::uint64_t next = 0;
    std::size_t at = 0;
    while (at < stream.size()) {
        std::size_t n = std::min<std::size_t>(1 + rng.below(200000), stream.size() - at);
        reader.feed(std::string_view(stream).substr(at, n));
        at += n;
        Frame f;
        std::error_code why;
        while (reader.next(f, why) == FrameReader::Status::frame) {
            REQUIRE(f.kind == Frame::Kind::peer);
            if (next % 2) {
                REQUIRE(std::get<Ping>(f.peer).seq == next);
            } else {
                REQUIRE(std::get<GetReq>(f.peer).req == next);
                REQUIRE(std::get<GetReq>(f.peer).key.size() == next % 50);
            }
            ++next;
        }
        REQUIRE(!why);
    }
    CHECK(next == k_frames);
    CHECK(reader.buffered() == 0);
}

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
    put_u32(header, 0, 2);        // three segments
    put_u32(header, 4, 200'000);  // 1.6 MB: under the default limit alone
    FrameReader reader;
    reader.feed(header);
    Frame f;
    std::error_code why;
    CHECK(reader.next(f, why) == FrameReader::Status::need_more);
    std::string second(4, '\0');
    put_u32(second, 0, 200'000);  // 3.2 MB in all
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
        shoal::wire::encode_peer(PutLeaderResp{k_req, errc::shutting_down, Dot{a1, 1}, sample_state()}, bytes);
        decode_one(bytes);
        const std::size_t code_at = find_u64(bytes, k_req) + 8;  // code follows req
        REQUIRE(static_cast<std::uint8_t>(bytes[code_at]) == static_cast<std::uint8_t>(errc::shutting_down));
        bytes[code_at] = static_cast<char>(static_cast<int>(errc::shutting_down) + 1);
        require_error(bytes, errc::bad_request);
    }
    SECTION("a frame whose member is a null pointer") {
        std::string bytes;
        shoal::wire::encode_peer(Ping{1}, bytes);
        put_u64(bytes, 24, 0);  // Frame's pointer section: the ping struct pointer
        require_error(bytes, errc::bad_request);
    }
}
