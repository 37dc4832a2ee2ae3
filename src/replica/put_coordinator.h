// A put's coordinator, as a machine of its own (Riak keeps the same split between
// riak_kv_put_fsm and its pure riak_kv_put_core): which target leads the write, what a
// leader's or a replica's answer does, when w is met, what the client is told. It owns
// the put's state and its phase (a type: Leading, then Replicating); it sends nothing
// and reads no store or clock. The Node routes answers to it and carries out what it
// decides (put_path.cpp). Tested alone: test/unit/test_coordinators.cpp.
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

class PutCoordinator {
public:
    // Leading: target `leader` is asked to issue the write's dot and apply it by
    // `until`; after that the next open target leads.
    struct Leading {
        std::size_t leader;
        Instant until;
    };
    // Replicating: the leader issued `dot`; `state`, its copy with the write, goes to
    // every other target, and their acknowledgements count towards w.
    struct Replicating {
        std::size_t leader;
        Dot dot;
        SiblingSet state;
    };
    struct Spec {
        ClientToken token = 0;
        std::string key;
        WriteOp op;
        std::vector<Target> targets;  // primaries first (pick_targets)
        Quorum acks;                   // w and pw
        Instant deadline;
        bool return_body = false;
        WriteCondition condition = WriteCondition::none;
    };
    // Precondition: at least w targets. Starts Leading with the first leader (see
    // first_leader), with no time set until lead() is called.
    PutCoordinator(Spec spec, NodeId self);

    // The leader issues the dot: `self` when it is a primary target, else the first
    // primary (targets list primaries first), else `self` if a fallback target, else
    // the first. Primaries lead whenever one is up, so fallbacks seldom issue dots (and
    // a fallback that did keeps its copy after handing it over). Conditional writes
    // meet at one leader, the first primary, which checks them in turn: of two
    // concurrent creates one wins.
    static std::size_t first_leader(const std::vector<Target>& targets, NodeId self, WriteCondition condition);

    // Target `i` (open) leads until `until`. Precondition: Leading.
    void lead(std::size_t i, Instant until);
    // The next open target, in order, to lead in place of one that failed.
    std::optional<std::size_t> next_leader() const;

    // What a leader's answer does.
    struct LeaderAnswer {
        enum Kind : std::uint8_t {
            stale,      // not from the leader asked, or a leader answered already: ignore
            pass_on,    // this leader cannot take the write: the next open target leads;
                        // without one, the client gets `code`
            refused,    // the write is refused (`code`): that is the client's answer
            replicate,  // the leader applied it: Replicating, count the leader's copy
        };
        Kind kind = stale;
        errc code = errc::ok;
    };
    LeaderAnswer on_leader_answer(NodeId from, errc code, const Dot& dot, SiblingSet state);

    // A replica's answer: the target whose good answer is to be counted (count or
    // await_durable), or nullptr (stale, or it failed and is marked so).
    Target* on_replica_answer(NodeId from, errc code);

    // The targets the leader's state goes to: all but the leader and those that
    // failed (one that answered its copy is damaged gets it, to overwrite it).
    // Precondition: Replicating.
    template <class F>
    void for_each_replica(F&& f) const {
        const Replicating& r = replicating();
        for (std::size_t i = 0; i < targets_.size(); ++i) {
            const Target& t = targets_[i];
            if (i == r.leader || (t.failed && !t.corrupt)) continue;
            f(t);
        }
    }

    // A good copy counts towards w now ...
    void count(const Target& t) {
        SHOAL_ASSERT(t.answered);
        acks_.count(t.primary);
        SHOAL_ASSERT(acks_.got <= targets_.size());  // one acknowledgement per target
    }
    // ... or once store batch `seq` is durable: the coordinator's own copy (one per put).
    void await_durable(const Target& t, std::uint64_t seq);
    // Batches up to `seq` are durable: the copy waiting counts. False when none waited
    // (it counted already, or was lost with its batch).
    bool on_durable(std::uint64_t seq);
    // The batch the own copy waits for (0: none).
    std::uint64_t needs() const { return needs_; }

    // What time does. `deadline`: the put fails (quorum_not_met). `leader_silent`: the
    // leader is marked failed; the next target is to lead.
    enum class Due : std::uint8_t { nothing, deadline, leader_silent };
    Due on_time(Instant now);

    // W (and PW) durable copies are in.
    bool met() const { return acks_.met(); }
    // The client's reply once met: ok, the dot, the context to write with next (only
    // when the write left one live value, or the siblings go back with it).
    // Precondition: met().
    ClientReply reply(Time wall) const;

    ClientToken token() const { return token_; }
    const std::string& key() const { return key_; }
    const WriteOp& op() const { return op_; }
    WriteCondition condition() const { return condition_; }
    const std::vector<Target>& targets() const { return targets_; }
    const Quorum& acks() const { return acks_; }
    Instant deadline() const { return deadline_; }
    const Leading* leading() const { return std::get_if<Leading>(&phase_); }
    const Replicating& replicating() const {
        SHOAL_ASSERT(std::holds_alternative<Replicating>(phase_));
        return std::get<Replicating>(phase_);
    }
    // The target leading (or that led) the write.
    const Target& leader_target() const { return targets_[leader_index()]; }
    // The request's nearest instant is its deadline from now on: true the first time
    // (the Node queues it; see Node::queue_deadline).
    bool queue_deadline_once() { return !std::exchange(deadline_queued_, true); }

private:
    std::size_t leader_index() const;

    ClientToken token_;
    std::string key_;
    WriteOp op_;
    std::vector<Target> targets_;
    std::variant<Leading, Replicating> phase_;
    Quorum acks_;
    Instant deadline_;
    bool return_body_;
    WriteCondition condition_;
    bool deadline_queued_ = false;
    // The coordinator's own copy (target own_), while the batch holding it is not yet
    // durable (0: none waiting). It counts towards w only once it is, so an
    // acknowledgement means W durable copies, any W of the targets': the coordinator's
    // disk is not on the path of its replies.
    std::uint64_t needs_ = 0;
    std::size_t own_ = 0;
};

}  // namespace shoal::replica
