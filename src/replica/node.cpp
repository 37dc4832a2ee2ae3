#include "replica/node.h"

#include <algorithm>

#include "core/assert.h"
#include "core/byte_codec.h"
#include "core/hash.h"
#include "replica/codec.h"
#include "store/keys.h"

namespace shoal::replica {

namespace {
// Where the numbers a life gives its hints, batches, exchanges, requests and pings start:
// above all of an earlier life's. A life that used more than 2^32 of one carries into
// the next base, which a later life never has: shoald floors each incarnation with the
// wall clock in seconds, and no life issues 2^32 in a second.
std::uint64_t life_base(std::uint32_t incarnation) { return std::uint64_t{incarnation} << 32; }

ReaperBounds reaper_bounds(const RepairConfig& rc) {
    return ReaperBounds{rc.gc_interval,   rc.tombstone_grace, rc.gc_batch, rc.max_gc_candidates,
                        rc.reaped_memory, rc.max_recently_reaped};
}
}  // namespace

Node::Node(NodeConfig config, store::BufferedStore& store, std::shared_ptr<const ring::Ring> ring,
           health::Detector& detector, NodeEvents* events)
    : config_(std::move(config)),
      store_(store),
      ring_(std::move(ring)),
      detector_(detector),
      events_(events),
      actor_(make_actor(config_.id, config_.incarnation)),
      hints_(config_.repair.max_hints, config_.repair.max_hint_bytes, life_base(config_.incarnation)),
      exchanges_(life_base(config_.incarnation), hash_combine(config_.id.value, config_.incarnation)),
      reaper_(reaper_bounds(config_.repair)) {
    SHOAL_ASSERT(config_.id.valid());
    SHOAL_ASSERT(ring_ != nullptr);
    SHOAL_ASSERT(config_.r >= 1 && config_.w >= 1 && config_.r <= config_.n && config_.w <= config_.n);
    // Batch, exchange and request ids of an earlier life must not match this life's: an
    // answer to a request of the life before (queued on a peer's link while this node
    // restarted) would otherwise count towards, or be merged into, a request of this one.
    next_handoff_seq_ = life_base(config_.incarnation) + 1;
    next_req_ = life_base(config_.incarnation) + 1;
    next_ping_ = life_base(config_.incarnation) + 1;
    rebuild_from_store();
}

void Node::set_ring(std::shared_ptr<const ring::Ring> ring) {
    SHOAL_ASSERT(ring != nullptr);
    ring_ = std::move(ring);
    recheck_kept_ = true;  // partitions this node stops serving are handed over at the next tick
}

bool Node::believes_up(NodeId peer) const { return peer == config_.id || detector_.up(peer, last_now_.mono); }

// ---- client requests ---------------------------------------------------------------

void Node::submit(Now now, ClientToken token, ClientRequest request) {
    last_now_ = now;
    begin_step();
    submit_one(now, token, request);
    end_step();
}

void Node::submit_one(Now now, ClientToken token, ClientRequest& request) {
    RequestOptions opts;
    if (auto ec = validate(request, opts)) {
        fail(token, to_errc(ec), 0, 0);
        return;
    }
    if (inflight() >= config_.limits.max_inflight_requests) {
        fail(token, errc::overloaded, 0, 0);
        return;
    }
    if (request.op == ClientOp::list) {
        ++stats_.client_lists;
        start_list(now, token, request, opts);
        return;
    }
    // From here on the key is the stored key: its namespace is part of it.
    if (!opts.ns.empty() && opts.ns != k_default_namespace) request.key = scoped_key(opts.ns, request.key);
    switch (request.op) {
        case ClientOp::get:
            ++stats_.client_gets;
            start_get(now, token, request, opts);
            break;
        case ClientOp::put:
        case ClientOp::del:
            ++(request.op == ClientOp::put ? stats_.client_puts : stats_.client_dels);
            if (request.op == ClientOp::del && request.context.empty() &&
                opts.condition == WriteCondition::none) {
                // A delete that names nothing deletes what a read at R finds (Riak's
                // way): the read's context, as if the client had read first.
                start_get(now, token, request, opts, /*then_delete=*/true);
                break;
            }
            start_put(now, token, request, opts);
            break;
        case ClientOp::list: SHOAL_UNREACHABLE("handled above");
    }
}

void Node::fail(ClientToken token, errc code, std::uint32_t replies, std::uint32_t required) {
    ++stats_.client_errors;
    if (code == errc::quorum_not_met) ++stats_.quorum_failures;
    ClientReply reply;
    reply.token = token;
    reply.code = code;
    reply.replies = replies;
    reply.required = required;
    out_.replies.push_back(OutReply{std::move(reply), 0});
}

void Node::start_get(Now now, ClientToken token, ClientRequest& request, const RequestOptions& opts,
                     bool then_delete) {
    const RequestId req = next_req_++;  // taken even by a read refused at once
    GetCoordinator::Spec spec;
    spec.token = token;
    if (then_delete) spec.then_delete = opts;
    spec.key = std::move(request.key);
    spec.replies = Quorum{opts.r, opts.pr};
    spec.deadline = now.mono + Duration::millis(opts.timeout_ms);
    pick_targets(spec.key, opts.n, spec.targets);
    if (spec.targets.size() < spec.replies.need) {
        fail_unavailable(token, spec.targets, opts.n, spec.replies.need);
        return;
    }
    if (events_) note_routed(spec.key, request.op, spec.targets, NodeId{});
    auto [it, inserted] = gets_.try_emplace(req, std::move(spec));
    SHOAL_ASSERT(inserted);
    GetCoordinator& get = it->second;
    // The retry comes first, and the deadline joins the queue when it passes (expire);
    // without a retry before it, the deadline goes in now.
    const bool retry = config_.read_fanout != ReadFanout::all && now.mono + config_.read_retry < get.deadline();
    if (retry) {
        deadlines_.push({now.mono + config_.read_retry, req});
    } else {
        queue_deadline(req, get);
    }
    // This node's own copy costs no message: it is asked first when it holds one, and
    // read once the peers are asked (its answer may finish the read).
    bool own = false;
    if (config_.read_fanout == ReadFanout::all) {
        ask(req, get, /*everyone=*/true, &own);
    } else {
        own = get.ask_self(config_.id) != nullptr;
        ask(req, get, /*everyone=*/false);
    }
    if (!own) return;
    GetResp resp = read_here(req, get.key());
    on_get_resp(now, config_.id, resp);  // last: `get` may be gone after it
}

std::size_t Node::ask(RequestId req, GetCoordinator& get, bool everyone, bool* own) {
    return get.ask(everyone, [&](const Target& t) {
        if (t.node != config_.id) return send(t.node, GetReq{req, get.key()});
        // Only a read's first ask can include this node (later ones find it asked).
        SHOAL_ASSERT(own != nullptr);
        *own = true;
    });
}

void Node::on_get_resp(Now now, NodeId from, GetResp& resp) {
    auto it = gets_.find(resp.req);
    if (it == gets_.end()) return;
    GetCoordinator& get = it->second;
    const GetCoordinator::Answer answer = get.on_answer(from, resp.code, resp.state, mode_of(get.key()));
    if (answer == GetCoordinator::Answer::stale) return;
    // This node's read of its own copy may have seen staged writes: the reply waits for them.
    if (answer == GetCoordinator::Answer::counted && from == config_.id) get.rest_on(store_.horizon());
    if (get.ready()) reply_get(now, get);
    if (!get.answered()) ask(resp.req, get, /*everyone=*/false);  // in place of one that failed
    if (get.all_in()) finish_get(resp.req, get);
}

void Node::reply_get(Now now, GetCoordinator& get) {
    std::optional<RequestOptions> then_delete = get.answer();
    ++replied_gets_;
    SHOAL_ASSERT(replied_gets_ <= gets_.size());
    if (then_delete) return delete_what_was_read(now, get, *then_delete);
    out_.replies.push_back(OutReply{get.reply(now.wall), get.needs()});
}

void Node::delete_what_was_read(Now now, GetCoordinator& get, RequestOptions opts) {
    SHOAL_ASSERT(get.answered());  // the merge of r good copies is final
    if (live_count(get.merged(), now.wall) == 0) {
        ClientReply reply;
        reply.token = get.token();
        reply.code = errc::not_found;
        reply.replies = get.replies().got;
        reply.required = get.replies().need;
        out_.replies.push_back(OutReply{std::move(reply), get.needs()});
        return;
    }
    ClientRequest del;
    del.op = ClientOp::del;
    del.key = get.key();
    del.context = get.merged().context;
    opts.timeout_ms = std::max<std::int64_t>(1, (get.deadline() - now.mono).ms());  // what the read left
    start_put(now, get.token(), del, opts);
}

void Node::writes_lost(std::uint64_t seq) {
    for (auto it = puts_.begin(); it != puts_.end();) {
        if (it->second.needs() < seq) {
            ++it;
            continue;
        }
        fail(it->second.token(), errc::store_error, 0, it->second.acks().need);
        it = puts_.erase(it);
    }
    std::erase_if(own_copies_, [seq](const auto& copy) { return copy.first >= seq; });
    for (auto it = gets_.begin(); it != gets_.end();) {
        GetCoordinator& get = it->second;
        if (get.needs() < seq) {
            ++it;
            continue;
        }
        if (get.answered()) {  // its reply waited with the lost batch: failed there
            SHOAL_ASSERT(replied_gets_ > 0);
            --replied_gets_;
        } else {
            fail(get.token(), errc::store_error, 0, get.replies().need);
        }
        it = gets_.erase(it);
    }
    for (auto it = lists_.begin(); it != lists_.end();) {
        if (it->second.needs() < seq) {
            ++it;
            continue;
        }
        fail(it->second.token(), errc::store_error, 0, it->second.need());
        it = lists_.erase(it);
    }
    reload_from_store();
    // Dots this actor issued in the lost batches may live on elsewhere (a leader's
    // replicate requests leave before its own batch is durable), while this node has
    // lost them. Issuing further dots under the same actor would make its vectors claim
    // them, and merges would drop those copies: take a new actor first.
    must_retire_ = !retire_actor();
}

void Node::finish_get(RequestId req, GetCoordinator& get) {
    if (!get.answered()) {
        // Fewer than r good replies in time (or every target answered and too few were good).
        fail(get.token(), errc::quorum_not_met, get.replies().got, get.replies().need);
    }
    // A merge of copies too large to store anywhere is not sent (replicas would refuse it).
    if (config_.read_repair && state_bytes(get.merged()) <= max_carried_state_bytes(config_.limits)) {
        get.for_each_stale_copy([&](const Target& t) {
            ++stats_.read_repairs_sent;
            if (events_) events_->read_repair(get.key(), t.node);
            ReplicateReq repair{0, get.key(), get.merged(), t.hint_for};
            if (t.node == config_.id) return replicate_here(std::move(repair));
            send(t.node, std::move(repair));
        });
    }
    if (get.answered()) {
        SHOAL_ASSERT(replied_gets_ > 0);
        --replied_gets_;
    }
    gets_.erase(req);
}

void Node::expire(Now now, RequestId req) {
    if (auto d = deltas_.find(req); d != deltas_.end() && now.mono >= d->second.deadline) erase_delta(d);
    if (auto it = puts_.find(req); it != puts_.end()) return expire_put(now, req, it->second);
    if (auto it = gets_.find(req); it != gets_.end()) return expire_get(now, req, it->second);
    if (auto it = lists_.find(req); it != lists_.end()) return expire_list(now, req, it->second);
}

void Node::expire_put(Now now, RequestId req, PutCoordinator& put) {
    switch (put.on_time(now.mono)) {
        case PutCoordinator::Due::deadline:
            for (const auto& t : put.targets()) {
                if (t.open()) missed(now.mono, t.node);
            }
            fail(put.token(), errc::quorum_not_met, put.acks().got, put.acks().need);
            puts_.erase(req);
            return;
        case PutCoordinator::Due::leader_silent: {
            // The leader is silent: suspect it and let the next target lead.
            const NodeId silent = put.leader_target().node;
            missed(now.mono, silent);
            ++stats_.leader_failovers;
            const std::optional<std::size_t> next = put.next_leader();
            if (!next) break;
            if (events_) events_->leader_failover(put.key(), silent, put.targets()[*next].node);
            queue_deadline(req, put);
            send_to_leader(now, req, put, *next);  // last: `put` may be gone after it
            return;
        }
        case PutCoordinator::Due::nothing: break;
    }
    queue_deadline(req, put);
}

void Node::expire_get(Now now, RequestId req, GetCoordinator& get) {
    if (get.expired(now.mono)) {
        for (const auto& t : get.targets()) {
            if (t.asked && t.open()) missed(now.mono, t.node);
        }
        finish_get(req, get);
        return;
    }
    // Slow to answer (paused, partitioned, not yet known to be down): ask the rest.
    if (!get.answered() && ask(req, get, /*everyone=*/true) > 0) ++stats_.read_retries;
    queue_deadline(req, get);
}

namespace {
// One lambda per alternative: std::visit over it does not compile while a message type
// has no handler (the `if constexpr` chain it replaces dropped unknown types silently).
template <class... F>
struct Handlers : F... {
    using F::operator()...;
};
template <class... F>
Handlers(F...) -> Handlers<F...>;
}  // namespace

void Node::dispatch(Now now, NodeId from, PeerMessage& message) {
    std::visit(Handlers{
                   [&](PutLeaderReq& m) { send(from, lead(now, from, m)); },
                   [&](PutLeaderResp& m) { on_put_leader_resp(now, from, m); },
                   [&](ReplicateReq& m) {
                       ReplicateResp resp = replicate(m);
                       if (m.req != 0) send(from, resp);  // read repair and forwarding want none
                   },
                   [&](ReplicateDelta& m) { send(from, replicate_delta(m)); },
                   [&](ReplicateResp& m) { on_replicate_resp(now, from, m); },
                   [&](GetReq& m) { send(from, read_here(m.req, m.key)); },
                   [&](GetResp& m) { on_get_resp(now, from, m); },
                   [&](Ping& m) { send(from, Pong{m.seq}); },
                   [&](Pong&) {},  // its arrival is what counts (step marks the peer heard)
                   [&](HintBatch& m) { on_hint_batch(from, m); },
                   [&](HintAck& m) { on_hint_ack(now, from, m); },
                   [&](AeTree& m) { on_ae_tree(from, m); },
                   [&](AeTreeResp& m) { on_ae_tree_resp(now, from, m); },
                   [&](AeKeys& m) { on_ae_keys(from, m); },
                   [&](AeKeysResp& m) { on_ae_keys_resp(now, from, m); },
                   [&](AeStates& m) { on_ae_states(from, m); },
                   [&](AeDone& m) { on_ae_done(now, from, m); },
                   [&](HandoffBatch& m) { on_handoff_batch(from, m); },
                   [&](HandoffAck& m) { on_handoff_ack(now, from, m); },
                   [&](ListReq& m) { send(from, list_here(now, m)); },
                   [&](ListResp& m) { on_list_resp(now, from, m); },
               },
               message);
}

void Node::missed(Instant now, NodeId peer) {
    if (peer != config_.id) detector_.missed(peer, now);
}

void Node::tick(Now now) {
    last_now_ = now;
    begin_step();
    while (!deadlines_.empty() && deadlines_.top().at <= now.mono) {
        const RequestId req = deadlines_.top().req;
        deadlines_.pop();
        expire(now, req);
    }
    for (NodeId peer : detector_.due_probes(now.mono)) out_.messages.push_back(Envelope{peer, Ping{next_ping_++}});
    deliver_hints(now.mono);
    start_exchange(now.mono);
    collect_gc(now);
    scrub(now.mono);
    stream_handoffs(now.mono);
    if (recheck_kept_ && plan_installed_ && !alone()) {
        recheck_kept_ = false;
        handover_ = HandOverScan{};  // from the first partition again
    }
    if (handover_) hand_over_unkept();
    end_step();
}

std::error_code bump_incarnation(store::Store& store, std::uint32_t& incarnation, std::uint32_t floor) {
    const std::string key = store::meta_key("incarnation");
    std::optional<std::string> bytes;
    if (auto ec = store.get(key, bytes)) return ec;
    std::uint32_t current = 0;
    if (bytes) {
        if (bytes->size() != 4) return errc::corrupt;
        current = static_cast<std::uint32_t>(get_be(*bytes, 4));
    }
    incarnation = std::max(current + 1, floor);
    std::string out;
    put_be(out, incarnation, 4);
    store::WriteBatch batch;
    batch.put(key, out);
    return store.write(batch, true);
}

}  // namespace shoal::replica
