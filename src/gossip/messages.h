// The gossip messages between nodes, as plain structs (the wire layer encodes them;
// views travel as gossip::encode's bytes). Apart from the Gossiper that sends them,
// so that the wire and the turn driver need not include it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/types.h"
#include "gossip/view.h"

namespace shoal::gossip {

struct GossipSyn {
    std::string reply_to;  // the sender's peer address, for a receiver that lacks it
    std::uint64_t digest = 0;
    std::optional<ClusterView> view;  // sent when joining through a seed
};
struct GossipAck {
    std::uint64_t digest = 0;
    std::optional<ClusterView> view;  // present when the digests differed
};
struct GossipAck2 {
    ClusterView view;
};
struct Heartbeat {
    std::uint64_t seq = 0;
    // The sender's own record version and incarnation, and from the claimant the
    // ruled_digest() of its view (0 from others): a receiver holding less pulls.
    std::uint64_t version = 0;
    std::uint32_t incarnation = 0;
    std::uint64_t ruled_digest = 0;
};
using GossipMessage = std::variant<GossipSyn, GossipAck, GossipAck2, Heartbeat>;

struct GossipEnvelope {
    NodeId to;            // invalid when only an address is known (a seed)
    std::string address;  // the peer address of `to`, or the seed's
    GossipMessage message;
};

struct GossipOutbox {
    std::vector<GossipEnvelope> messages;
    void clear() { messages.clear(); }
};

}  // namespace shoal::gossip
