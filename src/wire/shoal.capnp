@0xe12d2c73fb8641fd;
# Shoal's native protocol: every frame on a peer or client connection is one Frame,
# in the standard Cap'n Proto stream framing.
#
# COMPATIBILITY: fields and union members are only ever APPENDED (next free @number).
# Never renumber, retype, rename-with-new-meaning or remove a field; an old node must
# read a new node's frames and the other way round. A new union member is a message
# an old node does not know and refuses: clusters run one release (docs/operations.md,
# "Upgrades").
#
# Conventions: keys and values are Data (binary, may hold '\0'); times are Int64
# microseconds (since the Unix epoch under shoald); durations say their unit in the
# name; error codes are shoal::errc as UInt16; actor ids are UInt64 (node << 32 |
# incarnation); node ids are UInt32 (0 = none).

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("shoal::wire::capnp_schema");

# ---- versions ---------------------------------------------------------------------

struct Dot {
  actor @0 :UInt64;
  counter @1 :UInt64;
}

# Canonical form only: actors strictly increasing, every counter > 0.
struct VersionVector {
  entries @0 :List(Entry);
  struct Entry {
    actor @0 :UInt64;
    counter @1 :UInt64;
  }
}

struct Sibling {
  dot @0 :Dot;
  tombstone @1 :Bool;
  value @2 :Data;
  writtenUs @3 :Int64;
  expiresUs @4 :Int64;     # 0 = never
  contentType @5 :Text;    # empty: none given; at most 128 bytes
}

# Siblings sorted by dot, distinct, each covered by the context.
struct SiblingSet {
  context @0 :VersionVector;
  siblings @1 :List(Sibling);
}

struct WriteOp {
  value @0 :Data;
  tombstone @1 :Bool;
  context @2 :VersionVector;
  writtenUs @3 :Int64;
  expiresUs @4 :Int64;     # 0 = never
  contentType @5 :Text;
  update @6 :Data;         # a data-type update the leader applies (replica/datatypes.h); empty: a plain write
}

# ---- connection setup -------------------------------------------------------------

struct Hello {
  enum Role {
    peer @0;
    client @1;
  }
  role @0 :Role;
  node @1 :UInt32;         # peer: the sender's node id
  protocol @2 :UInt32;
  token @3 :Data;          # client: a bearer token naming it (tls/tokens.h); empty: none
}

# ---- peer messages ----------------------------------------------------------------

struct PutLeaderReq {
  req @0 :UInt64;
  key @1 :Data;
  op @2 :WriteOp;
  hintFor @3 :UInt32;
  maxSiblings @4 :UInt32;
  applyByUs @5 :Int64;  # 0: no bound (a node from before it)
  condition @6 :UInt8;  # 0 none, 1 if-none-match, 2 if-match
}

struct PutLeaderResp {
  req @0 :UInt64;
  code @1 :UInt16;
  dot @2 :Dot;
  state @3 :SiblingSet;
  patch @4 :Data;          # the new value as a patch of the one the leader held
}

struct ReplicateReq {
  req @0 :UInt64;
  key @1 :Data;
  state @2 :SiblingSet;
  hintFor @3 :UInt32;
}

struct ReplicateResp {
  req @0 :UInt64;
  code @1 :UInt16;
  needState @2 :Bool;      # to a ReplicateDelta: the replica's copy was not the leader's
}

# A data-type write as a patch: `state` without its one sibling's value, which the
# replica makes by patching its own copy's, and checks against `digest`.
struct ReplicateDelta {
  req @0 :UInt64;
  key @1 :Data;
  state @2 :SiblingSet;
  patch @3 :Data;
  digest @4 :UInt64;
}

struct GetReq {
  req @0 :UInt64;
  key @1 :Data;
}

struct GetResp {
  req @0 :UInt64;
  code @1 :UInt16;
  state @2 :SiblingSet;
}

struct Ping {
  seq @0 :UInt64;
}

struct Pong {
  seq @0 :UInt64;
}

# ---- client requests and replies --------------------------------------------------

# 0 means "the node's default" throughout.
struct RequestOptions {
  n @0 :UInt32;
  r @1 :UInt32;
  w @2 :UInt32;
  pr @3 :UInt32;
  pw @4 :UInt32;
  dw @5 :UInt32;
  timeoutMs @6 :Int64;
  ttlS @7 :Int64;
  returnBody @8 :Bool;
  condition @9 :UInt8;     # 0 none, 1 if-none-match, 2 if-match
  namespace @10 :Text;     # empty: "default"; at most 32 of [a-z0-9_-]
}

struct ClientRequest {
  enum Op {
    get @0;
    put @1;
    del @2;
  }
  requestId @0 :UInt64;    # the client's own id, echoed in the reply
  op @1 :Op;
  key @2 :Data;
  value @3 :Data;          # put only
  context @4 :VersionVector;
  options @5 :RequestOptions;
  contentType @6 :Text;    # put only: stored with the value
  update @7 :Data;         # put only, on a data-type namespace: the update instead of a value
}

