#include "replica/node.h"

#include <algorithm>

#include "core/assert.h"
#include "core/byte_codec.h"
#include "core/hash.h"
#include "replica/codec.h"
#include "store/keys.h"

namespace shoal::replica {

namespace {
// Where the numbers a life gives its hints, batches and exchanges start: above all of
// an earlier life's.
std::uint64_t life_base(std::uint32_t incarnation) { return std::uint64_t{incarnation} << 32; }

ReaperBounds reaper_bounds(const RepairConfig& rc) {
    return ReaperBounds{rc.gc_interval,   rc.tombstone_grace, rc.gc_batch, rc.max_gc_candidates,
                        rc.reaped_memory, rc.max_recently_reaped};
}
}  // namespace

Node::Node(NodeConfig config, store::BufferedStore& store, std::shared_ptr<const ring::Ring> ring, NodeEvents* events)
    : config_(std::move(config)),
      store_(store),
      ring_(std::move(ring)),
      events_(events),
      actor_(make_actor(config_.id, config_.incarnation)),
      hints_(config_.repair.max_hints, config_.repair.max_hint_bytes, life_base(config_.incarnation)),
      exchanges_(life_base(config_.incarnation), hash_combine(config_.id.value, config_.incarnation)),
      reaper_(reaper_bounds(config_.repair)) {
    SHOAL_ASSERT(config_.id.valid());
    SHOAL_ASSERT(ring_ != nullptr);
    SHOAL_ASSERT(config_.r >= 1 && config_.w >= 1 && config_.r <= config_.n && config_.w <= config_.n);
    // Batch and exchange ids of an earlier life must not match this life's.
    next_handoff_seq_ = life_base(config_.incarnation) + 1;
    rebuild_from_store();
}

void Node::set_ring(std::shared_ptr<const ring::Ring> ring) {
    SHOAL_ASSERT(ring != nullptr);
    ring_ = std::move(ring);
    recheck_kept_ = true;  // partitions this node stops serving are handed over at the next tick
}

bool Node::believes_up(NodeId peer) const {
    if (peer == config_.id) return true;
    auto it = health_.find(peer);
    return it == health_.end() || !it->second.down;
}

std::uint64_t Outbox::needs() const {
    std::uint64_t n = 0;
    for (const auto& m : messages) n = std::max(n, m.needs);
    for (const auto& r : replies) n = std::max(n, r.needs);
    return n;
}

void Node::take_output(Outbox& out) {
    SHOAL_ASSERT(!step_out_.active);
    settle(std::max(turn_needs_, store_.take_horizon()));
    out.clear();
    std::swap(out, out_);
    settled_messages_ = settled_replies_ = 0;
    turn_needs_ = 0;
    store_.take_batch(out.writes);
}

// ---- client requests ---------------------------------------------------------------

void Node::submit(Now now, ClientToken token, ClientRequest request) {
    last_now_ = now;
    begin_step();
    submit_one(now, token, request);
    end_step();
    drain_local(now);
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

void Node::start_put(Now now, ClientToken token, ClientRequest& request, const RequestOptions& opts) {
    const RequestId req = next_req_++;
    PutFsm fsm;
    fsm.token = token;
    fsm.key = std::move(request.key);
    fsm.op.tombstone = request.op == ClientOp::del;
    fsm.op.value = std::move(request.value);
    if (!fsm.op.tombstone) fsm.op.content_type = std::move(request.content_type);
    if (!fsm.op.tombstone) fsm.op.update = std::move(request.update);
    fsm.op.context = std::move(request.context);
    fsm.op.written = now.wall;
    if (opts.ttl_s > 0) fsm.op.expires = now.wall + Duration::seconds(opts.ttl_s);
    if (opts.expires_at.us != 0) fsm.op.expires = opts.expires_at;
    fsm.acks = Quorum{opts.w, opts.pw};
    fsm.return_body = opts.return_body;
    fsm.condition = opts.condition;
    fsm.deadline = now.mono + Duration::millis(opts.timeout_ms);
    pick_targets(fsm.key, opts.n, fsm.targets);
    if (fsm.targets.size() < fsm.acks.need) {
        fail_unavailable(token, fsm.targets, opts.n, fsm.acks.need);
        return;
    }
    // The leader issues the dot: this node when it is a primary target, else the
    // first primary (targets list primaries first), else this node if a fallback
    // target, else the first. Primaries lead whenever one is up, so fallbacks seldom
    // issue dots (and a fallback that did keeps its copy after handing it over).
    std::size_t leader = 0;
    for (std::size_t i = 0; i < fsm.targets.size(); ++i) {
        const Target& t = fsm.targets[i];
        if (t.node == config_.id && (t.primary || !fsm.targets[0].primary)) leader = i;
    }
    // Conditional writes meet at one leader, the first primary, which checks them in
    // turn: of two concurrent creates one wins.
    if (fsm.condition != WriteCondition::none) leader = 0;
    fsm.phase = PutFsm::Leading{leader, {}};
    if (events_) note_routed(fsm.key, request.op, fsm.targets, fsm.leader_target().node);
    auto [it, inserted] = puts_.emplace(req, std::move(fsm));
    SHOAL_ASSERT(inserted);
    send_to_leader(now, req, it->second);  // queues the leader's `until`, before the deadline
}

bool Node::pass_leadership(Now now, RequestId req, PutFsm& fsm) {
    for (std::size_t i = 0; i < fsm.targets.size(); ++i) {
        const Target& t = fsm.targets[i];
        if (t.failed || t.answered) continue;
        fsm.phase = PutFsm::Leading{i, {}};
        send_to_leader(now, req, fsm);
        return true;
    }
    return false;
}

void Node::send_to_leader(Now now, RequestId req, PutFsm& fsm) {
    const Target& leader = fsm.leader_target();
    // Leave half of what remains for replication after the leader answers. The leader
    // must apply the write within the first three quarters of its time: the last
    // quarter is the margin for its answer (and the clocks' skew) to arrive before the
    // next leader is asked, so that two leaders never both apply one write.
    const Duration leader_time = (fsm.deadline - now.mono) / 2;
    PutFsm::Leading* leading = fsm.leading();
    SHOAL_ASSERT(leading != nullptr);
    leading->until = now.mono + leader_time;
    deadlines_.push({leading->until, req});
    PutLeaderReq msg{req,
                     fsm.key,
                     fsm.op,
                     leader.hint_for,
                     max_siblings_of(fsm.key),
                     now.wall + leader_time * 3 / 4,  // the leader's wall clock judges it
                     fsm.condition};
    send(leader.node, std::move(msg));
}

void Node::start_get(Now now, ClientToken token, ClientRequest& request, const RequestOptions& opts,
                     bool then_delete) {
    const RequestId req = next_req_++;
    GetFsm fsm;
    fsm.token = token;
    if (then_delete) fsm.then_delete = opts;
    fsm.key = std::move(request.key);
    fsm.replies = Quorum{opts.r, opts.pr};
    fsm.deadline = now.mono + Duration::millis(opts.timeout_ms);
    pick_targets(fsm.key, opts.n, fsm.targets);
    if (fsm.targets.size() < fsm.replies.need) {
        fail_unavailable(token, fsm.targets, opts.n, fsm.replies.need);
        return;
    }
    if (events_) note_routed(fsm.key, request.op, fsm.targets, NodeId{});
    fsm.digests.assign(fsm.targets.size(), 0);
    auto [it, inserted] = gets_.emplace(req, std::move(fsm));
    SHOAL_ASSERT(inserted);
    GetFsm& g = it->second;
    // The retry comes first, and the deadline joins the queue when it passes (expire);
    // without a retry before it, the deadline goes in now.
    const bool retry = config_.read_fanout != ReadFanout::all && now.mono + config_.read_retry < g.deadline;
    deadlines_.push({retry ? now.mono + config_.read_retry : g.deadline, req});
    g.deadline_queued = !retry;
    if (config_.read_fanout == ReadFanout::all) {
        ask(req, g, /*everyone=*/true);
        return;
    }
    // This node's own copy costs no message: it is asked first when it holds one.
    for (auto& t : g.targets) {
        if (t.node == config_.id) {
            t.asked = true;
            send(t.node, GetReq{req, g.key});
        }
    }
    ask(req, g, /*everyone=*/false);
}

std::size_t Node::ask(RequestId req, GetFsm& fsm, bool everyone) {
    // The replies already in, plus one from each target asked and still silent.
    Quorum coming = fsm.replies;
    for (const auto& t : fsm.targets) {
        if (t.asked && !t.answered && !t.failed) coming.count(t.primary);
    }
    std::size_t asked = 0;
    for (auto& t : fsm.targets) {
        if (!everyone && coming.met()) break;
        if (t.asked || (!everyone && coming.wants_primary() && !t.primary)) continue;
        t.asked = true;
        coming.count(t.primary);
        ++asked;
        send(t.node, GetReq{req, fsm.key});
    }
    return asked;
}

namespace {
template <typename Fsm>
Node::Target* find_target(Fsm& fsm, NodeId from) {
    for (auto& t : fsm.targets) {
        if (t.node == from && !t.answered && !t.failed) return &t;
    }
    return nullptr;
}
}  // namespace

void Node::on_put_leader_resp(Now now, NodeId from, PutLeaderResp& resp) {
    auto it = puts_.find(resp.req);
    if (it == puts_.end()) return;  // finished or expired already
    PutFsm& fsm = it->second;
    if (fsm.leading() == nullptr) return;  // a leader answered already
    Target& leader = fsm.leader_target();
    if (leader.node != from || leader.answered || leader.failed) return;
    if (resp.code == errc::overloaded || resp.code == errc::store_full || resp.code == errc::store_error ||
        resp.code == errc::corrupt) {
        // A fallback whose hint store is full, a leader whose disk fails or whose copy
        // of the key is damaged: the next target leads instead (the write needs W
        // copies, not this one; the new leader's replicate overwrites the damaged copy).
        leader.failed = true;
        leader.corrupt = resp.code == errc::corrupt;
        if (pass_leadership(now, resp.req, fsm)) return;
        fail(fsm.token, resp.code == errc::overloaded ? errc::unavailable : resp.code, 0, fsm.acks.need);
        puts_.erase(it);
        return;
    }
    if (resp.code != errc::ok) {
        // The leader refused (too many siblings, store error): that is the answer.
        fail(fsm.token, resp.code, 0, fsm.acks.need);
        puts_.erase(it);
        return;
    }
    leader.answered = true;
    count_copy(resp.req, fsm, leader, from);
    fsm.phase = PutFsm::Replicating{fsm.leading()->leader, resp.dot, std::move(resp.state)};
    const SiblingSet& state = fsm.replicating().state;
    for (const auto& t : fsm.targets) {
        if (&t == &leader || (t.failed && !t.corrupt)) continue;  // a damaged copy is overwritten
        send(t.node, ReplicateReq{resp.req, fsm.key, state, t.hint_for});
    }
    forward_write(fsm.key, state, fsm.targets);
    maybe_finish_put(now, resp.req, fsm);
}

void Node::on_replicate_resp(Now now, NodeId from, const ReplicateResp& resp) {
    auto it = puts_.find(resp.req);
    if (it == puts_.end()) return;
    PutFsm& fsm = it->second;
    Target* t = find_target(fsm, from);
    if (t == nullptr) return;
    if (resp.code != errc::ok) {
        t->failed = true;
        return;
    }
    t->answered = true;
    count_copy(resp.req, fsm, *t, from);
    maybe_finish_put(now, resp.req, fsm);
}

void Node::count_copy(RequestId req, PutFsm& fsm, Target& t, NodeId from) {
    if (from != config_.id || local_needs_ <= store_.done_seq()) {
        fsm.acks.count(t.primary);
        return;
    }
    SHOAL_ASSERT(fsm.needs == 0);  // one own copy per put
    SHOAL_ASSERT(own_copies_.empty() || own_copies_.back().first <= local_needs_);  // staged in order
    fsm.needs = local_needs_;
    fsm.own = static_cast<std::size_t>(&t - fsm.targets.data());
    own_copies_.emplace_back(local_needs_, req);
}

void Node::writes_durable(std::uint64_t seq) {
    begin_step();
    while (!own_copies_.empty() && own_copies_.front().first <= seq) {
        const RequestId req = own_copies_.front().second;
        own_copies_.pop_front();
        auto it = puts_.find(req);
        if (it == puts_.end() || it->second.needs == 0) continue;  // finished, or lost with its batch
        PutFsm& fsm = it->second;
        SHOAL_ASSERT(fsm.needs <= seq && fsm.own < fsm.targets.size());
        fsm.needs = 0;
        fsm.acks.count(fsm.targets[fsm.own].primary);
        maybe_finish_put(last_now_, req, fsm);
    }
    end_step();
    drain_local(last_now_);
}

void Node::maybe_finish_put(Now now, RequestId req, PutFsm& fsm) {
    if (!fsm.acks.met()) return;
    SHOAL_ASSERT(fsm.acks.got <= fsm.targets.size());  // one acknowledgement per target
    ClientReply reply;
    reply.token = fsm.token;
    reply.code = errc::ok;
    reply.replies = fsm.acks.got;
    reply.required = fsm.acks.need;
    const PutFsm::Replicating& done = fsm.replicating();  // w counts the leader's answer
    reply.dot = done.dot;
    // The context to write with next. Given only when the write left one live value
    // (or the siblings go back with it): a context is a version vector, and one that
    // covers this write's dot could cover a concurrent sibling of the same leader the
    // writer never saw -- writing with it would drop that sibling.
    const bool body = fsm.return_body;
    if (body || live_count(done.state, now.wall) == 1) reply.context = done.state.context;
    if (body) {
        for (const auto& s : done.state.siblings) {
            if (!s.tombstone && !s.expired(now.wall)) reply.siblings.push_back(s);
        }
    }
    out_.replies.push_back(OutReply{std::move(reply), 0});  // its copies are durable
    puts_.erase(req);
}

void Node::on_get_resp(Now now, NodeId from, GetResp& resp) {
    auto it = gets_.find(resp.req);
    if (it == gets_.end()) return;
    GetFsm& fsm = it->second;
    Target* t = find_target(fsm, from);
    if (t == nullptr) return;
    if (resp.code != errc::ok) {
        t->failed = true;
        t->corrupt = resp.code == errc::corrupt;
    } else {
        t->answered = true;
        fsm.replies.count(t->primary);
        note_local(from, fsm.needs);
        SHOAL_ASSERT(fsm.digests.size() == fsm.targets.size());
        fsm.digests[static_cast<std::size_t>(t - fsm.targets.data())] = digest(resp.state);
        fsm.merged = merge(fsm.merged, resp.state, mode_of(fsm.key));
    }
    if (!fsm.replied && fsm.replies.met()) reply_get(now, fsm);
    if (!fsm.replied) ask(resp.req, fsm, /*everyone=*/false);  // in place of one that failed
    const bool all_in = std::all_of(fsm.targets.begin(), fsm.targets.end(),
                                    [](const Target& x) { return !x.asked || x.answered || x.failed; });
    if (all_in) finish_get(resp.req, fsm);
}

void Node::reply_get(Now now, GetFsm& fsm) {
    SHOAL_ASSERT(!fsm.replied);  // a client has one reply
    fsm.replied = true;
    ++replied_gets_;
    if (fsm.then_delete) return delete_what_was_read(now, fsm);
    ClientReply reply;
    reply.token = fsm.token;
    reply.replies = fsm.replies.got;
    reply.required = fsm.replies.need;
    reply.context = fsm.merged.context;
    for (const auto& s : fsm.merged.siblings) {
        if (!s.tombstone && !s.expired(now.wall)) reply.siblings.push_back(s);
    }
    reply.code = reply.siblings.empty() ? errc::not_found : errc::ok;
    out_.replies.push_back(OutReply{std::move(reply), fsm.needs});
}

void Node::delete_what_was_read(Now now, GetFsm& fsm) {
    if (live_count(fsm.merged, now.wall) == 0) {
        ClientReply reply;
        reply.token = fsm.token;
        reply.code = errc::not_found;
        reply.replies = fsm.replies.got;
        reply.required = fsm.replies.need;
        out_.replies.push_back(OutReply{std::move(reply), fsm.needs});
        return;
    }
    ClientRequest del;
    del.op = ClientOp::del;
    del.key = fsm.key;
    del.context = fsm.merged.context;
    RequestOptions opts = *fsm.then_delete;
    opts.timeout_ms = std::max<std::int64_t>(1, (fsm.deadline - now.mono).ms());  // what the read left
    start_put(now, fsm.token, del, opts);
}

void Node::writes_lost(std::uint64_t seq) {
    for (auto it = puts_.begin(); it != puts_.end();) {
        if (it->second.needs < seq) {
            ++it;
            continue;
        }
        fail(it->second.token, errc::store_error, 0, it->second.acks.need);
        it = puts_.erase(it);
    }
    std::erase_if(own_copies_, [seq](const auto& copy) { return copy.first >= seq; });
    for (auto it = gets_.begin(); it != gets_.end();) {
        GetFsm& fsm = it->second;
        if (fsm.needs < seq) {
            ++it;
            continue;
        }
        if (fsm.replied) {  // its reply waited with the lost batch: failed there
            SHOAL_ASSERT(replied_gets_ > 0);
            --replied_gets_;
        } else {
            fail(fsm.token, errc::store_error, 0, fsm.replies.need);
        }
        it = gets_.erase(it);
    }
    reload_from_store();
    // Dots this actor issued in the lost batches may live on elsewhere (a leader's
    // replicate requests leave before its own batch is durable), while this node has
    // lost them. Issuing further dots under the same actor would make its vectors claim
    // them, and merges would drop those copies: take a new actor first.
    must_retire_ = !retire_actor();
}

void Node::finish_get(RequestId req, GetFsm& fsm) {
    if (!fsm.replied) {
        // Fewer than r good replies in time (or every target answered and too few were good).
        fail(fsm.token, errc::quorum_not_met, fsm.replies.got, fsm.replies.need);
    }
    // A merge of copies too large to store anywhere is not sent (replicas would refuse it).
    if (config_.read_repair && fsm.replies.got > 0 &&
        state_bytes(fsm.merged) <= max_carried_state_bytes(config_.limits)) {
        const std::uint64_t want = digest(fsm.merged);
        for (std::size_t i = 0; i < fsm.targets.size(); ++i) {
            const Target& t = fsm.targets[i];
            // A damaged copy counts for nothing in the answer, but gets the merge.
            if (!t.corrupt && (!t.answered || fsm.digests[i] == want)) continue;
            ++stats_.read_repairs_sent;
            if (events_) events_->read_repair(fsm.key, t.node);
            send(t.node, ReplicateReq{0, fsm.key, fsm.merged, t.hint_for});
        }
    }
    if (fsm.replied) {
        SHOAL_ASSERT(replied_gets_ > 0);
        --replied_gets_;
    }
    gets_.erase(req);
}

void Node::expire(Now now, RequestId req) {
    if (auto it = puts_.find(req); it != puts_.end()) {
        PutFsm& fsm = it->second;
        Target& leader = fsm.leader_target();
        if (now.mono >= fsm.deadline) {
            for (const auto& t : fsm.targets) {
                if (!t.answered && !t.failed) missed(now.mono, t.node);
            }
            fail(fsm.token, errc::quorum_not_met, fsm.acks.got, fsm.acks.need);
            puts_.erase(it);
            return;
        }
        const PutFsm::Leading* leading = fsm.leading();
        if (leading != nullptr && now.mono >= leading->until && !leader.answered && !leader.failed) {
            // The leader is silent: suspect it and let the next target lead.
            leader.failed = true;
            missed(now.mono, leader.node);
            ++stats_.leader_failovers;
            const NodeId silent = leader.node;
            if (pass_leadership(now, req, fsm) && events_)
                events_->leader_failover(fsm.key, silent, fsm.leader_target().node);
        }
        queue_deadline(req, fsm);
        return;
    }
    auto it = gets_.find(req);
    if (it == gets_.end()) return;
    GetFsm& fsm = it->second;
    if (now.mono >= fsm.deadline) {
        for (const auto& t : fsm.targets) {
            if (t.asked && !t.answered && !t.failed) missed(now.mono, t.node);
        }
        finish_get(req, fsm);
    } else {
        // Slow to answer (paused, partitioned, not yet known to be down): ask the rest.
        if (!fsm.replied && ask(req, fsm, /*everyone=*/true) > 0) ++stats_.read_retries;
        queue_deadline(req, fsm);
    }
}

// ---- plumbing ------------------------------------------------------------------------

void Node::send(NodeId to, PeerMessage message) {
    if (to == config_.id) {
        // Made within a step, it gets the step's needs as the step ends (end_step).
        const std::uint64_t needs = step_out_.active ? 0 : std::max(turn_needs_, store_.horizon());
        local_.push_back(LocalMessage{std::move(message), needs});
        return;
    }
    out_.messages.push_back(Envelope{to, std::move(message)});
}

void Node::step(Now now, NodeId from, PeerMessage message) {
    last_now_ = now;
    begin_step();
    if (is_answer(message)) heard_from(from);  // liveness for routing: answers only
    dispatch(now, from, message);
    end_step();
    drain_local(now);
}

void Node::drain_local(Now now) {
    while (!local_.empty()) {
        LocalMessage m = std::move(local_.front());
        local_.pop_front();
        // What it carries rests on what its sender's step did: so does all its answer.
        begin_step(m.needs);
        local_needs_ = m.needs;
        dispatch(now, config_.id, m.msg);
        local_needs_ = 0;
        end_step();
    }
}

void Node::begin_step(std::uint64_t floor) {
    SHOAL_ASSERT(!step_out_.active);  // steps do not nest
    // Output made since the last step, outside any, rests on all the turn did so far.
    settle(std::max(turn_needs_, store_.horizon()));
    turn_needs_ = std::max(turn_needs_, store_.take_horizon());
    step_out_ = Step{true, out_.messages.size(), out_.replies.size(), local_.size(), floor};
}

void Node::end_step() {
    SHOAL_ASSERT(step_out_.active);
    const std::uint64_t seq = std::max(store_.horizon(), step_out_.floor);
    SHOAL_ASSERT(settled_messages_ == step_out_.messages && settled_replies_ == step_out_.replies);
    settle(seq);
    for (std::size_t i = step_out_.local; i < local_.size(); ++i) local_[i].needs = std::max(local_[i].needs, seq);
    turn_needs_ = std::max(turn_needs_, seq);
    step_out_.active = false;
}

void Node::rest_on(std::uint64_t seq) {
    std::uint64_t& floor = step_out_.active ? step_out_.floor : turn_needs_;
    floor = std::max(floor, seq);
}

void Node::settle(std::uint64_t seq) {
    for (std::size_t i = settled_messages_; i < out_.messages.size(); ++i) {
        out_.messages[i].needs = std::max(out_.messages[i].needs, seq);
    }
    for (std::size_t i = settled_replies_; i < out_.replies.size(); ++i) {
        out_.replies[i].needs = std::max(out_.replies[i].needs, seq);
    }
    settled_messages_ = out_.messages.size();
    settled_replies_ = out_.replies.size();
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
                   [&](PutLeaderReq& m) { on_put_leader_req(now, from, m); },
                   [&](PutLeaderResp& m) { on_put_leader_resp(now, from, m); },
                   [&](ReplicateReq& m) { on_replicate_req(from, m); },
                   [&](ReplicateResp& m) { on_replicate_resp(now, from, m); },
                   [&](GetReq& m) { on_get_req(from, m); },
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
               },
               message);
}

