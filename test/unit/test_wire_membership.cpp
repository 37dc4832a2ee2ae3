// Unit tests for the membership messages of the native wire protocol: the ownership
// handoff stream (HandoffBatch/HandoffAck) and gossip (Syn, Ack, Ack2, Heartbeat,
// views carried as gossip::encode bytes): round trips, validation of views, codes and
// addresses, and reassembly of split frames.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <catch2/catch.hpp>

#include "wire_test_util.h"

using namespace wire_test;

namespace {

std::string view_bytes(const ClusterView& view) {
    std::string out;
    shoal::gossip::encode(view, out);
    return out;
}

// The offset of the one occurrence of `needle` in bytes.
std::size_t find_once(const std::string& bytes, const std::string& needle) {
    const std::size_t at = bytes.find(needle);
    REQUIRE(at != std::string::npos);
    REQUIRE(bytes.find(needle, at + 1) == std::string::npos);
    return at;
}

std::string encoded_gossip(const GossipMessage& m) {
    std::string out;
    shoal::wire::encode_gossip(m, out);
    return out;
}

}  // namespace

TEST_CASE("wire: handoff batch round trip", "[wire][handoff]") {
    for (bool last : {false, true}) {
        const HandoffBatch m = sample_handoff(last);
        const auto d = round_trip_peer(m);
        CHECK(d.slot == m.slot);
        CHECK(d.seq == m.seq);
        CHECK(d.partition == m.partition);
        CHECK(d.last == last);
        REQUIRE(d.items.size() == 2);
        for (std::size_t i = 0; i < d.items.size(); ++i) {
            CHECK(d.items[i].key == m.items[i].key);
            CHECK(d.items[i].state == m.items[i].state);
        }
    }
    const auto empty = round_trip_peer(HandoffBatch{PartitionId{0}, k_u64_max, PartitionId{0xffffffff}, {}, true});
    CHECK(empty.slot == PartitionId{0});
    CHECK(empty.seq == k_u64_max);
    CHECK(empty.partition == PartitionId{0xffffffff});
    CHECK(empty.items.empty());
    CHECK(empty.last);
}

TEST_CASE("wire: handoff ack round trip, every error code", "[wire][handoff]") {
    for (errc code : k_all_errc) {
        const auto d = round_trip_peer(HandoffAck{PartitionId{63}, 1234, code});
        CHECK(d.slot == PartitionId{63});
        CHECK(d.seq == 1234);
        CHECK(d.code == code);
    }
}

TEST_CASE("wire: handoff messages with invalid contents are refused", "[wire][handoff]") {
    SECTION("an unknown error code in an ack") {
        // HandoffAck's first data word: slot (bits 0-31), then code (bits 32-47).
        constexpr std::uint32_t k_slot = 0x0a0b0c0d;
        std::string bytes;
        shoal::wire::encode_peer(HandoffAck{PartitionId{k_slot}, 5, shoal::k_last_errc}, bytes);
        decode_one(bytes);
        const std::uint64_t word = std::uint64_t{static_cast<std::uint16_t>(shoal::k_last_errc)} << 32 | k_slot;
        const std::uint64_t unknown = word + (std::uint64_t{1} << 32);
        put_u64(bytes, find_u64(bytes, word), unknown);
        require_error(bytes, errc::bad_request);
    }
    SECTION("an uncovered sibling in a batch item") {
        HandoffBatch m = sample_handoff(false);
        m.items[0].state.context = make_vv({{a1, 1}});
        std::string bytes;
        shoal::wire::encode_peer(m, bytes);
        require_error(bytes, errc::bad_request);
    }
}

