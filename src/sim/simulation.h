// Internals of one simulated run, shared by the engine (simulator.cpp), the
// workload clients (clients.cpp) and the faults (faults.cpp). Not a public header.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/hash.h"
#include "core/rng.h"
#include "replica/messages.h"
#include "replica/node.h"
#include "ring/ring.h"
#include "sim/checkers.h"
#include "sim/simulator.h"
#include "store/buffered_store.h"
#include "store/memory_store.h"

namespace shoal::sim {

enum class EventKind : std::uint8_t {
    peer_message,
    client_request,
    client_reply,
    client_wake,
    node_tick,
    fault,
    disk_flush,
    probe  // measures convergence after a wipe; touches nothing
};

enum class FaultAction : std::uint8_t {
    crash,
    restart,
    partition,
    asymmetric_cut,
    heal,
    clock_jump,
    disk_error,
    minority_start,
    minority_end,
    wipe,     // crash, lose the whole disk, restart empty
    corrupt,  // damage one stored value
};

struct Event {
    EventKind kind = EventKind::node_tick;
    std::uint32_t a = 0;  // sender node, client, or the node concerned
    std::uint32_t b = 0;  // receiver node
    std::unique_ptr<replica::PeerMessage> peer;
    std::unique_ptr<replica::ClientRequest> request;
    std::unique_ptr<replica::ClientReply> reply;
    replica::ClientToken token = 0;
    FaultAction fault = FaultAction::heal;
};

struct SimNode {
    NodeId id;
    store::MemStore disk;
    std::unique_ptr<store::BufferedStore> buffered;
    std::unique_ptr<replica::Node> core;
    bool up = true;
    std::int64_t skew_us = 0;
    std::uint64_t epoch = 0;  // bumps on crash: stale ticks of an earlier life are ignored
};

enum class OpKind : std::uint8_t { cart_add, blind_write, remove, read };

struct SimClient {
    std::uint32_t id = 0;
    bool busy = false;
    bool writing = false;  // second stage of a read-modify-write
    OpKind kind = OpKind::read;
    std::string key;
    std::string item;
    std::string value;
    replica::VersionVector context;
    replica::ClientToken token = 0;  // the attempt in flight
    std::uint32_t node = 0;
    int attempts = 0;
    Time op_started;
    std::vector<Time> avoid_until;  // per node: the client saw it fail
    std::uint64_t seq = 0;
};

class Simulation final : public replica::NodeEvents {
public:
    explicit Simulation(const SimConfig& config);
    RunResult run();

    // NodeEvents: the checkers learn each dot's causal past.
    void dot_issued(const std::string& key, const replica::Dot& dot, const replica::VersionVector& ctx) override;

private:
    // Engine (simulator.cpp).
    void schedule(Time at, Event event);
    void process(Event& event);
    void start_node(std::uint32_t i);
    void crash_node(std::uint32_t i);
    Time node_now(std::uint32_t i) const { return Time{now_.us + nodes_[i]->skew_us}; }
    void after_node_turn(std::uint32_t i);
    void send_peer(std::uint32_t from, replica::Envelope& envelope);
    Duration link_delay();
    void trace(std::uint64_t v) { trace_ = hash_combine(trace_, v); }
    void finish_checks();
    // Reads every node's stored objects: per key, per node (nullptr: none). Values
    // failing their checksum count as present and different from every other.
    std::map<std::string, std::vector<std::unique_ptr<SiblingSet>>> stored_objects(std::uint64_t& bytes_on, std::uint32_t node);
    std::uint64_t count_divergent(std::vector<std::string>* keys);
    void probe();
    // Anti-entropy bytes sent by every node life so far.
    std::uint64_t ae_bytes_sent_total() const;
    void preload();
    void collect_stats(const replica::NodeStats& s);

    // Workload (clients.cpp).
    void client_wake(std::uint32_t c);
    void client_reply(std::uint32_t c, replica::ClientReply& reply);
    void begin_op(SimClient& client);
    static replica::ClientRequest current_request(const SimClient& client);
    void send_attempt(SimClient& client);
    void attempt_failed(SimClient& client);
    void op_done(SimClient& client, bool ok);
    void read_done(SimClient& client, const replica::ClientReply& reply);
    std::uint32_t pick_node(SimClient& client);
    bool in_availability_window(Time t) const;

    // Faults (faults.cpp).
    void plan_faults();
    void apply_fault(const Event& event);
    void heal_everything();

    SimConfig config_;
    Rng rng_;
    Time now_;
    std::uint64_t next_seq_ = 0;
    std::map<std::pair<std::int64_t, std::uint64_t>, Event> queue_;
    std::shared_ptr<const ring::Ring> ring_;
    std::vector<std::unique_ptr<SimNode>> nodes_;
    std::vector<SimClient> clients_;
    std::vector<std::vector<bool>> blocked_;  // blocked_[from][to]
    bool workload_on_ = true;
    bool faults_on_ = true;
    Time minority_from_{-1}, minority_to_{-1};
    Time wiped_at_{-1};
    Time one_key_at_{-1};
    std::uint32_t wiped_node_ = 0;
    std::uint64_t ae_bytes_base_ = 0;  // at the start of the measurement in progress
    std::uint64_t ae_bytes_retired_ = 0;  // sent by node lives that have ended
    History history_;
    RunResult result_;
    std::uint64_t trace_ = 0;
    replica::Outbox outbox_;
};

}  // namespace shoal::sim
