// The native protocol's framing, its bounded incremental decoder, the value helpers
// shared by the codec files (codec_internal.h), hello, client requests and replies,
// and the peer messages of the request path. Repair and handoff messages live in
// wire_repair.cpp, gossip in wire_gossip.cpp.
#include "wire/wire.h"

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/exception.h>
#include <kj/io.h>

#include "core/assert.h"
#include "core/errc.h"
#include "replica/codec.h"
#include "wire/codec_internal.h"

namespace shoal::wire {

namespace {

using replica::Dot;
using replica::Sibling;
using replica::SiblingSet;
using replica::VersionVector;

constexpr std::size_t k_word_bytes = sizeof(capnp::word);
constexpr std::uint64_t k_max_segments = 64;
constexpr int k_nesting_limit = 16;
// Decoding reads each object once; the slack covers the root pointer and rounding.
constexpr std::uint64_t k_traversal_factor = 2;
constexpr std::uint64_t k_traversal_slack_words = 64;

// Compaction of the reader's buffer: consumed bytes are dropped once they are at
// least this many and at least half the buffer, so each byte moves O(1) times.
constexpr std::size_t k_compact_bytes = 64 * 1024;
// An emptied buffer holding more than this gives its memory back (idle connections
// should not each keep a 2 MiB buffer after one large frame).
constexpr std::size_t k_keep_capacity_bytes = 256 * 1024;

// Small messages are built in this per-thread first segment: no allocation and no
// zeroing of a fresh 8 KiB segment per frame. MallocMessageBuilder re-zeroes the
// part it used when it is destroyed, as it requires.
constexpr unsigned k_scratch_words = 1024;
thread_local capnp::word t_scratch[k_scratch_words];

}  // namespace

// ---- shared helpers (codec_internal.h) ----------------------------------------------

namespace detail {

namespace {

void put_dot(cs::Dot::Builder b, const Dot& dot) {
    b.setActor(dot.actor);
    b.setCounter(dot.counter);
}

void put_vv(cs::VersionVector::Builder b, const VersionVector& vv) {
    if (vv.empty()) return;  // a null list reads as empty
    auto list = b.initEntries(static_cast<unsigned>(vv.entries().size()));
    unsigned i = 0;
    for (const auto& [actor, counter] : vv.entries()) {
        list[i].setActor(actor);
        list[i].setCounter(counter);
        ++i;
    }
}

void put_siblings(capnp::List<cs::Sibling>::Builder list, const std::vector<Sibling>& siblings) {
    for (unsigned i = 0; i < siblings.size(); ++i) {
        const Sibling& s = siblings[i];
        auto b = list[i];
        put_dot(b.initDot(), s.dot);
        b.setTombstone(s.tombstone);
        if (!s.value.empty()) b.setValue(as_data(s.value));
        b.setWrittenUs(s.written.us);
        b.setExpiresUs(s.expires.us);
        if (!s.content_type.empty()) b.setContentType(s.content_type);
    }
}

// A content type as sent: bounded, and absent on a tombstone.
bool get_content_type(bool has, capnp::Text::Reader text, bool tombstone, std::string& out) {
    out.clear();
    if (!has) return true;
    if (text.size() > k_max_content_type_bytes || tombstone) return false;
    out.assign(text.cStr(), text.size());
    return true;
}

Dot get_dot(cs::Dot::Reader r) {
    return Dot{r.getActor(), r.getCounter()};
}

// Canonical form only: actors strictly increasing, counters in 1..k_max_counter-1,
// bounded size. (Sibling dots are covered by their context, so they are bounded too.)
bool get_vv(cs::VersionVector::Reader r, VersionVector& out) {
    out = VersionVector{};
    const auto entries = r.getEntries();
    if (entries.size() > k_max_context_entries) return false;
    replica::ActorId last = 0;
    bool first = true;
    for (const auto e : entries) {
        const auto actor = e.getActor();
        const auto counter = e.getCounter();
        if (counter == 0 || counter >= k_max_counter || (!first && actor <= last)) return false;
        out.raise(actor, counter);  // appends: actors arrive in order
        last = actor;
        first = false;
    }
    return true;
}

// Siblings sorted by dot, distinct, each covered by the context.
bool get_siblings(capnp::List<cs::Sibling>::Reader list, const VersionVector& context, std::vector<Sibling>& out) {
    out.clear();
    if (list.size() > k_max_stored_siblings) return false;
    out.resize(list.size());
    for (unsigned i = 0; i < list.size(); ++i) {
        const auto r = list[i];
        Sibling& s = out[i];
        s.dot = get_dot(r.getDot());
        s.tombstone = r.getTombstone();
        get_string(r.getValue(), s.value);
        s.written = Time{r.getWrittenUs()};
        s.expires = Time{r.getExpiresUs()};
        if (!get_content_type(r.hasContentType(), r.getContentType(), s.tombstone, s.content_type)) return false;
        if (!context.covers(s.dot)) return false;
        if (i > 0 && !(out[i - 1].dot < s.dot)) return false;
    }
    return true;
}

}  // namespace

capnp::Data::Reader as_data(std::string_view s) {
    return {reinterpret_cast<const kj::byte*>(s.data()), s.size()};
}

std::string_view as_view(capnp::Data::Reader d) {
    return {reinterpret_cast<const char*>(d.begin()), d.size()};
}

void get_string(capnp::Data::Reader d, std::string& out) {
    out.assign(reinterpret_cast<const char*>(d.begin()), d.size());
}

bool get_condition(std::uint8_t raw, replica::WriteCondition& out) {
    if (raw > static_cast<std::uint8_t>(replica::WriteCondition::if_match)) return false;
    out = static_cast<replica::WriteCondition>(raw);
    return true;
}

bool get_code(std::uint16_t raw, errc& out) {
    out = static_cast<errc>(raw);
    return errc_name(out) != "unknown";  // tracks new enumerators on its own
}

void put_state(cs::SiblingSet::Builder b, const SiblingSet& set) {
    put_vv(b.initContext(), set.context);
    if (!set.siblings.empty()) put_siblings(b.initSiblings(static_cast<unsigned>(set.siblings.size())), set.siblings);
}

bool get_state(cs::SiblingSet::Reader r, SiblingSet& out) {
    return get_vv(r.getContext(), out.context) && get_siblings(r.getSiblings(), out.context, out.siblings);
}

kj::ArrayPtr<capnp::word> scratch_segment() {
    return kj::arrayPtr(t_scratch, k_scratch_words);
}

void append_message(capnp::MessageBuilder& message, std::string& out) {
    const std::size_t bytes = capnp::computeSerializedSizeInWords(message) * k_word_bytes;
    const std::size_t old_size = out.size();
    out.resize(old_size + bytes);
    kj::ArrayOutputStream stream(kj::arrayPtr(reinterpret_cast<kj::byte*>(out.data() + old_size), bytes));
    capnp::writeMessage(stream, message);
    SHOAL_ASSERT(stream.getArray().size() == bytes);
}

}  // namespace detail

using namespace detail;

namespace {

// ---- encoding: request-path peer messages -------------------------------------------

void put(cs::Frame::Builder f, const replica::PutLeaderReq& m) {
    auto b = f.initPutLeaderReq();
    b.setReq(m.req);
    b.setKey(as_data(m.key));
    auto op = b.initOp();
    op.setValue(as_data(m.op.value));
    op.setTombstone(m.op.tombstone);
    put_vv(op.initContext(), m.op.context);
    op.setWrittenUs(m.op.written.us);
    op.setExpiresUs(m.op.expires.us);
    if (!m.op.content_type.empty()) op.setContentType(m.op.content_type);
    if (!m.op.update.empty()) op.setUpdate(as_data(m.op.update));
    b.setHintFor(m.hint_for.value);
    b.setMaxSiblings(m.max_siblings);
    b.setApplyByUs(m.apply_by.us);
    b.setCondition(static_cast<std::uint8_t>(m.condition));
}

void put(cs::Frame::Builder f, const replica::PutLeaderResp& m) {
    auto b = f.initPutLeaderResp();
    b.setReq(m.req);
    b.setCode(code_of(m.code));
    put_dot(b.initDot(), m.dot);
    put_state(b.initState(), m.state);
    b.setPatch(as_data(m.patch));
}

void put(cs::Frame::Builder f, const replica::ReplicateReq& m) {
    auto b = f.initReplicateReq();
    b.setReq(m.req);
    b.setKey(as_data(m.key));
    put_state(b.initState(), m.state);
    b.setHintFor(m.hint_for.value);
}

void put(cs::Frame::Builder f, const replica::ReplicateResp& m) {
    auto b = f.initReplicateResp();
    b.setReq(m.req);
    b.setCode(code_of(m.code));
    b.setNeedState(m.need_state);
}

void put(cs::Frame::Builder f, const replica::GetReq& m) {
    auto b = f.initGetReq();
    b.setReq(m.req);
    b.setKey(as_data(m.key));
}

void put(cs::Frame::Builder f, const replica::GetResp& m) {
    auto b = f.initGetResp();
    b.setReq(m.req);
    b.setCode(code_of(m.code));
    put_state(b.initState(), m.state);
}

void put(cs::Frame::Builder f, const replica::Ping& m) {
    f.initPing().setSeq(m.seq);
}
void put(cs::Frame::Builder f, const replica::Pong& m) {
    f.initPong().setSeq(m.seq);
}

// ---- decoding -------------------------------------------------------------------

std::string to_string(capnp::Data::Reader d) {
    return std::string(as_view(d));
}

bool get_hello(cs::Hello::Reader r, Hello& out) {
    switch (r.getRole()) {
        case cs::Hello::Role::PEER: out.role = Hello::Role::peer; break;
        case cs::Hello::Role::CLIENT: out.role = Hello::Role::client; break;
        default: return false;
    }
    out.node = NodeId{r.getNode()};
    out.protocol = r.getProtocol();
    if (r.getToken().size() > k_max_token_bytes) return false;
    out.token = to_string(r.getToken());
    return out.role == Hello::Role::client || out.node.valid();
}

bool get_peer(cs::PutLeaderReq::Reader r, replica::PeerMessage& out) {
    auto& m = out.emplace<replica::PutLeaderReq>();
    m.req = r.getReq();
    m.key = to_string(r.getKey());
    const auto op = r.getOp();
    m.op.value = to_string(op.getValue());
    m.op.update = to_string(op.getUpdate());
    m.op.tombstone = op.getTombstone();
    m.op.written = Time{op.getWrittenUs()};
    m.op.expires = Time{op.getExpiresUs()};
    if (!get_content_type(op.hasContentType(), op.getContentType(), m.op.tombstone, m.op.content_type)) return false;
    m.hint_for = NodeId{r.getHintFor()};
    m.max_siblings = r.getMaxSiblings();
    m.apply_by = Time{r.getApplyByUs()};
    if (!get_condition(r.getCondition(), m.condition)) return false;
    return get_vv(op.getContext(), m.op.context);
}

bool get_peer(cs::PutLeaderResp::Reader r, replica::PeerMessage& out) {
    auto& m = out.emplace<replica::PutLeaderResp>();
    m.req = r.getReq();
    m.dot = get_dot(r.getDot());
    m.patch = to_string(r.getPatch());
    return get_code(r.getCode(), m.code) && get_state(r.getState(), m.state);
}

bool get_peer(cs::ReplicateReq::Reader r, replica::PeerMessage& out) {
    auto& m = out.emplace<replica::ReplicateReq>();
    m.req = r.getReq();
    m.key = to_string(r.getKey());
    m.hint_for = NodeId{r.getHintFor()};
    return get_state(r.getState(), m.state);
}

bool get_peer(cs::ReplicateResp::Reader r, replica::PeerMessage& out) {
    auto& m = out.emplace<replica::ReplicateResp>();
    m.req = r.getReq();
    m.need_state = r.getNeedState();
    return get_code(r.getCode(), m.code);
}

bool get_peer(cs::GetReq::Reader r, replica::PeerMessage& out) {
    auto& m = out.emplace<replica::GetReq>();
    m.req = r.getReq();
    m.key = to_string(r.getKey());
    return true;
}

bool get_peer(cs::GetResp::Reader r, replica::PeerMessage& out) {
    auto& m = out.emplace<replica::GetResp>();
    m.req = r.getReq();
    return get_code(r.getCode(), m.code) && get_state(r.getState(), m.state);
}

bool get_peer(cs::Ping::Reader r, replica::PeerMessage& out) {
    out.emplace<replica::Ping>().seq = r.getSeq();
    return true;
}

bool get_peer(cs::Pong::Reader r, replica::PeerMessage& out) {
    out.emplace<replica::Pong>().seq = r.getSeq();
    return true;
}

bool get_request(cs::ClientRequest::Reader r, ClientFrame& out) {
    out.request_id = r.getRequestId();
    auto& q = out.request;
    switch (r.getOp()) {
        case cs::ClientRequest::Op::GET: q.op = replica::ClientOp::get; break;
        case cs::ClientRequest::Op::PUT: q.op = replica::ClientOp::put; break;
        case cs::ClientRequest::Op::DEL: q.op = replica::ClientOp::del; break;
        default: return false;
    }
    get_string(r.getKey(), q.key);
    get_string(r.getValue(), q.value);
    get_string(r.getUpdate(), q.update);
    const auto o = r.getOptions();
    q.options.n = o.getN();
    q.options.r = o.getR();
    q.options.w = o.getW();
    q.options.pr = o.getPr();
    q.options.pw = o.getPw();
    q.options.dw = o.getDw();
    q.options.timeout_ms = o.getTimeoutMs();
    q.options.ttl_s = o.getTtlS();
    q.options.return_body = o.getReturnBody();
    if (!get_condition(o.getCondition(), q.options.condition)) return false;
    // Bounded here; the core checks the name.
    if (o.hasNamespace()) {
        const auto ns = o.getNamespace();
        if (ns.size() > k_max_namespace_bytes) return false;
        q.options.ns.assign(ns.cStr(), ns.size());
    }
    if (!get_content_type(r.hasContentType(), r.getContentType(), false, q.content_type)) return false;
    return get_vv(r.getContext(), q.context);
}

bool get_reply(cs::ClientReply::Reader r, ReplyFrame& out) {
    out.request_id = r.getRequestId();
    auto& p = out.reply;
    p.token = 0;  // not sent
    p.replies = r.getReplies();
    p.required = r.getRequired();
    p.dot = get_dot(r.getDot());
    p.primaries = r.getPrimaries();
    p.primaries_down = r.getPrimariesDown();
    if (p.primaries > k_max_replicas || p.primaries_down > p.primaries) return false;
    return get_code(r.getCode(), p.code) && get_vv(r.getContext(), p.context) &&
           get_siblings(r.getSiblings(), p.context, p.siblings);
}

// Decodes the root Frame into out. A union member must be present (Shoal never
// sends a null one); an unknown member (a newer peer's message) is an error.
bool get_frame(cs::Frame::Reader f, Frame& out) {
    using W = cs::Frame;
    switch (f.which()) {
        case W::HELLO: out.kind = Frame::Kind::hello; return f.hasHello() && get_hello(f.getHello(), out.hello);
        case W::CLIENT_REQUEST:
            out.kind = Frame::Kind::client_request;
            return f.hasClientRequest() && get_request(f.getClientRequest(), out.request);
        case W::CLIENT_REPLY:
            out.kind = Frame::Kind::client_reply;
            return f.hasClientReply() && get_reply(f.getClientReply(), out.reply);
        default: break;
    }
    if (is_gossip(f.which())) {
        out.kind = Frame::Kind::gossip;
        return get_gossip(f, out.gossip);
    }
    out.kind = Frame::Kind::peer;
    switch (f.which()) {
        case W::PUT_LEADER_REQ: return f.hasPutLeaderReq() && get_peer(f.getPutLeaderReq(), out.peer);
        case W::PUT_LEADER_RESP: return f.hasPutLeaderResp() && get_peer(f.getPutLeaderResp(), out.peer);
        case W::REPLICATE_REQ: return f.hasReplicateReq() && get_peer(f.getReplicateReq(), out.peer);
        case W::REPLICATE_RESP: return f.hasReplicateResp() && get_peer(f.getReplicateResp(), out.peer);
        case W::GET_REQ: return f.hasGetReq() && get_peer(f.getGetReq(), out.peer);
        case W::GET_RESP: return f.hasGetResp() && get_peer(f.getGetResp(), out.peer);
        case W::PING: return f.hasPing() && get_peer(f.getPing(), out.peer);
        case W::PONG: return f.hasPong() && get_peer(f.getPong(), out.peer);
        default: return get_repair(f, out.peer);  // false for an unknown member
    }
}
// Decodes one complete stream-framed message of `words` words starting at p.
bool decode_frame(const char* p, std::size_t words, Frame& out) {
    kj::Array<capnp::word> copy;
    kj::ArrayPtr<const capnp::word> view;
    if (reinterpret_cast<std::uintptr_t>(p) % alignof(capnp::word) == 0) {
        // Frames are whole words and the buffer is compacted to its start, so the
        // bytes are nearly always aligned already: read them in place.
        view = kj::arrayPtr(reinterpret_cast<const capnp::word*>(p), words);
    } else {
        copy = kj::heapArray<capnp::word>(words);
        std::memcpy(copy.begin(), p, words * k_word_bytes);
        view = copy.asPtr();
    }
    capnp::ReaderOptions options;
    options.traversalLimitInWords = words * k_traversal_factor + k_traversal_slack_words;
    options.nestingLimit = k_nesting_limit;
    try {
        capnp::FlatArrayMessageReader reader(view, options);
        return get_frame(reader.getRoot<cs::Frame>(), out);
    } catch (const kj::Exception&) {
        return false;  // malformed: bad pointers, out of bounds, limits exceeded
    }
}

std::uint32_t load_u32_le(const char* p) {
    const auto* b = reinterpret_cast<const unsigned char*>(p);
    return static_cast<std::uint32_t>(b[0]) | static_cast<std::uint32_t>(b[1]) << 8 |
           static_cast<std::uint32_t>(b[2]) << 16 | static_cast<std::uint32_t>(b[3]) << 24;
}

enum class Scan { need_more, too_large, complete };

// Reads the segment table at the front of `bytes` (u32 segment count - 1, then each
// segment's size in words, padded to a word) and refuses an oversized frame as soon
// as the table says so, before any of its body is buffered. On complete,
// frame_bytes is the whole frame, table included.
Scan scan_frame(std::string_view bytes, std::size_t max_frame_bytes, std::size_t& frame_bytes) {
    if (bytes.size() < 4) return Scan::need_more;
    const std::uint64_t segments = std::uint64_t{load_u32_le(bytes.data())} + 1;
    if (segments > k_max_segments) return Scan::too_large;
    std::uint64_t total = (4 + 4 * segments + 7) / 8 * 8;  // the table itself
    if (total > max_frame_bytes) return Scan::too_large;
    for (std::uint64_t i = 0; i < segments; ++i) {
        const std::size_t at = 4 + 4 * i;
        if (bytes.size() < at + 4) return Scan::need_more;
        total += std::uint64_t{load_u32_le(bytes.data() + at)} * k_word_bytes;
        if (total > max_frame_bytes) return Scan::too_large;
    }
    if (bytes.size() < total) return Scan::need_more;
    frame_bytes = static_cast<std::size_t>(total);
    return Scan::complete;
}

}  // namespace

// ---- public API ---------------------------------------------------------------------

void encode_hello(const Hello& hello, std::string& out) {
    encode_frame(out, [&](cs::Frame::Builder f) {
        auto b = f.initHello();
        b.setRole(hello.role == Hello::Role::peer ? cs::Hello::Role::PEER : cs::Hello::Role::CLIENT);
        b.setNode(hello.node.value);
        b.setProtocol(hello.protocol);
        if (!hello.token.empty()) b.setToken(as_data(hello.token));
    });
}

void encode_peer(const replica::PeerMessage& message, std::string& out) {
    encode_frame(out, [&](cs::Frame::Builder f) { std::visit([&](const auto& m) { put(f, m); }, message); });
}

void encode_request(std::uint64_t request_id, const replica::ClientRequest& request, std::string& out) {
    encode_frame(out, [&](cs::Frame::Builder f) {
        auto b = f.initClientRequest();
        b.setRequestId(request_id);
        switch (request.op) {
            case replica::ClientOp::get: b.setOp(cs::ClientRequest::Op::GET); break;
            case replica::ClientOp::put: b.setOp(cs::ClientRequest::Op::PUT); break;
            case replica::ClientOp::del: b.setOp(cs::ClientRequest::Op::DEL); break;
            case replica::ClientOp::list: SHOAL_UNREACHABLE("the native protocol carries no key listing");
        }
        b.setKey(as_data(request.key));
        if (!request.value.empty()) b.setValue(as_data(request.value));
        put_vv(b.initContext(), request.context);
        auto o = b.initOptions();
        const auto& opt = request.options;
        o.setN(opt.n);
        o.setR(opt.r);
        o.setW(opt.w);
        o.setPr(opt.pr);
        o.setPw(opt.pw);
        o.setDw(opt.dw);
        o.setTimeoutMs(opt.timeout_ms);
        o.setTtlS(opt.ttl_s);
        o.setReturnBody(opt.return_body);
        o.setCondition(static_cast<std::uint8_t>(opt.condition));
        if (!opt.ns.empty()) o.setNamespace(opt.ns);
        if (!request.content_type.empty()) b.setContentType(request.content_type);
        if (!request.update.empty()) b.setUpdate(as_data(request.update));
    });
}

void encode_reply(std::uint64_t request_id, const replica::ClientReply& reply, std::string& out) {
    encode_frame(out, [&](cs::Frame::Builder f) {
        auto b = f.initClientReply();
        b.setRequestId(request_id);
        b.setCode(code_of(reply.code));
        b.setReplies(reply.replies);
        b.setRequired(reply.required);
        if (!reply.siblings.empty()) {
            put_siblings(b.initSiblings(static_cast<unsigned>(reply.siblings.size())), reply.siblings);
        }
        put_vv(b.initContext(), reply.context);
        put_dot(b.initDot(), reply.dot);
        b.setPrimaries(reply.primaries);
        b.setPrimariesDown(reply.primaries_down);
    });
}

void FrameReader::set_max_frame_bytes(std::size_t max_frame_bytes) {
    SHOAL_ASSERT(max_frame_bytes >= k_word_bytes);
    max_frame_bytes_ = max_frame_bytes;
}

FrameReader::FrameReader(std::size_t max_frame_bytes) : max_frame_bytes_(max_frame_bytes) {
    SHOAL_ASSERT(max_frame_bytes_ >= k_word_bytes);
}

void FrameReader::feed(std::string_view bytes) {
    buffer_.append(bytes);
}

FrameReader::Status FrameReader::next(Frame& out, std::error_code& why) {
    const std::string_view pending(buffer_.data() + consumed_, buffer_.size() - consumed_);
    std::size_t frame_bytes = 0;
    switch (scan_frame(pending, max_frame_bytes_, frame_bytes)) {
        case Scan::need_more: return Status::need_more;
        case Scan::too_large: why = errc::value_too_large; return Status::error;
        case Scan::complete: break;
    }
    SHOAL_ASSERT(frame_bytes % k_word_bytes == 0 && frame_bytes <= pending.size());
    // Nothing is consumed on error: the same error comes back on every later call.
    if (!decode_frame(pending.data(), frame_bytes / k_word_bytes, out)) {
        why = errc::bad_request;
        return Status::error;
    }
    consumed_ += frame_bytes;
    if (consumed_ == buffer_.size()) {
        if (buffer_.capacity() > k_keep_capacity_bytes) {
            std::string().swap(buffer_);
        } else {
            buffer_.clear();
        }
        consumed_ = 0;
    } else if (consumed_ >= k_compact_bytes && consumed_ >= buffer_.size() / 2) {
        buffer_.erase(0, consumed_);
        consumed_ = 0;
    }
    why.clear();
    return Status::frame;
}

}  // namespace shoal::wire