TEST_CASE("wire: gossip messages round trip, with and without a view", "[wire][gossip]") {
    const ClusterView view = sample_view();

    const auto syn = round_trip_gossip(GossipSyn{"10.0.0.9:7000", k_u64_max, view});
    CHECK(syn.reply_to == "10.0.0.9:7000");
    CHECK(syn.digest == k_u64_max);
    REQUIRE(syn.view.has_value());
    CHECK(*syn.view == view);

    const auto bare_syn = round_trip_gossip(GossipSyn{"", 7, std::nullopt});
    CHECK(bare_syn.reply_to.empty());
    CHECK(bare_syn.digest == 7);
    CHECK(!bare_syn.view.has_value());

    const auto ack = round_trip_gossip(GossipAck{0, view});
    CHECK(ack.digest == 0);
    REQUIRE(ack.view.has_value());
    CHECK(*ack.view == view);

    const auto bare_ack = round_trip_gossip(GossipAck{shoal::gossip::digest(view), std::nullopt});
    CHECK(bare_ack.digest == shoal::gossip::digest(view));
    CHECK(!bare_ack.view.has_value());

    CHECK(round_trip_gossip(GossipAck2{view}).view == view);
    const ClusterView empty = ClusterView::empty(64);  // a node that has seen no one
    CHECK(round_trip_gossip(GossipAck2{empty}).view == empty);
    CHECK(round_trip_gossip(GossipSyn{"seed:1", 1, empty}).view == empty);

    CHECK(round_trip_gossip(Heartbeat{k_u64_max}).seq == k_u64_max);
    CHECK(round_trip_gossip(Heartbeat{0}).seq == 0);
}

