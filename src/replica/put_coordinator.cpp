#include "replica/put_coordinator.h"

namespace shoal::replica {

PutCoordinator::PutCoordinator(Spec spec, NodeId self)
    : token_(spec.token),
      key_(std::move(spec.key)),
      op_(std::move(spec.op)),
      targets_(std::move(spec.targets)),
      phase_(Leading{first_leader(targets_, self, spec.condition), {}}),
      acks_(spec.acks),
      deadline_(spec.deadline),
      return_body_(spec.return_body),
      condition_(spec.condition) {
    SHOAL_ASSERT(!targets_.empty() && targets_.size() >= acks_.need);
}

std::size_t PutCoordinator::first_leader(const std::vector<Target>& targets, NodeId self, WriteCondition condition) {
    SHOAL_ASSERT(!targets.empty());
    if (condition != WriteCondition::none) return 0;
    std::size_t leader = 0;
    for (std::size_t i = 0; i < targets.size(); ++i) {
        const Target& t = targets[i];
        if (t.node == self && (t.primary || !targets[0].primary)) leader = i;
    }
    return leader;
}

void PutCoordinator::lead(std::size_t i, Instant until) {
    SHOAL_ASSERT(std::holds_alternative<Leading>(phase_));  // no second leader once one applied it
    SHOAL_ASSERT(i < targets_.size() && targets_[i].open());
    phase_ = Leading{i, until};
}

std::optional<std::size_t> PutCoordinator::next_leader() const {
    for (std::size_t i = 0; i < targets_.size(); ++i) {
        if (targets_[i].open()) return i;
    }
    return std::nullopt;
}

std::size_t PutCoordinator::leader_index() const {
    const std::size_t i = std::visit([](const auto& p) { return p.leader; }, phase_);
    SHOAL_ASSERT(i < targets_.size());
    return i;
}

PutCoordinator::LeaderAnswer PutCoordinator::on_leader_answer(NodeId from, errc code, const Dot& dot,
                                                              SiblingSet state) {
    const Leading* leading = this->leading();
    if (leading == nullptr) return {};  // a leader answered already
    Target& leader = targets_[leader_index()];
    if (leader.node != from || !leader.open()) return {};
    if (code == errc::overloaded || code == errc::store_full || code == errc::store_error || code == errc::corrupt) {
        // A fallback whose hint store is full, a leader whose disk fails or whose copy
        // of the key is damaged: the next target leads instead (the write needs W
        // copies, not this one; the new leader's replicate overwrites the damaged copy).
        leader.failed = true;
        leader.corrupt = code == errc::corrupt;
        return {LeaderAnswer::pass_on, code == errc::overloaded ? errc::unavailable : code};
    }
    // Any other refusal (too many siblings, a condition not met, a state too large) is
    // the answer.
    if (code != errc::ok) return {LeaderAnswer::refused, code};
    leader.answered = true;
    phase_ = Replicating{leading->leader, dot, std::move(state)};
    return {LeaderAnswer::replicate, errc::ok};
}

Target* PutCoordinator::on_replica_answer(NodeId from, errc code) {
    Target* t = open_target(targets_, from);
    if (t == nullptr) return nullptr;
    if (code != errc::ok) {
        t->failed = true;
        return nullptr;
    }
    t->answered = true;
    return t;
}

void PutCoordinator::await_durable(const Target& t, std::uint64_t seq) {
    SHOAL_ASSERT(t.answered && seq > 0);
    SHOAL_ASSERT(needs_ == 0);  // one own copy per put
    needs_ = seq;
    own_ = static_cast<std::size_t>(&t - targets_.data());
    SHOAL_ASSERT(own_ < targets_.size());
}

bool PutCoordinator::on_durable(std::uint64_t seq) {
    if (needs_ == 0) return false;
    SHOAL_ASSERT(needs_ <= seq && own_ < targets_.size());
    needs_ = 0;
    count(targets_[own_]);
    return true;
}

PutCoordinator::Due PutCoordinator::on_time(Instant now) {
    if (now >= deadline_) return Due::deadline;
    const Leading* leading = this->leading();
    if (leading == nullptr || now < leading->until) return Due::nothing;
    Target& leader = targets_[leader_index()];
    if (!leader.open()) return Due::nothing;
    leader.failed = true;  // silent: suspected, and the next target leads
    return Due::leader_silent;
}

ClientReply PutCoordinator::reply(Time wall) const {
    SHOAL_ASSERT(met());
    const Replicating& done = replicating();  // w counts the leader's answer
    ClientReply reply;
    reply.token = token_;
    reply.code = errc::ok;
    reply.replies = acks_.got;
    reply.required = acks_.need;
    reply.dot = done.dot;
    // A context is a version vector, and one that covers this write's dot could cover a
    // concurrent sibling of the same leader the writer never saw -- writing with it
    // would drop that sibling. So it is given only when one live value is left (or the
    // siblings go back with it).
    if (return_body_ || live_count(done.state, wall) == 1) reply.context = done.state.context;
    if (return_body_) {
        for (const auto& s : done.state.siblings) {
            if (!s.tombstone && !s.expired(wall)) reply.siblings.push_back(s);
        }
    }
    return reply;
}

}  // namespace shoal::replica
