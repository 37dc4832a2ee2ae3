// Steps and what their output rests on: the core's entry points (submit, step, tick)
// bracket each request, message and tick as a step, and everything a step sends or
// answers gets the store batches it read and wrote (Outbox's needs). A node never
// sends itself a message: where it is a target of its own request it calls the
// handler (put_path.cpp, node.cpp), within the same step.
#include <algorithm>

#include "replica/node.h"

namespace shoal::replica {

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

void Node::send(NodeId to, PeerMessage message) {
    SHOAL_ASSERT_MSG(to != config_.id, "a message to this node itself: call its handler");
    out_.messages.push_back(Envelope{to, std::move(message)});
}

void Node::step(Now now, NodeId from, PeerMessage message) {
    last_now_ = now;
    begin_step();
    // Only an answer proves the peer hears this node (a request may come from a peer
    // that cannot hear it).
    if (is_answer(message) && from != config_.id) detector_.answered(from, now.mono);
    dispatch(now, from, message);
    end_step();
}

void Node::begin_step(std::uint64_t floor) {
    SHOAL_ASSERT(!step_out_.active);  // steps do not nest
    // Output made since the last step, outside any, rests on all the turn did so far.
    settle(std::max(turn_needs_, store_.horizon()));
    turn_needs_ = std::max(turn_needs_, store_.take_horizon());
    step_out_ = Step{true, out_.messages.size(), out_.replies.size(), floor};
}

void Node::end_step() {
    SHOAL_ASSERT(step_out_.active);
    const std::uint64_t seq = std::max(store_.horizon(), step_out_.floor);
    SHOAL_ASSERT(settled_messages_ == step_out_.messages && settled_replies_ == step_out_.replies);
    settle(seq);
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

}  // namespace shoal::replica
