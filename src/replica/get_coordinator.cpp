#include "replica/get_coordinator.h"

#include <algorithm>

#include "replica/codec.h"

namespace shoal::replica {

GetCoordinator::GetCoordinator(Spec spec)
    : token_(spec.token),
      key_(std::move(spec.key)),
      targets_(std::move(spec.targets)),
      digests_(targets_.size(), 0),
      replies_(spec.replies),
      deadline_(spec.deadline),
      phase_(Collecting{std::move(spec.then_delete)}) {
    SHOAL_ASSERT(!targets_.empty() && targets_.size() >= replies_.need);
}

const Target* GetCoordinator::ask_self(NodeId self) {
    for (auto& t : targets_) {
        if (t.node != self) continue;
        SHOAL_ASSERT(!t.asked);
        t.asked = true;
        return &t;
    }
    return nullptr;
}

GetCoordinator::Answer GetCoordinator::on_answer(NodeId from, errc code, const SiblingSet& state, ConflictMode mode) {
    Target* t = open_target(targets_, from);
    if (t == nullptr || !t->asked) return Answer::stale;  // (a peer's answer to a question never sent)
    if (code != errc::ok) {
        t->failed = true;
        t->corrupt = code == errc::corrupt;
        return Answer::failed;
    }
    t->answered = true;
    replies_.count(t->primary);
    SHOAL_ASSERT(replies_.got <= targets_.size());
    const std::uint64_t d = digest(state);
    digests_[static_cast<std::size_t>(t - targets_.data())] = d;
    merged_ = merge(merged_, state, mode);
    // Replicas that agree leave the merge equal to each answer: its digest is known.
    merge_digest_ = merged_ == state ? std::optional<std::uint64_t>(d) : std::nullopt;
    return Answer::counted;
}

std::optional<RequestOptions> GetCoordinator::answer() {
    SHOAL_ASSERT(!answered());  // a client has one reply
    std::optional<RequestOptions> then_delete = std::move(std::get<Collecting>(phase_).then_delete);
    phase_ = Answered{};
    return then_delete;
}

ClientReply GetCoordinator::reply(Time wall) const {
    ClientReply reply;
    reply.token = token_;
    reply.replies = replies_.got;
    reply.required = replies_.need;
    reply.context = merged_.context;
    for (const auto& s : merged_.siblings) {
        if (!s.tombstone && !s.expired(wall)) reply.siblings.push_back(s);
    }
    reply.code = reply.siblings.empty() ? errc::not_found : errc::ok;
    return reply;
}

bool GetCoordinator::all_in() const {
    return std::all_of(targets_.begin(), targets_.end(), [](const Target& t) { return !t.asked || !t.open(); });
}

std::uint64_t GetCoordinator::digest_of_merge() const { return merge_digest_ ? *merge_digest_ : digest(merged_); }

}  // namespace shoal::replica
