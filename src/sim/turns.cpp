// The simulated nodes' turn plumbing: each node runs the turn driver shoald runs
// (src/turn), with a Sink onto the simulated network and clients and a Committer that
// writes batches to the simulated disk, a synced one taking simulated time. And the
// checks that need the moment a reply is released: ack-before-durable, stalled links.
#include <algorithm>

#include "core/assert.h"
#include "replica/codec.h"
#include "sim/simulation.h"
#include "store/keys.h"

namespace shoal::sim {

void Simulation::attach_driver(std::uint32_t i) {
    SimNode& n = *nodes_[i];
    n.io = std::make_unique<NodeIo>(*this, i);
    n.driver = std::make_unique<turn::Driver>(*n.core, n.gossip.get(), *n.buffered, *n.io, *n.io);
}

void Simulation::detach_driver(std::uint32_t i) {
    SimNode& n = *nodes_[i];
    if (!n.driver) return;
    const turn::DriverStats& s = n.driver->stats();
    result_.commits += s.commits;
    result_.commit_turns += s.turns_persisted;
    result_.commits_lost += s.commit_errors;
    result_.commit_failed_replies += s.replies_failed;
    n.driver.reset();
    n.io.reset();
    n.committing.reset();  // a batch that had not reached the disk is lost with the node
}

void Simulation::complete_commit(std::uint32_t i) {
    SimNode& n = *nodes_[i];
    SHOAL_ASSERT(n.committing.has_value());
    store::StagedBatch batch = std::move(*n.committing);
    n.committing.reset();
    const std::error_code ec = n.disk.write(batch.writes, batch.sync);
    if (ec) ++result_.faults.disk_errors;
    n.driver->committed(batch.seq, ec);
}

void Simulation::settle_commits(std::uint32_t i) {
    SimNode& n = *nodes_[i];
    if (!n.driver) return;
    while (n.committing) complete_commit(i);
    SHOAL_ASSERT(n.driver->idle());
}

bool Simulation::link_delivers(std::uint32_t from, std::uint32_t to) {
    auto it = stalls_.find({from, to});
    if (it == stalls_.end()) return true;
    const SimNode& n = *nodes_[from];
    if (n.core && !n.core->believes_up(NodeId{to + 1})) {
        ++result_.faults.stalls_reopened_on_suspicion;
        stalls_.erase(it);
        return true;
    }
    if (it->second.us >= 0 && now_ - it->second >= k_stall_bound) {
        ++result_.faults.stalls_reopened_by_watchdog;
        stalls_.erase(it);
        return true;
    }
    if (it->second.us < 0) it->second = now_;
    return false;
}

void NodeIo::send(replica::Envelope& message) {
    if (sim_.blocked_[index_][message.to.value - 1]) return;  // a cut link: gone
    if (!sim_.link_delivers(index_, message.to.value - 1)) return;
    sim_.send_peer(index_, message);
}

void NodeIo::send(gossip::GossipEnvelope& message) {
    sim_.send_gossip(index_, message);
}

void Simulation::check_durable_ack(const replica::ClientReply& reply) {
    if (config_.sync == store::SyncMode::none || reply.code != errc::ok || reply.dot.counter == 0) return;
    if (wiped_at_.us >= 0) return;  // a disk was destroyed on purpose: durable copies went with it
    const SimClient& client = clients_[static_cast<std::uint32_t>(reply.token >> 32)];
    if (!client.busy || client.token != reply.token || !client.writing) return;  // not a write's answer
    const std::string stored = store::data_key(ring_->partition_of(hash_key(client.key)), client.key);
    std::uint32_t holders = 0, damaged = 0;
    for (const auto& n : nodes_) {
        const auto bytes = n->disk.durable(stored);
        SiblingSet state;
        if (!bytes) continue;
        if (replica::decode_stored(*bytes, state)) {
            ++damaged;  // bit rot injected on purpose (the corruption scenario): cannot be told
        } else if (state.context.covers(reply.dot)) {
            ++holders;
        }
    }
    if (holders + damaged >= config_.w) return;
    ++result_.acked_not_durable;
    result_.violations.push_back("ack-before-durable: key " + client.key + " acknowledged with " +
                                 std::to_string(holders) + " durable copies, w=" + std::to_string(config_.w));
}

void NodeIo::reply(replica::ClientReply& reply) {
    sim_.check_durable_ack(reply);
    Event e;
    e.kind = EventKind::client_reply;
    e.a = static_cast<std::uint32_t>(reply.token >> 32);
    e.reply = std::make_unique<replica::ClientReply>(std::move(reply));
    sim_.schedule(sim_.now_ + sim_.link_delay(), std::move(e));
}

void NodeIo::commit(store::StagedBatch batch) {
    SimNode& n = *sim_.nodes_[index_];
    SHOAL_ASSERT(!n.committing.has_value());
    n.committing = std::move(batch);
    const SimConfig& c = sim_.config_;
    if (!n.committing->sync || c.commit_delay_max.us == 0) {
        sim_.complete_commit(index_);  // an unsynced write: at once, as in shoald
        return;
    }
    Event e;
    e.kind = EventKind::commit_done;
    e.a = index_;
    e.token = n.epoch;
    sim_.schedule(sim_.now_ + Duration{sim_.rng_.between(c.commit_delay_min.us, c.commit_delay_max.us)}, std::move(e));
}

}  // namespace shoal::sim
