// The native protocol: peer messages and client requests/replies as Cap'n Proto
// structs (schema: shoal.capnp; fields are only ever appended), in the standard
// Cap'n Proto stream framing over TCP. This header keeps capnp out of its users:
// only the wire*.cpp files include generated code.
//
// Every frame is bounded before it is decoded: the segment table is checked against
// max_frame_bytes as soon as it arrives (a frame claiming 4 GiB is refused without
// buffering it), and decoding runs with a traversal limit. A bad frame is an error
// the caller answers by closing that connection.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

#include "core/limits.h"
#include "core/types.h"
#include "gossip/messages.h"
#include "replica/messages.h"

namespace shoal::wire {

// What a node with the default limits reads and sends at most (core/limits.h).
inline constexpr std::size_t k_default_max_frame_bytes = max_frame_bytes(Limits{});

// The peer protocol's version, sent in every hello. A node takes peer connections only
// from nodes of its own version (a cluster runs one release: docs/operations.md,
// "Upgrades"). 2: key listings (ListReq/ListResp) and data-type patches (ReplicateDelta).
inline constexpr std::uint32_t k_protocol_version = 2;

// The first frame on every connection says who is speaking.
struct Hello {
    enum class Role : std::uint8_t { peer, client };
    Role role = Role::client;
    NodeId node;                                  // peer: the sender's node id
    std::uint32_t protocol = k_protocol_version;  // protocol version
    std::string token;           // client: a bearer token (at most k_max_token_bytes); empty: none
};

// A client request on the wire carries the client's own request id, echoed back.
struct ClientFrame {
    std::uint64_t request_id = 0;
    replica::ClientRequest request;
};

struct ReplyFrame {
    std::uint64_t request_id = 0;
    replica::ClientReply reply;  // reply.token is not sent
};

struct Frame {
    enum class Kind : std::uint8_t { hello, peer, client_request, client_reply, gossip };
    Kind kind = Kind::hello;
    Hello hello;
    replica::PeerMessage peer;
    ClientFrame request;
    ReplyFrame reply;
    gossip::GossipMessage gossip;  // views decoded and validated (gossip::decode)
};

// Append one framed message to `out`.
void encode_hello(const Hello& hello, std::string& out);
void encode_peer(const replica::PeerMessage& message, std::string& out);
void encode_request(std::uint64_t request_id, const replica::ClientRequest& request, std::string& out);
void encode_reply(std::uint64_t request_id, const replica::ClientReply& reply, std::string& out);
// Gossip travels on peer connections; a view is sent as gossip::encode's bytes.
void encode_gossip(const gossip::GossipMessage& message, std::string& out);

// Incremental decoder for one connection's byte stream.
class FrameReader {
public:
    explicit FrameReader(std::size_t max_frame_bytes = k_default_max_frame_bytes);

    // Appends received bytes. Cheap; does not decode.
    void feed(std::string_view bytes);

    enum class Status { frame, need_more, error };
    // Decodes the next complete frame into `out`. On error, `why` says what was wrong
    // (errc::bad_request: malformed; errc::value_too_large: frame over the limit) and
    // the connection must be closed: the stream cannot be resynchronised.
    Status next(Frame& out, std::error_code& why);

    // Bytes buffered and not yet decoded.
    std::size_t buffered() const { return buffer_.size() - consumed_; }
    // Changes the limit for the frames not yet decoded (a connection's first frame, its
    // hello, has a limit of its own).
    void set_max_frame_bytes(std::size_t max_frame_bytes);

private:
    std::string buffer_;
    std::size_t consumed_ = 0;
    std::size_t max_frame_bytes_;
};

}  // namespace shoal::wire
