// A get's coordinator, as a machine of its own: whom to ask (this node first, then as
// many as it takes to reach r and pr, the rest when one fails or is slow), what an
// answer does, when r is met, what the client is told and which copies read repair
// rewrites. It owns the read's state and its phase (a type: Collecting, then
// Answered); it sends nothing and reads no store or clock. The Node routes answers to
// it and carries out what it decides (node.cpp). Tested alone:
// test/unit/test_coordinators.cpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "core/assert.h"
#include "core/errc.h"
#include "core/types.h"
#include "replica/messages.h"
#include "replica/quorum.h"
#include "replica/target.h"
#include "replica/version.h"

namespace shoal::replica {

class GetCoordinator {
public:
    // Collecting: short of r (and pr) good answers. A delete without a context waits
    // here for what it will delete (`then_delete`: once R have answered, it deletes
    // what they hold). Answered: the client has its reply (or the delete went on as a
    // put); the read stays until every target asked has answered or the deadline
    // passes, to read-repair the copies that differ.
    struct Collecting {
        std::optional<RequestOptions> then_delete;
    };
    struct Answered {};
    struct Spec {
        ClientToken token = 0;
        std::string key;
        std::vector<Target> targets;  // this node's copy and primaries first (pick_targets)
        Quorum replies;               // r and pr
        Instant deadline;
        std::optional<RequestOptions> then_delete;
    };
    // Precondition: at least r targets.
    explicit GetCoordinator(Spec spec);

    // Marks `self`'s target asked, when this node holds a copy: it costs no message
    // and is asked first. Returns it (nullptr: not a target).
    const Target* ask_self(NodeId self);
    // Asks targets not yet asked, in order: every one of them when `everyone`, else as
    // many as it takes for the outstanding ones to still reach R (and PR) replies.
    // Calls send(target) for each, in order; returns how many.
    template <class Send>
    std::size_t ask(bool everyone, Send&& send) {
        // The replies already in, plus one from each target asked and still silent.
        Quorum coming = replies_;
        for (const auto& t : targets_) {
            if (t.asked && t.open()) coming.count(t.primary);
        }
        std::size_t asked = 0;
        for (auto& t : targets_) {
            if (!everyone && coming.met()) break;
            if (t.asked || (!everyone && coming.wants_primary() && !t.primary)) continue;
            t.asked = true;
            coming.count(t.primary);
            ++asked;
            send(static_cast<const Target&>(t));
        }
        return asked;
    }

    // A target's answer: `counted` merges its state in under `mode` (the key's
    // namespace's) and keeps its digest for read repair; `failed` marks it failed;
    // `stale` (not an open target asked) changes nothing.
    enum class Answer : std::uint8_t { stale, failed, counted };
    Answer on_answer(NodeId from, errc code, const SiblingSet& state, ConflictMode mode);
    // The reply rests on store batch `seq` (this node's own read saw staged state).
    void rest_on(std::uint64_t seq) { needs_ = std::max(needs_, seq); }
    std::uint64_t needs() const { return needs_; }

    // r (and pr) are met and the client has no reply yet.
    bool ready() const { return !answered() && replies_.met(); }
    // Enters Answered. Returns the delete to go on with, for a delete without a context.
    // Precondition: not answered.
    std::optional<RequestOptions> answer();
    bool answered() const { return std::holds_alternative<Answered>(phase_); }
    // What the client is told: the live siblings merged, and their context; not_found
    // when none is live.
    ClientReply reply(Time wall) const;
    // Every target asked has answered or failed.
    bool all_in() const;
    // The deadline passed: the read ends (failed, if not yet answered).
    bool expired(Instant now) const { return now >= deadline_; }

    // The targets whose copy differs from the merge (or is damaged), for read repair.
    // None before a good answer.
    template <class F>
    void for_each_stale_copy(F&& f) const {
        if (replies_.got == 0) return;
        const std::uint64_t want = digest_of_merge();
        for (std::size_t i = 0; i < targets_.size(); ++i) {
            const Target& t = targets_[i];
            // A damaged copy counts for nothing in the answer, but gets the merge.
            if (!t.corrupt && (!t.answered || digests_[i] == want)) continue;
            f(t);
        }
    }

    ClientToken token() const { return token_; }
    const std::string& key() const { return key_; }
    const std::vector<Target>& targets() const { return targets_; }
    const Quorum& replies() const { return replies_; }
    const SiblingSet& merged() const { return merged_; }
    Instant deadline() const { return deadline_; }
    bool queue_deadline_once() { return !std::exchange(deadline_queued_, true); }

private:
    std::uint64_t digest_of_merge() const;

    ClientToken token_;
    std::string key_;
    std::vector<Target> targets_;
    std::vector<std::uint64_t> digests_;  // per target, once answered
    Quorum replies_;
    Instant deadline_;
    std::variant<Collecting, Answered> phase_;
    SiblingSet merged_;
    std::optional<std::uint64_t> merge_digest_;  // digest(merged_), when the last answer was the merge
    std::uint64_t needs_ = 0;  // the store batch of staged state this node's own read saw
    bool deadline_queued_ = false;
};

}  // namespace shoal::replica
