// The put path's coordinator: it picks a leader among the targets (itself when it is
// one), which issues the write's dot; it then replicates the leader's state to the other
// targets and answers the client once W copies are durable (its own counting only once
// its batch is: writes_durable).
#include <algorithm>

#include "replica/node.h"

namespace shoal::replica {

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

}  // namespace shoal::replica
