#include "turn/driver.h"

#include <algorithm>
#include <utility>

#include "core/assert.h"

namespace shoal::turn {

Driver::Driver(replica::Node& node, gossip::Gossiper* gossiper, store::BufferedStore& store, Committer& committer,
               Sink& sink, DriverLimits limits)
    : node_(node), gossiper_(gossiper), store_(store), committer_(committer), sink_(sink), limits_(limits) {
    SHOAL_ASSERT(limits_.max_staged_bytes > 0 && limits_.max_waiting_turns > 0);
}

bool Driver::saturated() const {
    return staged_bytes_ >= limits_.max_staged_bytes || waiting_.size() >= limits_.max_waiting_turns;
}

void Driver::end_turn() {
    Turn turn;
    node_.take_output(turn.out);
    if (gossiper_ != nullptr) gossiper_->take_output(turn.gossip);
    if (turn.out.has_writes()) {
        staged_bytes_ += turn.out.writes.writes.size_bytes();
        ++next_turns_;
        if (next_.seq == 0) {
            next_ = std::move(turn.out.writes);
        } else {
            next_.append(std::move(turn.out.writes));
        }
    }
    if (turn.out.needs <= store_.done_seq()) {
        release(turn);
        start_commit();
        return;
    }
    // Requests that vouch for nothing go now; the rest waits for the disk.
    auto& messages = turn.out.messages;
    const auto held = std::stable_partition(messages.begin(), messages.end(), [](const replica::Envelope& e) {
        return replica::promises_nothing(e.msg);
    });
    for (auto it = messages.begin(); it != held; ++it) sink_.send(*it);
    stats_.messages_early += static_cast<std::uint64_t>(held - messages.begin());
    messages.erase(messages.begin(), held);
    ++stats_.turns_held;
    waiting_.push_back(std::move(turn));
    start_commit();
}

void Driver::start_commit() {
    if (out_seq_ != 0 || next_.seq == 0) return;
    out_seq_ = next_.seq;
    out_bytes_ = next_.writes.size_bytes();
    out_turns_ = std::exchange(next_turns_, 0);
    store::StagedBatch batch = std::move(next_);
    next_ = store::StagedBatch{};
    committer_.commit(std::move(batch));  // may call committed() at once
}

void Driver::committed(std::uint64_t seq, std::error_code ec) {
    SHOAL_ASSERT_MSG(seq != 0 && seq == out_seq_, "a commit finished that the driver did not start");
    out_seq_ = 0;
    // A coalesced batch carries every batch after the last one done, up to `seq`.
    const std::uint64_t first = store_.done_seq() + 1;
    store_.batch_done(seq, ec);
    if (ec) {
        ++stats_.commit_errors;
        // The store dropped this batch and everything staged after it: so do we.
        next_ = store::StagedBatch{};
        next_turns_ = 0;
        staged_bytes_ = 0;
        node_.writes_lost(first);
        std::deque<Turn> failed = std::move(waiting_);
        waiting_.clear();
        for (Turn& turn : failed) fail(turn);
        return;
    }
    ++stats_.commits;
    stats_.turns_persisted += out_turns_;
    SHOAL_ASSERT(staged_bytes_ >= out_bytes_);
    staged_bytes_ -= out_bytes_;
    // Release, in turn order, every waiting turn that rests on nothing later.
    std::deque<Turn> ready;
    for (auto it = waiting_.begin(); it != waiting_.end();) {
        if (it->out.needs <= seq) {
            ready.push_back(std::move(*it));
            it = waiting_.erase(it);
        } else {
            ++it;
        }
    }
    for (Turn& turn : ready) release(turn);
    start_commit();
}

void Driver::release(Turn& turn) {
    for (auto& message : turn.out.messages) sink_.send(message);
    for (auto& message : turn.gossip.messages) sink_.send(message);
    for (auto& reply : turn.out.replies) sink_.reply(reply);
}

void Driver::fail(Turn& turn) {
    ++stats_.turns_failed;
    stats_.messages_dropped += turn.out.messages.size();
    for (auto& message : turn.gossip.messages) sink_.send(message);
    for (auto& reply : turn.out.replies) {
        ++stats_.replies_failed;
        replica::ClientReply failed{reply.token, errc::store_error};
        sink_.reply(failed);
    }
}

}  // namespace shoal::turn
