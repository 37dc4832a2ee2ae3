// The codec of the gossip messages. A view travels as the canonical bytes of
// gossip::encode and is validated by gossip::decode: bytes that do not decode make
// the frame malformed. Framing and the shared value helpers: wire.cpp.
#include "wire/wire.h"

#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "gossip/gossiper.h"
#include "gossip/view.h"
#include "wire/codec_internal.h"

namespace shoal::wire {

namespace detail {

namespace {

using gossip::ClusterView;

capnp::Text::Reader as_text(const std::string& s) {
    return {s.data(), s.size()};  // std::string keeps the NUL capnp wants after the text
}

// Sets the `view` field of b (the bytes are copied into the message).
template <typename Builder>
void put_view(Builder b, const ClusterView& view) {
    std::string bytes;
    gossip::encode(view, bytes);
    b.setView(as_data(bytes));
}

void put_message(cs::Frame::Builder f, const gossip::GossipSyn& m) {
    auto b = f.initGossipSyn();
    if (!m.reply_to.empty()) b.setReplyTo(as_text(m.reply_to));
    b.setDigest(m.digest);
    b.setHasView(m.view.has_value());
    if (m.view) put_view(b, *m.view);
}
void put_message(cs::Frame::Builder f, const gossip::GossipAck& m) {
    auto b = f.initGossipAck();
    b.setDigest(m.digest);
    b.setHasView(m.view.has_value());
    if (m.view) put_view(b, *m.view);
}
void put_message(cs::Frame::Builder f, const gossip::GossipAck2& m) {
    put_view(f.initGossipAck2(), m.view);
}
void put_message(cs::Frame::Builder f, const gossip::Heartbeat& m) {
    auto b = f.initHeartbeat();
    b.setSeq(m.seq);
    b.setVersion(m.version);
    b.setIncarnation(m.incarnation);
    b.setRuledDigest(m.ruled_digest);
}

bool get_view(capnp::Data::Reader bytes, ClusterView& out) {
    return !gossip::decode(as_view(bytes), out);  // errc::corrupt: malformed
}

// An optional view: present iff has_view (view bytes without the flag are refused).
template <typename Reader>
bool get_optional_view(Reader r, std::optional<ClusterView>& out) {
    out.reset();
    if (!r.getHasView()) return !r.hasView();
    return get_view(r.getView(), out.emplace());
}

bool get_message(cs::GossipSyn::Reader r, gossip::GossipMessage& out) {
    auto& m = out.emplace<gossip::GossipSyn>();
    const auto reply_to = r.getReplyTo();
    if (reply_to.size() > gossip::k_max_address_bytes) return false;
    m.reply_to.assign(reply_to.cStr(), reply_to.size());
    m.digest = r.getDigest();
    return get_optional_view(r, m.view);
}
bool get_message(cs::GossipAck::Reader r, gossip::GossipMessage& out) {
    auto& m = out.emplace<gossip::GossipAck>();
    m.digest = r.getDigest();
    return get_optional_view(r, m.view);
}
bool get_message(cs::GossipAck2::Reader r, gossip::GossipMessage& out) {
    auto& m = out.emplace<gossip::GossipAck2>();
    return get_view(r.getView(), m.view);
}
bool get_message(cs::Heartbeat::Reader r, gossip::GossipMessage& out) {
    auto& m = out.emplace<gossip::Heartbeat>();
    m.seq = r.getSeq();
    m.version = r.getVersion();
    m.incarnation = r.getIncarnation();
    m.ruled_digest = r.getRuledDigest();
    return true;
}

}  // namespace

bool is_gossip(cs::Frame::Which which) {
    using W = cs::Frame;
    return which == W::GOSSIP_SYN || which == W::GOSSIP_ACK || which == W::GOSSIP_ACK2 || which == W::HEARTBEAT;
}

bool get_gossip(cs::Frame::Reader f, gossip::GossipMessage& out) {
    using W = cs::Frame;
    switch (f.which()) {
        case W::GOSSIP_SYN: return f.hasGossipSyn() && get_message(f.getGossipSyn(), out);
        case W::GOSSIP_ACK: return f.hasGossipAck() && get_message(f.getGossipAck(), out);
        case W::GOSSIP_ACK2: return f.hasGossipAck2() && get_message(f.getGossipAck2(), out);
        case W::HEARTBEAT: return f.hasHeartbeat() && get_message(f.getHeartbeat(), out);
        default: return false;
    }
}

}  // namespace detail

void encode_gossip(const gossip::GossipMessage& message, std::string& out) {
    detail::encode_frame(out, [&](detail::cs::Frame::Builder f) {
        std::visit([&](const auto& m) { detail::put_message(f, m); }, message);
    });
}

}  // namespace shoal::wire
