// The codec of the peer messages beyond the request path's first ones: repair (hinted
// handoff and anti-entropy), the ownership handoff stream, key listing and
// replication patches. Framing and the shared value helpers: wire.cpp.
#include <cstdint>
#include <string>
#include <vector>

#include "core/errc.h"
#include "replica/messages.h"
#include "wire/codec_internal.h"

namespace shoal::wire::detail {

namespace {

// ---- encoding -------------------------------------------------------------------

template <typename ListBuilder>
void put_key_states(ListBuilder list, const std::vector<replica::KeyState>& items) {
    for (unsigned i = 0; i < items.size(); ++i) {
        list[i].setKey(as_data(items[i].key));
        put_state(list[i].initState(), items[i].state);
    }
}

template <typename T, typename ListBuilder>
void put_numbers(ListBuilder list, const std::vector<T>& values) {
    for (unsigned i = 0; i < values.size(); ++i) list.set(i, values[i]);
}

// ---- decoding -------------------------------------------------------------------

template <typename ListReader>
bool get_key_states(ListReader list, std::vector<replica::KeyState>& out) {
    out.resize(list.size());
    for (unsigned i = 0; i < list.size(); ++i) {
        get_string(list[i].getKey(), out[i].key);
        if (!get_state(list[i].getState(), out[i].state)) return false;
    }
    return true;
}

template <typename T, typename ListReader>
void get_numbers(ListReader list, std::vector<T>& out) {
    out.resize(list.size());
    for (unsigned i = 0; i < list.size(); ++i) out[i] = list[i];
}

bool get_peer(cs::HintBatch::Reader r, replica::PeerMessage& out) {
    auto& m = out.emplace<replica::HintBatch>();
    m.seq = r.getSeq();
    return get_key_states(r.getItems(), m.items);
}
bool get_peer(cs::HintAck::Reader r, replica::PeerMessage& out) {
    auto& m = out.emplace<replica::HintAck>();
    m.seq = r.getSeq();
    return get_code(r.getCode(), m.code);
}
bool get_peer(cs::AeTree::Reader r, replica::PeerMessage& out) {
    auto& m = out.emplace<replica::AeTree>();
    m.xid = r.getXid();
    m.partition = PartitionId{r.getPartition()};
    m.level = r.getLevel();
    get_numbers(r.getIndex(), m.index);
    get_numbers(r.getHash(), m.hash);
    return true;
}
bool get_peer(cs::AeTreeResp::Reader r, replica::PeerMessage& out) {
    auto& m = out.emplace<replica::AeTreeResp>();
    m.xid = r.getXid();
    get_numbers(r.getDiffer(), m.differ);
    return get_code(r.getCode(), m.code);
}
bool get_peer(cs::AeKeys::Reader r, replica::PeerMessage& out) {
    auto& m = out.emplace<replica::AeKeys>();
    m.xid = r.getXid();
    m.partition = PartitionId{r.getPartition()};
    get_numbers(r.getLeaves(), m.leaves);
    const auto keys = r.getKeys();
    m.keys.resize(keys.size());
    for (unsigned i = 0; i < keys.size(); ++i) {
        get_string(keys[i].getKey(), m.keys[i].key);
        m.keys[i].entry = keys[i].getEntry();
    }
    return true;
}
bool get_peer(cs::AeKeysResp::Reader r, replica::PeerMessage& out) {
    auto& m = out.emplace<replica::AeKeysResp>();
    m.xid = r.getXid();
    m.truncated = r.getTruncated();
    const auto want = r.getWant();
    m.want.resize(want.size());
    for (unsigned i = 0; i < want.size(); ++i) get_string(want[i], m.want[i]);
    return get_code(r.getCode(), m.code) && get_key_states(r.getStates(), m.states);
}
bool get_peer(cs::AeStates::Reader r, replica::PeerMessage& out) {
    auto& m = out.emplace<replica::AeStates>();
    m.xid = r.getXid();
    m.partition = PartitionId{r.getPartition()};
    return get_key_states(r.getStates(), m.states);
}
bool get_peer(cs::AeDone::Reader r, replica::PeerMessage& out) {
    auto& m = out.emplace<replica::AeDone>();
    m.xid = r.getXid();
    return get_code(r.getCode(), m.code);
}
bool get_peer(cs::HandoffBatch::Reader r, replica::PeerMessage& out) {
    auto& m = out.emplace<replica::HandoffBatch>();
    m.slot = PartitionId{r.getSlot()};
    m.seq = r.getSeq();
    m.partition = PartitionId{r.getPartition()};
    m.last = r.getLast();
    return get_key_states(r.getItems(), m.items);
}
bool get_peer(cs::HandoffAck::Reader r, replica::PeerMessage& out) {
    auto& m = out.emplace<replica::HandoffAck>();
    m.slot = PartitionId{r.getSlot()};
    m.seq = r.getSeq();
    return get_code(r.getCode(), m.code);
}

bool get_peer(cs::ReplicateDelta::Reader r, replica::PeerMessage& out) {
    auto& m = out.emplace<replica::ReplicateDelta>();
    m.req = r.getReq();
    m.key = std::string(as_view(r.getKey()));
    m.patch = std::string(as_view(r.getPatch()));
    m.digest = r.getDigest();
    return get_state(r.getState(), m.state);  // the replica checks the rest (Node::replicate_delta)
}

bool get_peer(cs::ListReq::Reader r, replica::PeerMessage& out) {
    auto& m = out.emplace<replica::ListReq>();
    m.req = r.getReq();
    m.partition = PartitionId{r.getPartition()};
    get_string(r.getScope(), m.scope);
    get_string(r.getPrefix(), m.prefix);
    get_string(r.getAfter(), m.after);
    m.limit = r.getLimit();
    return true;  // the replica checks the bounds (Node::list_here)
}
bool get_peer(cs::ListResp::Reader r, replica::PeerMessage& out) {
    auto& m = out.emplace<replica::ListResp>();
    m.req = r.getReq();
    m.complete = r.getComplete();
    get_string(r.getLast(), m.last);
    const auto keys = r.getKeys();
    m.keys.resize(keys.size());
    for (unsigned i = 0; i < keys.size(); ++i) get_string(keys[i], m.keys[i]);
    return get_code(r.getCode(), m.code);  // the coordinator checks the page (ListCoordinator)
}

}  // namespace

void put(cs::Frame::Builder f, const replica::ReplicateDelta& m) {
    auto b = f.initReplicateDelta();
    b.setReq(m.req);
    b.setKey(as_data(m.key));
    put_state(b.initState(), m.state);
    b.setPatch(as_data(m.patch));
    b.setDigest(m.digest);
}

void put(cs::Frame::Builder f, const replica::ListReq& m) {
    auto b = f.initListReq();
    b.setReq(m.req);
    b.setPartition(m.partition.value);
    b.setScope(as_data(m.scope));
    b.setPrefix(as_data(m.prefix));
    b.setAfter(as_data(m.after));
    b.setLimit(m.limit);
}
void put(cs::Frame::Builder f, const replica::ListResp& m) {
    auto b = f.initListResp();
    b.setReq(m.req);
    b.setCode(code_of(m.code));
    auto keys = b.initKeys(static_cast<unsigned>(m.keys.size()));
    for (unsigned i = 0; i < m.keys.size(); ++i) keys.set(i, as_data(m.keys[i]));
    b.setComplete(m.complete);
    b.setLast(as_data(m.last));
}

void put(cs::Frame::Builder f, const replica::HintBatch& m) {
    auto b = f.initHintBatch();
    b.setSeq(m.seq);
    put_key_states(b.initItems(static_cast<unsigned>(m.items.size())), m.items);
}
void put(cs::Frame::Builder f, const replica::HintAck& m) {
    auto b = f.initHintAck();
    b.setSeq(m.seq);
    b.setCode(code_of(m.code));
}
void put(cs::Frame::Builder f, const replica::AeTree& m) {
    auto b = f.initAeTree();
    b.setXid(m.xid);
    b.setPartition(m.partition.value);
    b.setLevel(m.level);
    put_numbers(b.initIndex(static_cast<unsigned>(m.index.size())), m.index);
    put_numbers(b.initHash(static_cast<unsigned>(m.hash.size())), m.hash);
}
void put(cs::Frame::Builder f, const replica::AeTreeResp& m) {
    auto b = f.initAeTreeResp();
    b.setXid(m.xid);
    b.setCode(code_of(m.code));
    put_numbers(b.initDiffer(static_cast<unsigned>(m.differ.size())), m.differ);
}
void put(cs::Frame::Builder f, const replica::AeKeys& m) {
    auto b = f.initAeKeys();
    b.setXid(m.xid);
    b.setPartition(m.partition.value);
    put_numbers(b.initLeaves(static_cast<unsigned>(m.leaves.size())), m.leaves);
    auto keys = b.initKeys(static_cast<unsigned>(m.keys.size()));
    for (unsigned i = 0; i < m.keys.size(); ++i) {
        keys[i].setKey(as_data(m.keys[i].key));
        keys[i].setEntry(m.keys[i].entry);
    }
}
void put(cs::Frame::Builder f, const replica::AeKeysResp& m) {
    auto b = f.initAeKeysResp();
    b.setXid(m.xid);
    b.setCode(code_of(m.code));
    b.setTruncated(m.truncated);
    put_key_states(b.initStates(static_cast<unsigned>(m.states.size())), m.states);
    auto want = b.initWant(static_cast<unsigned>(m.want.size()));
    for (unsigned i = 0; i < m.want.size(); ++i) want.set(i, as_data(m.want[i]));
}
void put(cs::Frame::Builder f, const replica::AeStates& m) {
    auto b = f.initAeStates();
    b.setXid(m.xid);
    b.setPartition(m.partition.value);
    put_key_states(b.initStates(static_cast<unsigned>(m.states.size())), m.states);
}
void put(cs::Frame::Builder f, const replica::AeDone& m) {
    auto b = f.initAeDone();
    b.setXid(m.xid);
    b.setCode(code_of(m.code));
}
void put(cs::Frame::Builder f, const replica::HandoffBatch& m) {
    auto b = f.initHandoffBatch();
    b.setSlot(m.slot.value);
    b.setSeq(m.seq);
    b.setPartition(m.partition.value);
    put_key_states(b.initItems(static_cast<unsigned>(m.items.size())), m.items);
    b.setLast(m.last);
}
void put(cs::Frame::Builder f, const replica::HandoffAck& m) {
    auto b = f.initHandoffAck();
    b.setSlot(m.slot.value);
    b.setSeq(m.seq);
    b.setCode(code_of(m.code));
}

bool get_repair(cs::Frame::Reader f, replica::PeerMessage& out) {
    using W = cs::Frame;
    switch (f.which()) {
        case W::HINT_BATCH: return f.hasHintBatch() && get_peer(f.getHintBatch(), out);
        case W::HINT_ACK: return f.hasHintAck() && get_peer(f.getHintAck(), out);
        case W::AE_TREE: return f.hasAeTree() && get_peer(f.getAeTree(), out);
        case W::AE_TREE_RESP: return f.hasAeTreeResp() && get_peer(f.getAeTreeResp(), out);
        case W::AE_KEYS: return f.hasAeKeys() && get_peer(f.getAeKeys(), out);
        case W::AE_KEYS_RESP: return f.hasAeKeysResp() && get_peer(f.getAeKeysResp(), out);
        case W::AE_STATES: return f.hasAeStates() && get_peer(f.getAeStates(), out);
        case W::AE_DONE: return f.hasAeDone() && get_peer(f.getAeDone(), out);
        case W::HANDOFF_BATCH: return f.hasHandoffBatch() && get_peer(f.getHandoffBatch(), out);
        case W::HANDOFF_ACK: return f.hasHandoffAck() && get_peer(f.getHandoffAck(), out);
        case W::LIST_REQ: return f.hasListReq() && get_peer(f.getListReq(), out);
        case W::LIST_RESP: return f.hasListResp() && get_peer(f.getListResp(), out);
        case W::REPLICATE_DELTA: return f.hasReplicateDelta() && get_peer(f.getReplicateDelta(), out);
        default: return false;
    }
}

}  // namespace shoal::wire::detail
