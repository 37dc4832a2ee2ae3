// The messages the replication core exchanges: between nodes (peer messages) and
// with clients (requests in, replies out). Plain structs: src/wire/ encodes them for
// the network, shoal-sim passes them as they are.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>
#include <variant>
#include <vector>

#include "core/errc.h"
#include "core/namespace.h"
#include "core/types.h"
#include "replica/version.h"

namespace shoal::replica {

using RequestId = std::uint64_t;  // unique per coordinating node

// ---- peer messages ---------------------------------------------------------------

// Coordinator -> leader replica: apply this write and issue its dot.
struct PutLeaderReq {
    RequestId req = 0;
    std::string key;
    WriteOp op;
    NodeId hint_for;  // set when the leader stands in for a down primary
    std::uint32_t max_siblings = 0;
    // The leader applies the write only until this instant (the coordinator's wall
    // clock; {0}: no bound). Some time after it the coordinator gives up on this
    // leader and asks the next one: a late leader that applied too would mint a second
    // dot for one client write, a duplicate sibling.
    Time apply_by;
    WriteCondition condition = WriteCondition::none;
};

// Leader -> coordinator: the key's state after the write, to replicate, and for a
// data-type write that replaced the one value it held, the new value as a patch of
// that one (patch.h; empty: none), for the replicas whose copy is the same.
struct PutLeaderResp {
    RequestId req = 0;
    errc code = errc::ok;
    Dot dot;
    SiblingSet state;
    std::string patch;
};

// Coordinator -> replica: merge this state (a write's replication, or read repair
// when req is 0, which wants no answer).
struct ReplicateReq {
    RequestId req = 0;
    std::string key;
    SiblingSet state;
    NodeId hint_for;
};

// Coordinator -> primary replica: a data-type write sent as a patch, not its state
// (put_path.cpp). `state` is the leader's copy with the write, its one sibling's value
// left out; the replica applies `patch` to the one value it holds and takes the state
// only when the result's xxHash64 (seed k_delta_seed) is `digest`: when its copy was
// the leader's. Else it answers need_state, and is sent the whole state.
struct ReplicateDelta {
    RequestId req = 0;
    std::string key;
    SiblingSet state;
    std::string patch;  // PutLeaderResp::patch
    std::uint64_t digest = 0;
};
inline constexpr std::uint64_t k_delta_seed = 0x64656c7461;  // "delta"

struct ReplicateResp {
    RequestId req = 0;
    errc code = errc::ok;
    // To a ReplicateDelta: this replica's copy was not the leader's, so it took
    // nothing; send the state (code is ok).
    bool need_state = false;
};

struct GetReq {
    RequestId req = 0;
    std::string key;
};

struct GetResp {
    RequestId req = 0;
    errc code = errc::ok;
    SiblingSet state;  // empty when the replica has nothing for the key
};

// Liveness probes for the failure detector.
struct Ping {
    std::uint64_t seq = 0;
};
struct Pong {
    std::uint64_t seq = 0;
};

// ---- repair: hinted handoff and anti-entropy ----------------------------------------

struct KeyState {
    std::string key;
    SiblingSet state;
};

// About how many bytes a state takes in a message: what batch bounds count.
inline std::size_t state_bytes(const SiblingSet& s) {
    std::size_t n = 16 * s.context.entries().size();
    for (const auto& sib : s.siblings) n += 40 + sib.value.size() + sib.content_type.size();
    return n;
}

struct KeyDigest {
    std::string key;
    std::uint64_t entry = 0;  // MerkleTree::entry_hash of the key's state
};

// Fallback -> the primary it stood in for: the current state of hinted keys.
struct HintBatch {
    std::uint64_t seq = 0;
    std::vector<KeyState> items;
};

// Primary -> fallback: the batch is merged (ok) and its hints may go.
struct HintAck {
    std::uint64_t seq = 0;
    errc code = errc::ok;
};

// Anti-entropy, initiator -> responder: my hashes of these tree nodes on `level`.
struct AeTree {
    std::uint64_t xid = 0;
    PartitionId partition;
    std::uint32_t level = 0;
    std::vector<std::uint32_t> index;
    std::vector<std::uint64_t> hash;
};

// Responder -> initiator: the nodes of the request whose hashes differ from mine.
struct AeTreeResp {
    std::uint64_t xid = 0;
    errc code = errc::ok;
    std::vector<std::uint32_t> differ;
};

// Initiator -> responder: every key I hold in these leaves, with its entry hash.
struct AeKeys {
    std::uint64_t xid = 0;
    PartitionId partition;
    std::vector<std::uint32_t> leaves;
    std::vector<KeyDigest> keys;
};

// Responder -> initiator: my state of each key in those leaves that differs or that
// the initiator lacks, and the keys I want the initiator's (merged) state of.
struct AeKeysResp {
    std::uint64_t xid = 0;
    errc code = errc::ok;
    bool truncated = false;  // stopped at the batch bound: some keys were left out
    std::vector<KeyState> states;
    std::vector<std::string> want;
};

// Initiator -> responder: the merged states the responder asked for.
struct AeStates {
    std::uint64_t xid = 0;
    PartitionId partition;
    std::vector<KeyState> states;
};

struct AeDone {
    std::uint64_t xid = 0;
    errc code = errc::ok;
};

// ---- ownership handoff ------------------------------------------------------------

// Source -> new owner: the next keys (in stored order) of one key partition that the
// move of claim slot `slot` hands over. `last`: the stream of the whole move ends here.
struct HandoffBatch {
    PartitionId slot;
    std::uint64_t seq = 0;
    PartitionId partition;
    std::vector<KeyState> items;
    bool last = false;
};

// New owner -> source: the batch is merged (ok) and need not be sent again.
struct HandoffAck {
    PartitionId slot;
    std::uint64_t seq = 0;
    errc code = errc::ok;
};

// ---- key listing (SCAN) -------------------------------------------------------------

// Where a listing stands: in partition `partition`, after client key `after` (empty:
// from the partition's first key). `done`: every partition was walked.
struct ListPosition {
    std::uint32_t partition = 0;
    std::string after;
    bool done = false;
};

// Coordinator -> replica: the live keys of one namespace you hold in `partition` that
// start with `prefix`, after `after`, in key order: at most `limit`, and at most
// k_batch_bytes of them.
struct ListReq {
    RequestId req = 0;
    PartitionId partition;
    std::string scope;   // the namespace's stored-key scope (scoped_key's front; "" for default)
    std::string prefix;  // client keys start with this
    std::string after;
    std::uint32_t limit = 0;
};

// Replica -> coordinator. `complete`: no key of the range is left after the last
// listed; else `last` is the last key looked at (listed or not: a tombstone, an
// expired value), at least one past `after`, where the next page starts.
struct ListResp {
    RequestId req = 0;
    errc code = errc::ok;
    std::vector<std::string> keys;  // client keys, without the scope
    bool complete = false;
    std::string last;
};

using PeerMessage = std::variant<PutLeaderReq, PutLeaderResp, ReplicateReq, ReplicateResp, GetReq, GetResp, Ping, Pong,
                                 HintBatch, HintAck, AeTree, AeTreeResp, AeKeys, AeKeysResp, AeStates, AeDone,
                                 HandoffBatch, HandoffAck, ListReq, ListResp, ReplicateDelta>;

struct Envelope {
    NodeId to;
    PeerMessage msg;
    // The sender's store batch this message rests on (0: none): one that vouches for
    // the sender's state (promises_nothing false) may leave only once every batch up
    // to it is durable.
    std::uint64_t needs = 0;
};

// True for an answer to something this node sent (a reply, an acknowledgement, a
// probe's answer). Only answers show that a peer hears us: a peer that can send but
// not receive still sends requests, so requests are no proof of a working link.
inline bool is_answer(const PeerMessage& m) {
    return std::holds_alternative<PutLeaderResp>(m) || std::holds_alternative<ReplicateResp>(m) ||
           std::holds_alternative<GetResp>(m) || std::holds_alternative<Pong>(m) || std::holds_alternative<HintAck>(m) ||
           std::holds_alternative<AeTreeResp>(m) || std::holds_alternative<AeKeysResp>(m) ||
           std::holds_alternative<AeDone>(m) || std::holds_alternative<HandoffAck>(m) ||
           std::holds_alternative<ListResp>(m);
}

// True for a message that vouches for nothing in its sender's store: a request that
// asks a peer to act (write, read, lead a put) or a liveness probe and its answer. It
// may leave before the sender's staged writes are durable; every other message (a
// reply or acknowledgement, repair traffic) waits for them.
inline bool promises_nothing(const PeerMessage& m) {
    return std::holds_alternative<PutLeaderReq>(m) || std::holds_alternative<ReplicateReq>(m) ||
           std::holds_alternative<ReplicateDelta>(m) ||
           std::holds_alternative<GetReq>(m) || std::holds_alternative<ListReq>(m) || std::holds_alternative<Ping>(m) ||
           std::holds_alternative<Pong>(m);
}

// ---- client side -----------------------------------------------------------------

// Identifies a client request to the shell that submitted it (a connection and a
// request number, packed by the shell as it likes). Echoed in the reply.
using ClientToken = std::uint64_t;

// `list`: one page of a namespace's keys (ClientRequest::list), for SCAN.
enum class ClientOp : std::uint8_t { get, put, del, list };

// Per-request options; 0 means "the node's default".
// Quorums may be named (core/namespace.h).
using shoal::k_quorum_all;
using shoal::k_quorum_majority;
using shoal::k_quorum_one;
using shoal::quorum_by_name;
using shoal::resolve_quorum;

struct RequestOptions {
    std::string ns;  // the namespace (replica/namespaces.h); empty: "default"
    std::uint32_t n = 0;
    std::uint32_t r = 0;
    std::uint32_t w = 0;
    std::uint32_t pr = 0;  // primaries required among the r replies
    std::uint32_t pw = 0;  // primaries required among the w acks
    std::uint32_t dw = 0;  // durable acks required (every ack is durable under sync=batch|always)
    std::int64_t timeout_ms = 0;
    std::int64_t ttl_s = 0;  // puts: the value expires after this many seconds
    // Puts from callers inside the node (the Redis front end): the value expires at this
    // wall time, exactly ({0}: ttl_s decides). Not carried by the native protocol.
    Time expires_at;
    bool return_body = false;  // puts: the reply carries the stored siblings and their context
    WriteCondition condition = WriteCondition::none;  // puts and deletes
};

struct ClientRequest {
    ClientOp op = ClientOp::get;
    std::string key;
    std::string value;      // put only
    VersionVector context;  // put/del: what the writer read
    RequestOptions options;
    std::string content_type;  // put only: stored with the value (at most k_max_content_type_bytes)
    // put only, on a namespace with a datatype: the encoded data-type update
    // (replica/datatypes.h) instead of a value. Bounded like a value.
    std::string update;
    // list only: where the page starts (`after` a client key, bounded like one), the
    // prefix every listed key has (bounded like a key), and at most how many keys
    // (1..k_max_list_keys). The page comes from r of the partition's primaries.
    ListPosition list;
    std::string list_prefix;
    std::uint32_t list_limit = 0;
};

struct ClientReply {
    ClientToken token = 0;
    errc code = errc::ok;           // ok, not_found, quorum_not_met, ...
    std::uint32_t replies = 0;      // replicas that answered (acks for writes)
    std::uint32_t required = 0;     // how many were needed
    std::vector<Sibling> siblings;  // get: live siblings (no tombstones, none expired)
    VersionVector context;          // get: pass back on the next write
    Dot dot;                        // put/del: the dot the write was given (counter 0 if none)
    // unavailable (refused before any replica was asked): of the key's `primaries`,
    // how many this node believes down; `replies` is then the targets it could reach.
    std::uint32_t primaries = 0;
    std::uint32_t primaries_down = 0;
    // list: the page's keys (client keys, sorted, each once) and where the next starts.
    std::vector<std::string> keys;
    ListPosition next;
};

// Why a request was refused as unavailable, for people: "unavailable: 2 of 3 primaries
// known down, 1 node to ask where 2 are needed (no replica was asked)".
std::string unavailable_text(std::uint32_t reachable, std::uint32_t needed, std::uint32_t primaries,
                             std::uint32_t primaries_down);

}  // namespace shoal::replica
