// The turn driver: the one place that turns what a node's core hands out into effects,
// in the order durability needs. shoald, the simulator and the unit harness all run it.
//
// A turn is one pass of the core (a request, a peer message, a tick). At its end the
// driver takes the turn's output -- its write batch (with the sync flag), peer
// messages, client replies, and the gossiper's messages -- and persists the writes,
// then releases the rest to the Sink. Persisting is the Committer's: it may finish at
// once (simulator, tests) or later, on a commit thread (shoald). Meanwhile further
// turns run and stage their writes; they are coalesced into the next batch, so group
// commit grows with load and the loop never waits for the disk.
//
// Promise: each reply, and each message that vouches for the node's state
// (replica::promises_nothing false), reaches the Sink only once every batch up to its
// own `needs` is durable: the writes and staged reads of the step that made it, and
// what a coordinator's own copy contributed to a reply. So an answer waits for what it
// rests on, not for the newest batch its turn happened to stage. What rests on nothing
// unsynced goes at once, even past output still waiting; waiting output is released in
// the order it was made. Requests that vouch for nothing (a leader's replicate, a get's
// read requests) go at once, so a leader's fsync and its replicas' run side by side. A
// turn's gossip waits for the latest batch anything of its turn rests on.
// When a batch fails, everything still waiting (each rests on it or on a later batch,
// lost with it) fails: replies become errc::store_error, peer messages are dropped,
// gossip still goes out (it carries no write), and the core fails the requests whose
// answers rested on it and reloads what it keeps beside the store. Nothing released
// earlier is touched.
//
// Pure: no threads, clocks or sockets. Single-threaded: committed() is called on the
// loop that calls end_turn().
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <system_error>
#include <vector>

#include "gossip/gossiper.h"
#include "replica/node.h"
#include "store/buffered_store.h"

namespace shoal::turn {

// Where released output goes: sockets, the simulated network, a test's queue.
class Sink {
public:
    virtual ~Sink() = default;
    virtual void send(replica::Envelope& message) = 0;
    virtual void send(gossip::GossipEnvelope& message) = 0;
    virtual void reply(replica::ClientReply& reply) = 0;
};

// Persists batches to the node's inner store.
class Committer {
public:
    virtual ~Committer() = default;
    // Writes `batch` (synced when batch.sync), then calls Driver::committed(batch.seq,
    // ec) on the driver's loop: inside this call, or later. At most one batch is out.
    virtual void commit(store::StagedBatch batch) = 0;
};

struct DriverLimits {
    // Bytes of writes staged or out. Past it the driver is saturated: the owner stops
    // reading new client requests until a commit brings it back under.
    std::size_t max_staged_bytes = 64u << 20;
    // Turns with output waiting for its batch. Also a saturation bound.
    std::size_t max_waiting_turns = 65'536;
};

struct DriverStats {
    std::uint64_t commits = 0;         // batches persisted
    std::uint64_t commit_errors = 0;   // batches lost
    std::uint64_t turns_persisted = 0;  // turns with writes, persisted (per commit: the coalescing)
    std::uint64_t turns_failed = 0;    // turns failed by a lost batch
    std::uint64_t replies_failed = 0;
    std::uint64_t messages_dropped = 0;
    std::uint64_t turns_held = 0;       // turns with output that waited for a batch
    std::uint64_t replies_early = 0;    // replies sent at once though their turn rests on a later batch
    std::uint64_t messages_early = 0;   // requests sent before their turn's batch was durable
};

class Driver {
public:
    // Every reference must outlive the driver. `gossiper` may be null (no membership).
    Driver(replica::Node& node, gossip::Gossiper* gossiper, store::BufferedStore& store, Committer& committer,
           Sink& sink, DriverLimits limits = {});
    Driver(const Driver&) = delete;
    Driver& operator=(const Driver&) = delete;

    // The end of a turn: takes the core's and gossiper's output and persists and
    // releases it as promised above. May release earlier turns' output too (an inline
    // committer finishes within this call).
    void end_turn();
    // The committer finished batch `seq` (`ec` empty: durable). When durable, the core
    // hears it (Node::writes_durable) and what that completes goes out as a turn of its
    // own (end_turn, unless this is called from within one).
    void committed(std::uint64_t seq, std::error_code ec);

    // Past a bound of DriverLimits.
    bool saturated() const;
    // Nothing waits and no batch is out: every turn so far is released.
    bool idle() const { return waiting_.empty() && out_seq_ == 0 && next_.seq == 0; }
    std::size_t waiting_turns() const { return waiting_.size(); }
    std::size_t staged_bytes() const { return staged_bytes_; }
    const DriverStats& stats() const { return stats_; }

private:
    // What a turn holds back until batches are durable, each with its `needs`.
    struct Turn {
        std::vector<replica::Envelope> messages;
        std::vector<replica::OutReply> replies;
        gossip::GossipOutbox gossip;
        std::uint64_t gossip_needs = 0;
        bool empty() const { return messages.empty() && replies.empty() && gossip.messages.empty(); }
    };
    // Sends what of `turn` rests on batches up to `seq`, in order.
    void release(Turn& turn, std::uint64_t seq);
    void fail(Turn& turn);
    void start_commit();
    void take_turn();
    // What a finished commit made the core hand out goes as a turn of its own.
    void follow_up();

    replica::Node& node_;
    gossip::Gossiper* gossiper_;
    store::BufferedStore& store_;
    Committer& committer_;
    Sink& sink_;
    DriverLimits limits_;
    std::deque<Turn> waiting_;
    store::StagedBatch next_;      // taken from the core, not yet out (seq 0: none)
    std::uint64_t out_seq_ = 0;    // the batch at the committer (0: none)
    std::size_t out_bytes_ = 0;
    std::uint64_t out_turns_ = 0;  // turns with writes that it carries
    std::uint64_t next_turns_ = 0;
    std::size_t staged_bytes_ = 0;  // in next_ and out
    DriverStats stats_;
    bool in_turn_ = false;  // within end_turn
    bool again_ = false;    // a commit finished within end_turn: take the core's output again
};

}  // namespace shoal::turn