struct ClientReply {
  requestId @0 :UInt64;
  code @1 :UInt16;
  replies @2 :UInt32;
  required @3 :UInt32;
  siblings @4 :List(Sibling);   # sorted by dot, covered by the context
  context @5 :VersionVector;
  dot @6 :Dot;                  # put/del: counter 0 if none
  primaries @7 :UInt32;         # unavailable: the key's primaries,
  primariesDown @8 :UInt32;     # and how many the node believed down
}

# ---- repair: hinted handoff and anti-entropy ------------------------------------------

struct KeyState {
  key @0 :Data;
  state @1 :SiblingSet;
}

struct KeyDigest {
  key @0 :Data;
  entry @1 :UInt64;
}

struct HintBatch {
  seq @0 :UInt64;
  items @1 :List(KeyState);
}

struct HintAck {
  seq @0 :UInt64;
  code @1 :UInt16;
}

struct AeTree {
  xid @0 :UInt64;
  partition @1 :UInt32;
  level @2 :UInt32;
  index @3 :List(UInt32);
  hash @4 :List(UInt64);
}

struct AeTreeResp {
  xid @0 :UInt64;
  code @1 :UInt16;
  differ @2 :List(UInt32);
}

struct AeKeys {
  xid @0 :UInt64;
  partition @1 :UInt32;
  leaves @2 :List(UInt32);
  keys @3 :List(KeyDigest);
}

struct AeKeysResp {
  xid @0 :UInt64;
  code @1 :UInt16;
  truncated @2 :Bool;
  states @3 :List(KeyState);
  want @4 :List(Data);
}

struct AeStates {
  xid @0 :UInt64;
  partition @1 :UInt32;
  states @2 :List(KeyState);
}

struct AeDone {
  xid @0 :UInt64;
  code @1 :UInt16;
}

# ---- ownership handoff --------------------------------------------------------------

# Source -> new owner: the next keys of one key partition that the move of claim slot
# `slot` hands over; `last` ends the stream of the whole move.
struct HandoffBatch {
  slot @0 :UInt32;
  seq @1 :UInt64;
  partition @2 :UInt32;
  items @3 :List(KeyState);
  last @4 :Bool;
}

struct HandoffAck {
  slot @0 :UInt32;
  seq @1 :UInt64;
  code @2 :UInt16;
}

# ---- key listing (SCAN) -------------------------------------------------------------

struct ListReq {
  req @0 :UInt64;
  partition @1 :UInt32;
  scope @2 :Data;          # the namespace's stored-key front: empty, or NUL name NUL
  prefix @3 :Data;
  after @4 :Data;
  limit @5 :UInt32;
}

struct ListResp {
  req @0 :UInt64;
  code @1 :UInt16;
  keys @2 :List(Data);
  complete @3 :Bool;
  last @4 :Data;
}

# ---- gossip -------------------------------------------------------------------------
# A view is carried as the canonical bytes of gossip::encode (src/gossip/view.h) and
# validated by gossip::decode; hasView says whether an optional view is present.

struct GossipSyn {
  replyTo @0 :Text;        # the sender's peer address, at most 256 bytes
  digest @1 :UInt64;
  hasView @2 :Bool;
  view @3 :Data;
}

struct GossipAck {
  digest @0 :UInt64;
  hasView @1 :Bool;
  view @2 :Data;
}

struct GossipAck2 {
  view @0 :Data;
}

struct Heartbeat {
  seq @0 :UInt64;
  # The sender's own record as it stands (its version and incarnation), and, from the
  # claimant, the digest of the statuses and claim it rules (0 otherwise): a receiver
  # that holds less pulls the sender's view, since relays of those are not taken.
  version @1 :UInt64;
  incarnation @2 :UInt32;
  ruledDigest @3 :UInt64;
}

# ---- the frame --------------------------------------------------------------------

struct Frame {
  union {
    hello @0 :Hello;
    putLeaderReq @1 :PutLeaderReq;
    putLeaderResp @2 :PutLeaderResp;
    replicateReq @3 :ReplicateReq;
    replicateResp @4 :ReplicateResp;
    getReq @5 :GetReq;
    getResp @6 :GetResp;
    ping @7 :Ping;
    pong @8 :Pong;
    clientRequest @9 :ClientRequest;
    clientReply @10 :ClientReply;
    hintBatch @11 :HintBatch;
    hintAck @12 :HintAck;
    aeTree @13 :AeTree;
    aeTreeResp @14 :AeTreeResp;
    aeKeys @15 :AeKeys;
    aeKeysResp @16 :AeKeysResp;
    aeStates @17 :AeStates;
    aeDone @18 :AeDone;
    handoffBatch @19 :HandoffBatch;
    handoffAck @20 :HandoffAck;
    gossipSyn @21 :GossipSyn;
    gossipAck @22 :GossipAck;
    gossipAck2 @23 :GossipAck2;
    heartbeat @24 :Heartbeat;
    listReq @25 :ListReq;
    listResp @26 :ListResp;
    replicateDelta @27 :ReplicateDelta;
    # Append new members here, numbered from @28.
  }
}
