// Shared helpers of the wire protocol's unit tests (test_wire*.cpp): sample
// messages, encode/decode helpers that check the reader's state, and byte patching.
#pragma once

#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <catch2/catch.hpp>

#include "core/errc.h"
#include "core/rng.h"
#include "core/types.h"
#include "gossip/gossiper.h"
#include "gossip/view.h"
#include "replica/messages.h"
#include "replica/version.h"
#include "wire/wire.h"

namespace wire_test {

using shoal::errc;
using shoal::NodeId;
using shoal::PartitionId;
using shoal::Rng;
using shoal::Time;
using shoal::gossip::ClusterView;
using shoal::gossip::GossipAck;
using shoal::gossip::GossipAck2;
using shoal::gossip::GossipMessage;
using shoal::gossip::GossipSyn;
using shoal::gossip::Heartbeat;
using shoal::gossip::MemberRecord;
using shoal::gossip::MemberStatus;
using shoal::replica::ActorId;
using shoal::replica::ClientOp;
using shoal::replica::ClientReply;
using shoal::replica::ClientRequest;
using shoal::replica::Dot;
using shoal::replica::GetReq;
using shoal::replica::GetResp;
using shoal::replica::HandoffAck;
using shoal::replica::HandoffBatch;
using shoal::replica::KeyState;
using shoal::replica::make_actor;
using shoal::replica::PeerMessage;
using shoal::replica::Ping;
using shoal::replica::Pong;
using shoal::replica::PutLeaderReq;
using shoal::replica::PutLeaderResp;
using shoal::replica::ReplicateReq;
using shoal::replica::ReplicateResp;
using shoal::replica::ReplicateDelta;
using shoal::replica::Sibling;
using shoal::replica::SiblingSet;
using shoal::replica::VersionVector;
using shoal::wire::Frame;
using shoal::wire::FrameReader;
using shoal::wire::Hello;

inline constexpr std::uint64_t k_u64_max = std::numeric_limits<std::uint64_t>::max();
inline constexpr errc k_all_errc[] = {
    errc::ok,          errc::bad_request,    errc::key_too_large, errc::value_too_large, errc::too_many_siblings,
    errc::bad_context, errc::quorum_not_met, errc::timeout,       errc::unavailable,     errc::overloaded,
    errc::store_error, errc::corrupt,        errc::not_found,     errc::shutting_down,   errc::state_too_large,
    errc::store_full,  errc::precondition_failed, errc::no_namespace, errc::forbidden,   errc::wrong_type,
};
static_assert(std::size(k_all_errc) == static_cast<std::size_t>(shoal::k_last_errc) + 1);

inline const ActorId a1 = make_actor(NodeId{1}, 3);
inline const ActorId a2 = make_actor(NodeId{2}, 1);
inline const ActorId a3 = make_actor(NodeId{0xffffffff}, 0xffffffff);

inline std::string binary(std::string_view s) {
    return std::string(s);
}

inline std::string random_bytes(Rng& rng, std::size_t n) {
    std::string s(n, '\0');
    for (auto& c : s) c = static_cast<char>(rng.below(256));
    return s;
}

inline VersionVector make_vv(std::initializer_list<std::pair<ActorId, std::uint64_t>> entries) {
    VersionVector vv;
    for (const auto& [actor, counter] : entries) vv.raise(actor, counter);
    return vv;
}

// A state with binary values, a tombstone, expiry, extreme ids and counters.
inline SiblingSet sample_state() {
    Rng rng(7);
    SiblingSet s;
    s.context = make_vv({{a1, 5}, {a2, 2}, {a3, shoal::k_max_counter - 1}});
    s.siblings.push_back(Sibling{Dot{a1, 4}, false, binary({"v\0al\xff", 5}), Time{1'700'000'000'000'000}, Time{0},
                                 "application/json; charset=utf-8"});
    s.siblings.push_back(Sibling{Dot{a1, 5}, true, "", Time{-42}, Time{0}});
    s.siblings.push_back(Sibling{Dot{a2, 2}, false, "", Time{5}, Time{1'700'000'000'000'999}});
    s.siblings.push_back(Sibling{Dot{a3, shoal::k_max_counter - 1}, false, random_bytes(rng, 10000),
                                 Time{std::numeric_limits<std::int64_t>::max()},
                                 Time{std::numeric_limits<std::int64_t>::min()}});
    return s;
}

inline ClientRequest sample_request(ClientOp op) {
    ClientRequest q;
    q.op = op;
    q.key = binary({"\0key\0", 5});
    q.value = op == ClientOp::put ? binary({"\xff\0\x01value", 8}) : "";
    if (op == ClientOp::put) q.content_type = "text/plain";
    if (op == ClientOp::put) q.update = binary({"\x01\x01\0upd", 6});
    q.context = make_vv({{a1, 9}, {a3, 1}});
    q.options = {"carts", 1, 2, 3, 4, 5, 6, 7'000, 86'400};
    return q;
}

inline ClientReply sample_reply(errc code) {
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

// A founded view of three members over 64 partitions, one partition moving.
inline ClusterView sample_view() {
    ClusterView v = ClusterView::empty(64);
    for (std::uint32_t id = 1; id <= 3; ++id) {
        MemberRecord m;
        m.id = NodeId{id};
        m.version = id;
        m.incarnation = 2;
        m.peer_address = "10.0.0." + std::to_string(id) + ":7000";
        m.client_address = "10.0.0." + std::to_string(id) + ":7001";
        m.http_address = "10.0.0." + std::to_string(id) + ":8080";
        m.zone = "z" + std::to_string(id % 2);
        m.status = id == 3 ? MemberStatus::leaving : MemberStatus::valid;
        v.members.emplace(m.id, m);
    }
    for (std::uint32_t p = 0; p < v.partition_count; ++p) v.claim[p] = {NodeId{1 + p % 3}, NodeId{}, 1 + p, false};
    v.claim[5] = {NodeId{3}, NodeId{1}, 9, true};
    return v;
}

inline HandoffBatch sample_handoff(bool last) {
    return HandoffBatch{PartitionId{7},
                        41,
                        PartitionId{1023},
                        {KeyState{binary({"k\0", 2}), sample_state()}, KeyState{"", SiblingSet{}}},
                        last};
}

// Every kind of frame, with non-trivial contents.
inline std::vector<Frame> sample_frames() {
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
    add([](Frame& f) { f.kind = Frame::Kind::peer, f.peer = sample_handoff(true); });
    add([](Frame& f) { f.kind = Frame::Kind::peer, f.peer = HandoffAck{PartitionId{7}, 41, errc::overloaded}; });
    add([](Frame& f) { f.kind = Frame::Kind::gossip, f.gossip = GossipSyn{"10.0.0.1:7000", 5, sample_view()}; });
    add([](Frame& f) { f.kind = Frame::Kind::gossip, f.gossip = GossipAck{k_u64_max, std::nullopt}; });
    add([](Frame& f) { f.kind = Frame::Kind::gossip, f.gossip = GossipAck2{sample_view()}; });
    add([](Frame& f) { f.kind = Frame::Kind::gossip, f.gossip = Heartbeat{3}; });
    add([](Frame& f) { f.kind = Frame::Kind::peer, f.peer = ReplicateResp{13, errc::ok, true}; });
    add([](Frame& f) {
        f.kind = Frame::Kind::peer, f.peer = ReplicateDelta{20, "cart", sample_state(), std::string("\x01\x02", 2), k_u64_max};
    });
    return frames;
}

inline void encode(const Frame& f, std::string& out) {
    switch (f.kind) {
        case Frame::Kind::hello: shoal::wire::encode_hello(f.hello, out); return;
        case Frame::Kind::peer: shoal::wire::encode_peer(f.peer, out); return;
        case Frame::Kind::client_request:
            shoal::wire::encode_request(f.request.request_id, f.request.request, out);
            return;
        case Frame::Kind::client_reply: shoal::wire::encode_reply(f.reply.request_id, f.reply.reply, out); return;
        case Frame::Kind::gossip: shoal::wire::encode_gossip(f.gossip, out); return;
    }
}

inline std::string encoded(const Frame& f) {
    std::string out;
    encode(f, out);
    return out;
}

// Decodes bytes that must hold exactly one valid frame.
inline Frame decode_one(const std::string& bytes) {
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

template <typename M>
M round_trip_gossip(const M& m) {
    std::string bytes;
    shoal::wire::encode_gossip(m, bytes);
    REQUIRE(bytes.size() % 8 == 0);
    Frame f = decode_one(bytes);
    REQUIRE(f.kind == Frame::Kind::gossip);
    REQUIRE(std::holds_alternative<M>(f.gossip));
    return std::get<M>(f.gossip);
}

// Decodes the stream fed in chunks of `chunk` bytes (0: random sizes).
inline std::vector<Frame> decode_stream(const std::string& bytes, std::size_t chunk, Rng* rng = nullptr) {
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

inline std::string concat(const std::vector<Frame>& frames) {
    std::string out;
    for (const auto& f : frames) encode(f, out);
    return out;
}

// Feeds bytes and drains the reader; returns the last status (never frame).
inline FrameReader::Status drain(FrameReader& reader, std::string_view bytes, std::error_code& why,
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

inline FrameReader::Status feed_all(std::string_view bytes, std::error_code& why,
                                    std::vector<Frame>* decoded = nullptr) {
    FrameReader reader;
    return drain(reader, bytes, why, decoded);
}

inline void put_u32(std::string& s, std::size_t at, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) s[at + i] = static_cast<char>(v >> (8 * i));
}
inline void put_u64(std::string& s, std::size_t at, std::uint64_t v) {
    for (int i = 0; i < 8; ++i) s[at + i] = static_cast<char>(v >> (8 * i));
}
inline std::string u64_bytes(std::uint64_t v) {
    std::string s(8, '\0');
    put_u64(s, 0, v);
    return s;
}

// The offset of the one occurrence of the 8-byte little-endian `needle` in bytes.
inline std::size_t find_u64(const std::string& bytes, std::uint64_t needle) {
    const std::string n = u64_bytes(needle);
    const std::size_t at = bytes.find(n);
    REQUIRE(at != std::string::npos);
    REQUIRE(bytes.find(n, at + 1) == std::string::npos);
    return at;
}

inline void require_error(const std::string& bytes, errc expected) {
    std::error_code why;
    REQUIRE(feed_all(bytes, why) == FrameReader::Status::error);
    CHECK(why == expected);
}

inline void check_same(const Frame& a, const Frame& b) {
    REQUIRE(a.kind == b.kind);
    CHECK(encoded(a) == encoded(b));
}

}  // namespace wire_test
