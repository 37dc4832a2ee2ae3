// The put path's Node side: it starts a PutCoordinator (put_coordinator.h) for each
// write and carries out what it decides -- the request to the leader, the leader's
// state to the other targets, the reply once W copies are durable (its own counting
// only once its batch is: writes_durable). When this node is the leader or a replica
// it calls its own handler (lead, replicate) instead of sending itself a message; such
// a call comes last in what calls it, since its answer may finish the put. A data-type
// write goes to the other primaries as a patch of the value it replaced (ReplicateDelta,
// made by the leader) when there is a small one: each patches its own copy, and one
// whose copy was not the leader's asks for the whole state (need_state), which deltas_
// keeps until every such replica has answered or the put's deadline passes.
#include <algorithm>

#include "core/hash.h"
#include "core/limits.h"
#include "replica/node.h"

namespace shoal::replica {

void Node::start_put(Now now, ClientToken token, ClientRequest& request, const RequestOptions& opts) {
    const RequestId req = next_req_++;  // taken even by a put refused at once
    PutCoordinator::Spec spec;
    spec.token = token;
    spec.key = std::move(request.key);
    spec.op.tombstone = request.op == ClientOp::del;
    spec.op.value = std::move(request.value);
    if (!spec.op.tombstone) spec.op.content_type = std::move(request.content_type);
    if (!spec.op.tombstone) spec.op.update = std::move(request.update);
    spec.op.context = std::move(request.context);
    spec.op.written = now.wall;
    if (opts.ttl_s > 0) spec.op.expires = now.wall + Duration::seconds(opts.ttl_s);
    if (opts.expires_at.us != 0) spec.op.expires = opts.expires_at;
    spec.acks = Quorum{opts.w, opts.pw};
    spec.return_body = opts.return_body;
    spec.condition = opts.condition;
    spec.deadline = now.mono + Duration::millis(opts.timeout_ms);
    pick_targets(spec.key, opts.n, spec.targets);
    if (spec.targets.size() < spec.acks.need) {
        fail_unavailable(token, spec.targets, opts.n, spec.acks.need);
        return;
    }
    auto [it, inserted] = puts_.try_emplace(req, std::move(spec), config_.id);
    SHOAL_ASSERT(inserted);
    PutCoordinator& put = it->second;
    if (events_) note_routed(put.key(), request.op, put.targets(), put.leader_target().node);
    send_to_leader(now, req, put, put.leading()->leader);  // queues the leader's `until`, before the deadline
}

bool Node::pass_leadership(Now now, RequestId req, PutCoordinator& put) {
    const std::optional<std::size_t> next = put.next_leader();
    if (!next) return false;
    send_to_leader(now, req, put, *next);  // last: `put` may be gone after it
    return true;
}

void Node::send_to_leader(Now now, RequestId req, PutCoordinator& put, std::size_t leader) {
    // Leave half of what remains for replication after the leader answers. The leader
    // must apply the write within the first three quarters of its time: the last
    // quarter is the margin for its answer (and the clocks' skew) to arrive before the
    // next leader is asked, so that two leaders never both apply one write.
    const Duration leader_time = (put.deadline() - now.mono) / 2;
    put.lead(leader, now.mono + leader_time);
    deadlines_.push({put.leading()->until, req});
    const Target& t = put.leader_target();
    PutLeaderReq msg{req,
                     put.key(),
                     put.op(),
                     t.hint_for,
                     max_siblings_of(put.key()),
                     now.wall + leader_time * 3 / 4,  // the leader's wall clock judges it
                     put.condition()};
    if (t.node != config_.id) return send(t.node, std::move(msg));
    PutLeaderResp resp = lead(now, config_.id, msg);
    on_put_leader_resp(now, config_.id, resp);
}

void Node::on_put_leader_resp(Now now, NodeId from, PutLeaderResp& resp) {
    auto it = puts_.find(resp.req);
    if (it == puts_.end()) return;  // finished or expired already
    PutCoordinator& put = it->second;
    const PutCoordinator::LeaderAnswer answer = put.on_leader_answer(from, resp.code, resp.dot, std::move(resp.state));
    switch (answer.kind) {
        case PutCoordinator::LeaderAnswer::stale: return;
        case PutCoordinator::LeaderAnswer::pass_on:
            if (pass_leadership(now, resp.req, put)) return;
            [[fallthrough]];
        case PutCoordinator::LeaderAnswer::refused:
            fail(put.token(), answer.code, 0, put.acks().need);
            puts_.erase(it);
            return;
        case PutCoordinator::LeaderAnswer::replicate: break;
    }
    count_copy(resp.req, put, put.leader_target(), from);
    const SiblingSet& state = put.replicating().state;
    std::optional<ReplicateReq> own;  // this node is a replica (another one led)
    const std::optional<ReplicateDelta> delta = delta_of(resp.req, put, std::move(resp.patch));
    std::vector<NodeId> sent_delta;
    put.for_each_replica([&](const Target& t) {
        if (t.node == config_.id) {
            own = ReplicateReq{resp.req, put.key(), state, t.hint_for};
        } else if (delta && !t.hint_for.valid()) {
            send(t.node, *delta);
            sent_delta.push_back(t.node);
        } else {
            send(t.node, ReplicateReq{resp.req, put.key(), state, t.hint_for});
        }
    });
    if (!sent_delta.empty()) {
        const std::size_t value_bytes = state.siblings.front().value.size();
        stats_.deltas_sent += sent_delta.size();
        stats_.delta_patch_bytes += sent_delta.size() * delta->patch.size();
        stats_.delta_value_bytes += sent_delta.size() * value_bytes;
        deltas_.emplace(resp.req, PendingDelta{put.key(), state, std::move(sent_delta), put.deadline()});
        delta_bytes_ += value_bytes;
        deadlines_.push({put.deadline(), resp.req});
    }
    forward_write(put.key(), state, put.targets());
    if (!own) return maybe_finish_put(now, resp.req, put);
    const ReplicateResp own_answer = replicate(*own);
    on_replicate_resp(now, config_.id, own_answer);  // counts the own copy, may finish the put
}

std::optional<ReplicateDelta> Node::delta_of(RequestId req, const PutCoordinator& put, std::string patch) const {
    const PutCoordinator::Replicating& r = put.replicating();
    if (patch.empty() || r.state.siblings.size() != 1 || deltas_.size() >= config_.limits.max_inflight_requests) {
        return std::nullopt;
    }
    const Sibling& s = r.state.siblings.front();
    if (s.tombstone || s.dot != r.dot || patch.size() >= s.value.size() ||
        delta_bytes_ + s.value.size() > max_pending_delta_bytes(config_.limits)) {
        return std::nullopt;
    }
    ReplicateDelta delta{req, put.key(), SiblingSet{}, std::move(patch), hash_bytes(s.value, k_delta_seed)};
    delta.state.context = r.state.context;
    delta.state.siblings.push_back(Sibling{s.dot, false, {}, s.written, s.expires, s.content_type});
    return delta;
}

void Node::on_replicate_resp(Now now, NodeId from, const ReplicateResp& resp) {
    // A delta's answer: that replica no longer waits on it. One whose copy was not the
    // leader's is sent the whole state, and its answer to that counts when it comes.
    // One that asks after the put's deadline (or was sent no delta) gets nothing: read
    // repair and anti-entropy bring it the write.
    bool sent_state = false;
    if (auto d = deltas_.find(resp.req); d != deltas_.end()) {
        std::vector<NodeId>& waiting = d->second.waiting;
        if (auto w = std::find(waiting.begin(), waiting.end(), from); w != waiting.end()) {
            waiting.erase(w);
            if (resp.need_state) {
                ++stats_.deltas_refused;
                send(from, ReplicateReq{resp.req, d->second.key, d->second.state, NodeId{}});
                sent_state = true;
            }
            if (waiting.empty()) erase_delta(d);
        }
    }
    if (resp.need_state) {
        if (!sent_state) ++stats_.deltas_unanswered;
        return;  // no copy taken
    }
    auto it = puts_.find(resp.req);
    if (it == puts_.end()) return;
    PutCoordinator& put = it->second;
    const Target* t = put.on_replica_answer(from, resp.code);
    if (t == nullptr) return;
    count_copy(resp.req, put, *t, from);
    maybe_finish_put(now, resp.req, put);
}

void Node::count_copy(RequestId req, PutCoordinator& put, const Target& t, NodeId from) {
    // The own copy was written (or found as it is) in this very step: the batch holding
    // it is at most the step's horizon (BufferedStore::horizon), and it counts once that
    // batch is durable. A copy found in an older batch than the newest one waiting
    // waits with it: the queue stays in batch order, and it counts a little late,
    // never early.
    std::uint64_t batch = store_.horizon();
    if (from != config_.id || batch <= store_.done_seq()) {
        put.count(t);
        return;
    }
    if (!own_copies_.empty()) batch = std::max(batch, own_copies_.back().first);
    put.await_durable(t, batch);
    own_copies_.emplace_back(batch, req);
}

void Node::writes_durable(std::uint64_t seq) {
    begin_step();
    while (!own_copies_.empty() && own_copies_.front().first <= seq) {
        const RequestId req = own_copies_.front().second;
        own_copies_.pop_front();
        auto it = puts_.find(req);
        // finished, or lost with its batch
        if (it == puts_.end() || !it->second.on_durable(seq)) continue;
        maybe_finish_put(last_now_, req, it->second);
    }
    end_step();
}

void Node::maybe_finish_put(Now now, RequestId req, PutCoordinator& put) {
    if (!put.met()) return;
    out_.replies.push_back(OutReply{put.reply(now.wall), 0});  // its copies are durable
    puts_.erase(req);
}

}  // namespace shoal::replica
