// Internal to src/wire: the capnp helpers shared by the codec files (wire.cpp:
// framing, hello, client and the request-path peer messages; wire_repair.cpp: hinted
// handoff, anti-entropy and ownership handoff; wire_gossip.cpp: gossip). Includes the
// generated schema code, so only wire*.cpp may include this header.
//
// Encoders do not validate (a sender can put anything on the wire); each get_* reads
// every pointer once (each read counts against the traversal limit) and returns false
// on content that is well-formed capnp but not a valid Shoal message.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <capnp/message.h>

#include "core/errc.h"
#include "gossip/gossiper.h"
#include "replica/messages.h"
#include "src/wire/shoal.capnp.h"

namespace shoal::wire::detail {

namespace cs = capnp_schema;

// ---- values (wire.cpp) ------------------------------------------------------------

capnp::Data::Reader as_data(std::string_view s);
std::string_view as_view(capnp::Data::Reader d);
void get_string(capnp::Data::Reader d, std::string& out);

inline std::uint16_t code_of(errc code) {
    return static_cast<std::uint16_t>(code);
}
// False for a code this build does not know.
bool get_code(std::uint16_t raw, errc& out);

void put_state(cs::SiblingSet::Builder b, const replica::SiblingSet& set);
bool get_state(cs::SiblingSet::Reader r, replica::SiblingSet& out);

// ---- framing (wire.cpp) -----------------------------------------------------------

// A per-thread first segment for small messages (no allocation, no zeroing per frame).
kj::ArrayPtr<capnp::word> scratch_segment();
// Appends `message` to `out` in the standard stream framing.
void append_message(capnp::MessageBuilder& message, std::string& out);

// Builds one Frame with `fill` and appends it, stream-framed, to out.
template <typename Fill>
void encode_frame(std::string& out, Fill&& fill) {
    capnp::MallocMessageBuilder message(scratch_segment());
    fill(message.initRoot<cs::Frame>());
    append_message(message, out);
}

// ---- repair, handoff and key-listing peer messages (wire_repair.cpp) ---------------------------

void put(cs::Frame::Builder f, const replica::HintBatch& m);
void put(cs::Frame::Builder f, const replica::HintAck& m);
void put(cs::Frame::Builder f, const replica::AeTree& m);
void put(cs::Frame::Builder f, const replica::AeTreeResp& m);
void put(cs::Frame::Builder f, const replica::AeKeys& m);
void put(cs::Frame::Builder f, const replica::AeKeysResp& m);
void put(cs::Frame::Builder f, const replica::AeStates& m);
void put(cs::Frame::Builder f, const replica::AeDone& m);
void put(cs::Frame::Builder f, const replica::HandoffBatch& m);
void put(cs::Frame::Builder f, const replica::HandoffAck& m);
void put(cs::Frame::Builder f, const replica::ListReq& m);
void put(cs::Frame::Builder f, const replica::ListResp& m);
void put(cs::Frame::Builder f, const replica::ReplicateDelta& m);

// Decodes a repair or handoff member of `f`; false for any other member.
bool get_repair(cs::Frame::Reader f, replica::PeerMessage& out);

// ---- gossip (wire_gossip.cpp) -----------------------------------------------------

bool is_gossip(cs::Frame::Which which);
// Decodes a gossip member of `f`; false for any other member.
bool get_gossip(cs::Frame::Reader f, gossip::GossipMessage& out);

}  // namespace shoal::wire::detail