void Node::heard_from(NodeId peer) {
    if (peer == config_.id) return;
    auto it = health_.find(peer);
    if (it != health_.end()) it->second.down = false;
}

void Node::missed(Instant now, NodeId peer) {
    if (peer == config_.id) return;
    PeerHealth& h = health_[peer];
    if (!h.down) h.next_ping = now;
    h.down = true;
}

void Node::tick(Now now) {
    last_now_ = now;
    begin_step();
    while (!deadlines_.empty() && deadlines_.top().at <= now.mono) {
        const RequestId req = deadlines_.top().req;
        deadlines_.pop();
        expire(now, req);
    }
    for (auto& [peer, h] : health_) {
        if (!h.down || now.mono < h.next_ping) continue;
        h.next_ping = now.mono + config_.ping_interval;
        out_.messages.push_back(Envelope{peer, Ping{next_ping_++}});
    }
    deliver_hints(now.mono);
    start_exchange(now.mono);
    collect_gc(now);
    scrub(now.mono);
    stream_handoffs(now.mono);
    if (recheck_kept_ && plan_installed_ && !alone()) {
        recheck_kept_ = false;
        handover_ = HandOverScan{true, 0, {}};  // from the first partition again
    }
    if (handover_.active) hand_over_unkept();
    end_step();
    drain_local(now);
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
