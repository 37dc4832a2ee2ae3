// The replica side of a node's requests: leading a put (issuing its dot against the
// local copy), applying a leader's replicate request, answering a read. Each returns
// its answer: dispatch sends it to the peer that asked, and a coordinator that is
// itself a target calls it directly (put_path.cpp, node.cpp).
#include "core/hash.h"
#include "replica/datatypes.h"
#include "replica/node.h"
#include "replica/patch.h"

namespace shoal::replica {

PutLeaderResp Node::lead(Now now, NodeId from, PutLeaderReq& req) {
    PutLeaderResp resp;
    resp.req = req.req;
    const auto refuse = [&](errc code) {
        resp.code = code;
        return std::move(resp);
    };
    // A store that refuses writes: the coordinator's next target leads.
    if (store_failing_) return refuse(to_errc(store_failing_));
    if (req.apply_by.us != 0 && now.wall > req.apply_by && from != config_.id) {
        // Too late: the coordinator may have asked another leader by now.
        ++stats_.late_leads_refused;
        return refuse(errc::timeout);
    }
    SiblingSet local;
    std::uint64_t old_entry = 0;
    if (auto ec = load(req.key, local, old_entry)) return refuse(to_errc(ec));
    const bool update = !req.op.update.empty();
    if (update) {
        if (auto ec = apply_update(now, local, req.op)) return refuse(to_errc(ec));
    }
    if (!condition_holds(req.condition, local, req.op.context, now.wall)) return refuse(errc::precondition_failed);
    std::size_t kept = 0;
    for (const auto& s : local.siblings) kept += req.op.context.covers(s.dot) || repeats(s, req.op) ? 0 : 1;
    if (req.max_siblings != 0 && kept + 1 > req.max_siblings) return refuse(errc::too_many_siblings);
    // No dot may be issued under the old actor.
    if (must_retire_ && !retire_actor()) return refuse(errc::store_error);
    // The context may name only dots that were issued: none of this actor's beyond
    // what it has issued (a forged counter would make it issue, or wrap to, one it
    // issued already), and few enough actors that the joined context still decodes.
    if (req.op.context.get(actor_) >= next_counter_ ||
        joined_size(local.context, req.op.context) > k_max_context_entries) {
        return refuse(errc::bad_context);
    }
    // A data-type write replaces the one value held with the next: the replicas that
    // hold that one are sent the difference (put_path.cpp).
    std::string old_value;
    if (update && local.siblings.size() == 1 && !local.siblings.front().tombstone) {
        old_value = local.siblings.front().value;
    }
    const Dot dot = apply_write(local, req.op, actor_, mode_of(req.key), next_counter_);
    const std::size_t bytes = hint_bytes(req.key, local);
    if (hint_refused(req.hint_for, bytes)) return refuse(errc::overloaded);
    next_counter_ = dot.counter + 1;
    if (auto ec = save(req.key, local, old_entry, config_.limits.max_state_bytes)) {
        return refuse(to_errc(ec));
    }
    if (events_) events_->dot_issued(req.key, dot, req.op.context);
    after_write(req.hint_for, req.key, bytes);
    resp.dot = dot;
    if (!old_value.empty() && local.siblings.size() == 1 && local.siblings.front().dot == dot) {
        const std::string& value = local.siblings.front().value;
        resp.patch = make_patch(old_value, value, value.size() / 2).value_or(std::string{});
    }
    resp.state = std::move(local);
    return resp;
}

// A data-type update becomes a plain write of the key's next state: the merge of the
// live siblings here with the update applied under the dot this write will be issued,
// superseding every local sibling; the state has seen every dot of the key's clock
// here (dt::observe: a delete's among them). Checked as the context of a write is: it
// may name no dot this actor has not issued.
std::error_code Node::apply_update(Now now, const SiblingSet& local, WriteOp& op) const {
    dt::Update update;
    if (auto ec = dt::decode(op.update, update)) return ec;
    const auto* set = std::get_if<dt::SetUpdate>(&update);
    const auto* map = std::get_if<dt::MapUpdate>(&update);
    const VersionVector* context = set != nullptr ? &set->context : map != nullptr ? &map->context : nullptr;
    if (context != nullptr && (context->get(actor_) >= next_counter_ ||
                               joined_size(local.context, *context) > k_max_context_entries)) {
        return errc::bad_context;
    }
    const Dot dot = next_dot(local, local.context, actor_, next_counter_);
    std::string value;
    if (auto ec = dt::next_value(update, local.siblings, local.context, dot, op.written, now.wall, value)) return ec;
    op.value = std::move(value);
    op.context = local.context;
    op.content_type.clear();
    op.update.clear();
    SHOAL_ASSERT(next_dot(local, op.context, actor_, next_counter_) == dot);
    return {};
}

ReplicateResp Node::replicate(ReplicateReq& req) {
    ReplicateResp resp{req.req, errc::ok};
    const std::size_t bytes = hint_bytes(req.key, req.state);
    std::error_code ec;
    if (store_failing_) {
        ec = store_failing_;  // it takes none: the coordinator counts on the others
    } else if (hint_refused(req.hint_for, bytes)) {
        ec = errc::overloaded;
    } else {
        bool changed = false;
        ec = merge_in(req.key, req.state, changed);
        if (!ec) after_write(req.hint_for, req.key, bytes);
    }
    if (ec) resp.code = to_errc(ec);
    return resp;
}

// A data-type write sent as a patch: the replica patches the one value it holds and
// takes the leader's state only when that made the leader's bytes (the digest): when
// its copy was the one the leader wrote on. Any other copy -- a write missed, a
// repair not yet arrived, siblings -- asks for the whole state instead (need_state);
// nothing is taken from a delta that does not check out.
ReplicateResp Node::replicate_delta(ReplicateDelta& req) {
    ReplicateResp resp{req.req, errc::ok};
    const auto need_state = [&] {
        resp.need_state = true;
        return resp;
    };
    if (req.state.siblings.size() != 1 || req.state.siblings.front().tombstone ||
        !req.state.siblings.front().value.empty()) {
        resp.code = errc::bad_request;
        return resp;
    }
    if (store_failing_) {
        resp.code = to_errc(store_failing_);
        return resp;
    }
    SiblingSet local;
    if (load(req.key, local) || local.siblings.size() != 1 || local.siblings.front().tombstone) return need_state();
    std::string value;
    if (!apply_patch(local.siblings.front().value, req.patch, value) || hash_bytes(value, k_delta_seed) != req.digest) {
        return need_state();
    }
    req.state.siblings.front().value = std::move(value);
    ReplicateReq full{req.req, std::move(req.key), std::move(req.state), NodeId{}};
    return replicate(full);
}

GetResp Node::read_here(RequestId req, std::string_view key) {
    GetResp resp;
    resp.req = req;
    if (auto ec = load(key, resp.state)) resp.code = to_errc(ec);
    return resp;
}

void Node::replicate_here(ReplicateReq req) {
    SHOAL_ASSERT(req.req == 0);  // an answer would be to this node: see on_put_leader_resp
    (void)replicate(req);  // counted in stats_ like any replica write
}

}  // namespace shoal::replica
