// Unit tests for the native wire protocol: round trips of every frame kind and stream
// reassembly. Bounds, validation and robustness: test_wire_limits.cpp; membership
// (handoff and gossip) messages: test_wire_membership.cpp.
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <catch2/catch.hpp>

#include "wire_test_util.h"

using namespace wire_test;

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
        CHECK(f.hello.token.empty());
    }
}

TEST_CASE("wire: a client hello carries its token, up to k_max_token_bytes", "[wire][limits]") {
    Hello h{Hello::Role::client, NodeId{}, 1, std::string(shoal::k_max_token_bytes, 't')};
    std::string bytes;
    shoal::wire::encode_hello(h, bytes);
    CHECK(bytes.size() <= shoal::k_max_hello_frame_bytes);  // it fits a stranger's first frame
    Frame f = decode_one(bytes);
    REQUIRE(f.kind == Frame::Kind::hello);
    CHECK(f.hello.token == h.token);
    // One byte more is no hello.
    h.token.push_back('t');
    bytes.clear();
    shoal::wire::encode_hello(h, bytes);
    require_error(bytes, errc::bad_request);
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
    m.op.context = make_vv({{a1, 1}, {a2, 1u << 31}, {a3, shoal::k_max_counter - 1}});
    m.op.written = Time{-1};
    m.op.expires = Time{999};
    m.hint_for = NodeId{42};
    m.max_siblings = 4096;
    m.op.update = binary({"\x02\x01\x05", 3});
    auto d = round_trip_peer(m);
    CHECK(d.op.update == m.op.update);
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
        PutLeaderResp r{7, code, Dot{a2, 2}, sample_state(), binary({"\x03\0\x01z", 4})};
        auto dr = round_trip_peer(r);
        CHECK(dr.req == r.req);
        CHECK(dr.code == code);
        CHECK(dr.dot == r.dot);
        CHECK(dr.state == r.state);
        CHECK(dr.patch == r.patch);
    }
}

TEST_CASE("wire: replicate (whole and as a delta), get, ping and pong round trip", "[wire]") {
    ReplicateReq rr{0, binary({"\0", 1}), sample_state(), NodeId{5}};
    auto drr = round_trip_peer(rr);
    CHECK(drr.req == 0);
    CHECK(drr.key == rr.key);
    CHECK(drr.state == rr.state);
    CHECK(drr.hint_for == rr.hint_for);

    ReplicateDelta delta{7, "cart", sample_state(), binary({"\x01\0", 2}), 0x0123456789abcdefULL};
    auto dd = round_trip_peer(delta);
    CHECK(dd.req == 7);
    CHECK(dd.key == delta.key);
    CHECK(dd.state == delta.state);
    CHECK(dd.patch == delta.patch);
    CHECK(dd.digest == delta.digest);
    CHECK(round_trip_peer(ReplicateResp{98, errc::ok, true}).need_state);

    for (errc code : k_all_errc) {
        auto d = round_trip_peer(ReplicateResp{99, code});
        CHECK(d.req == 99);
        CHECK(d.code == code);
        CHECK_FALSE(d.need_state);
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
        CHECK(d.options.ns == "carts");
        CHECK(d.content_type == q.content_type);
        CHECK(d.update == q.update);
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