TEST_CASE("wire: a reply address is bounded by k_max_address_bytes", "[wire][gossip]") {
    const std::string longest(shoal::gossip::k_max_address_bytes, 'a');
    CHECK(round_trip_gossip(GossipSyn{longest, 1, std::nullopt}).reply_to == longest);
    // The encoder does not validate, so a sender can put this on the wire.
    require_error(encoded_gossip(GossipSyn{longest + "b", 1, std::nullopt}), errc::bad_request);
    require_error(encoded_gossip(GossipSyn{std::string(100'000, 'x'), 1, sample_view()}), errc::bad_request);
}

TEST_CASE("wire: gossip frames whose view bytes do not decode are refused", "[wire][gossip]") {
    const ClusterView view = sample_view();
    const std::string raw_view = view_bytes(view);
    const std::vector<GossipMessage> messages = {GossipSyn{"a:1", 1, view}, GossipAck{2, view}, GossipAck2{view}};
    for (const auto& m : messages) {
        const std::string good = encoded_gossip(m);
        decode_one(good);
        const std::size_t at = find_once(good, raw_view);

        std::string bad_format = good;  // the view's first byte is its format version
        bad_format[at] = static_cast<char>(bad_format[at] ^ 0x5a);
        require_error(bad_format, errc::bad_request);

        std::string garbage = good;  // inside the member records
        Rng rng(17);
        for (std::size_t i = 5; i < 40; ++i) garbage[at + i] = static_cast<char>(rng.below(256));
        require_error(garbage, errc::bad_request);

        std::string bad_count = good;  // the partition count (a varint after the format): 0 is invalid
        for (std::size_t i = 1; i < 5; ++i) bad_count[at + i] = 0;
        require_error(bad_count, errc::bad_request);

        std::string bad_done = good;  // the last claim's handoff_done flag may only be 0 or 1
        bad_done[at + raw_view.size() - 1] = 2;
        require_error(bad_done, errc::bad_request);
    }
}

TEST_CASE("wire: a view flag that disagrees with the view bytes is refused", "[wire][gossip]") {
    // GossipSyn and GossipAck keep hasView in bit 0 of the data word after the digest.
    constexpr std::uint64_t k_digest = 0x0123'4567'89ab'cdef;
    SECTION("view bytes without the flag") {
        for (const GossipMessage& m : {GossipMessage{GossipSyn{"a:1", k_digest, sample_view()}},
                                       GossipMessage{GossipAck{k_digest, sample_view()}}}) {
            std::string bytes = encoded_gossip(m);
            decode_one(bytes);
            const std::size_t flag_at = find_u64(bytes, k_digest) + 8;
            REQUIRE(bytes[flag_at] == 1);
            bytes[flag_at] = 0;
            require_error(bytes, errc::bad_request);
        }
    }
    SECTION("the flag without view bytes") {
        for (const GossipMessage& m : {GossipMessage{GossipSyn{"a:1", k_digest, std::nullopt}},
                                       GossipMessage{GossipAck{k_digest, std::nullopt}}}) {
            std::string bytes = encoded_gossip(m);
            decode_one(bytes);
            const std::size_t flag_at = find_u64(bytes, k_digest) + 8;
            REQUIRE(bytes[flag_at] == 0);
            bytes[flag_at] = 1;
            require_error(bytes, errc::bad_request);
        }
    }
}

TEST_CASE("wire: membership frames split at every byte boundary reassemble", "[wire][gossip][handoff]") {
    std::vector<Frame> frames;
    for (auto& f : sample_frames()) {
        if (f.kind == Frame::Kind::gossip || std::holds_alternative<HandoffBatch>(f.peer) ||
            std::holds_alternative<HandoffAck>(f.peer)) {
            frames.push_back(std::move(f));
        }
    }
    REQUIRE(frames.size() == 6);
    const std::string stream = concat(frames);

    // One gossip frame cut in two at every offset: need_more, then exactly the frame.
    const std::string syn = encoded(frames[2]);
    REQUIRE(frames[2].kind == Frame::Kind::gossip);
    for (std::size_t cut = 0; cut < syn.size(); ++cut) {
        FrameReader reader;
        Frame f;
        std::error_code why;
        reader.feed(std::string_view(syn).substr(0, cut));
        REQUIRE(reader.next(f, why) == FrameReader::Status::need_more);
        reader.feed(std::string_view(syn).substr(cut));
        REQUIRE(reader.next(f, why) == FrameReader::Status::frame);
        REQUIRE(f.kind == Frame::Kind::gossip);
        REQUIRE(std::get<GossipSyn>(f.gossip).view == sample_view());
        REQUIRE(reader.buffered() == 0);
    }

    const auto bytewise = decode_stream(stream, 1);
    Rng rng(23);
    const auto chunked = decode_stream(stream, 0, &rng);
    REQUIRE(bytewise.size() == frames.size());
    REQUIRE(chunked.size() == frames.size());
    for (std::size_t i = 0; i < frames.size(); ++i) {
        check_same(bytewise[i], frames[i]);
        check_same(chunked[i], frames[i]);
    }
}

TEST_CASE("wire: peer and gossip frames interleave on one connection", "[wire][gossip]") {
    std::string stream;
    shoal::wire::encode_peer(Ping{1}, stream);
    shoal::wire::encode_gossip(Heartbeat{2}, stream);
    shoal::wire::encode_peer(HandoffAck{PartitionId{3}, 4, errc::ok}, stream);
    shoal::wire::encode_gossip(GossipAck{5, std::nullopt}, stream);
    std::error_code why;
    std::vector<Frame> decoded;
    REQUIRE(feed_all(stream, why, &decoded) == FrameReader::Status::need_more);
    REQUIRE(decoded.size() == 4);
    CHECK(decoded[0].kind == Frame::Kind::peer);
    CHECK(std::get<Ping>(decoded[0].peer).seq == 1);
    CHECK(decoded[1].kind == Frame::Kind::gossip);
    CHECK(std::get<Heartbeat>(decoded[1].gossip).seq == 2);
    CHECK(decoded[2].kind == Frame::Kind::peer);
    CHECK(std::get<HandoffAck>(decoded[2].peer).seq == 4);
    CHECK(decoded[3].kind == Frame::Kind::gossip);
    CHECK(std::get<GossipAck>(decoded[3].gossip).digest == 5);
}

TEST_CASE("wire: key-listing request and page round trip", "[wire][scan]") {
    using namespace std::string_literals;
    shoal::replica::ListReq q;
    q.req = k_u64_max;
    q.partition = PartitionId{0xffffffff};
    q.scope = "\0carts\0"s;
    q.prefix = "cart:\0x"s;
    q.after = "cart:\xff"s;
    q.limit = 1000;
    const shoal::replica::ListReq q2 = round_trip_peer(q);
    CHECK(q2.req == q.req);
    CHECK(q2.partition == q.partition);
    CHECK(q2.scope == q.scope);
    CHECK(q2.prefix == q.prefix);
    CHECK(q2.after == q.after);
    CHECK(q2.limit == q.limit);
    shoal::replica::ListResp p;
    p.req = 9;
    p.code = errc::store_error;
    p.keys = {"a", "\0b"s, std::string(1024, 'k')};
    p.complete = true;
    p.last = "z";
    const shoal::replica::ListResp p2 = round_trip_peer(p);
    CHECK(p2.req == 9);
    CHECK(p2.code == errc::store_error);
    CHECK(p2.keys == p.keys);
    CHECK(p2.complete);
    CHECK(p2.last == "z");
    CHECK(round_trip_peer(shoal::replica::ListResp{}).keys.empty());
}
