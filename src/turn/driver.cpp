#include "turn/driver.h"

#include <algorithm>
#include <cstddef>
#include <vector>
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
    SHOAL_ASSERT(!in_turn_);
    in_turn_ = true;
    do {
        again_ = false;
        take_turn();
    } while (again_);  // a commit finished within it and completed requests
    in_turn_ = false;
}

void Driver::take_turn() {
    replica::Outbox out;
    node_.take_output(out);
    Turn turn;
    if (gossiper_ != nullptr) gossiper_->take_output(turn.gossip);
    if (out.has_writes()) {
        staged_bytes_ += out.writes.writes.size_bytes();
        ++next_turns_;
        if (next_.seq == 0) {
            next_ = std::move(out.writes);
        } else {
            next_.append(std::move(out.writes));
        }
    }
    const std::uint64_t done = store_.done_seq();
    turn.gossip_needs = out.needs();
    // Requests that vouch for nothing go now, in order among what is ready; the rest
    // waits for the disk, and release() sends what of it rests on nothing unsynced.
    for (auto& e : out.messages) {
        if (e.needs <= done) {
            sink_.send(e);
        } else if (replica::promises_nothing(e.msg)) {
            ++stats_.messages_early;
            sink_.send(e);
        } else {
            turn.messages.push_back(std::move(e));
        }
    }
    turn.replies = std::move(out.replies);
    if (turn.gossip_needs > done) {  // the turn as a whole would wait: these replies need not
        stats_.replies_early += static_cast<std::uint64_t>(std::count_if(
            turn.replies.begin(), turn.replies.end(), [done](const replica::OutReply& r) { return r.needs <= done; }));
    }
    release(turn, done);
    if (!turn.empty()) {
        ++stats_.turns_held;
        waiting_.push_back(std::move(turn));
    }
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
        follow_up();  // the requests writes_lost failed are answered now
        return;
    }
    ++stats_.commits;
    stats_.turns_persisted += out_turns_;
    SHOAL_ASSERT(staged_bytes_ >= out_bytes_);
    staged_bytes_ -= out_bytes_;
    node_.writes_durable(seq);  // its own copies count now: replies may follow
    // Release, in the order it was made, everything that rests on nothing later. (The
    // Sink calls no driver method back, so waiting_ holds still meanwhile.)
    for (Turn& turn : waiting_) release(turn, seq);
    std::erase_if(waiting_, [](const Turn& turn) { return turn.empty(); });
    follow_up();  // what writes_durable completed; also starts the next commit
}

void Driver::follow_up() {
    if (in_turn_) {
        again_ = true;  // end_turn, under way, takes the core's output again
    } else {
        end_turn();
    }
}

namespace {
// Hands `go` the items that `ready` says may go, in order, and keeps the rest in order.
template <class T, class Ready, class Go>
void take_ready(std::vector<T>& items, Ready ready, Go go) {
    std::size_t kept = 0;
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (ready(items[i])) {
            go(items[i]);
        } else {
            if (kept != i) items[kept] = std::move(items[i]);
            ++kept;
        }
    }
    items.erase(items.begin() + static_cast<std::ptrdiff_t>(kept), items.end());
}
}  // namespace

void Driver::release(Turn& turn, std::uint64_t seq) {
    take_ready(
        turn.messages, [seq](const replica::Envelope& e) { return e.needs <= seq; },
        [this](replica::Envelope& e) { sink_.send(e); });
    if (turn.gossip_needs <= seq) {
        for (auto& message : turn.gossip.messages) sink_.send(message);
        turn.gossip.messages.clear();
    }
    take_ready(
        turn.replies, [seq](const replica::OutReply& r) { return r.needs <= seq; },
        [this](replica::OutReply& r) { sink_.reply(r.reply); });
}

void Driver::fail(Turn& turn) {
    ++stats_.turns_failed;
    stats_.messages_dropped += turn.messages.size();
    for (auto& message : turn.gossip.messages) sink_.send(message);
    for (auto& r : turn.replies) {
        ++stats_.replies_failed;
        replica::ClientReply failed{r.reply.token, errc::store_error};
        sink_.reply(failed);
    }
}

}  // namespace shoal::turn
