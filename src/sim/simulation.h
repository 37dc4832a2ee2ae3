// Internals of one simulated run, shared by the engine (simulator.cpp), the
// workload clients (clients.cpp), the faults (faults.cpp) and the membership
// scenarios (membership.cpp). Not a public header.
#pragma once

#include <map>
#include <optional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/hash.h"
#include "core/rng.h"
#include "gossip/gossiper.h"
#include "membership/glue.h"
#include "replica/messages.h"
#include "replica/node.h"
#include "ring/ring.h"
#include "sim/checkers.h"
#include "sim/simulator.h"
#include "store/buffered_store.h"
#include "store/memory_store.h"
#include "turn/driver.h"

namespace shoal::sim {

enum class EventKind : std::uint8_t {
    peer_message,
    client_request,
    client_reply,
    client_wake,
    node_tick,
    fault,
    disk_flush,
    probe,           // measures convergence after a wipe; touches nothing
    gossip_message,  // membership scenarios: a gossip message between two nodes
    commit_done,     // a node's batch has reached its disk (token: the node's epoch)
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
    link_stall,  // a's link to b silently stops delivering until a reopens it (stalled_link)
    // Membership scenarios (membership.cpp).
    member_ready,        // is the initial cluster settled? then the workload starts
    member_join,         // node a starts, empty, and joins (b: seed node + 1, 0 = any member)
    member_leave,        // node a leaves (b: 1 = commanded through another member)
    member_kill,         // node a dies for good
    member_remove,       // node a is removed through another member
    member_crash_mover,  // a source or receiver of a moving partition crashes; restarts later
    member_split,        // the network splits along split_side_
    clocks_set,          // every wall clock set right again (the clock scenario's heal)
};

struct Event {
    EventKind kind = EventKind::node_tick;
    std::uint32_t a = 0;  // sender node, client, or the node concerned
    std::uint32_t b = 0;  // receiver node
    std::unique_ptr<replica::PeerMessage> peer;
    std::unique_ptr<replica::ClientRequest> request;
    std::unique_ptr<replica::ClientReply> reply;
    std::unique_ptr<gossip::GossipMessage> gossip;
    replica::ClientToken token = 0;
    FaultAction fault = FaultAction::heal;
    std::uint8_t held = 0;  // a peer message: times a down receiver's link held it (hold_for_restart)
};

// A scheduled fault or membership action.
inline Event fault_event(FaultAction action, std::uint32_t a = 0, std::uint32_t b = 0) {
    Event e;
    e.kind = EventKind::fault;
    e.fault = action;
    e.a = a;
    e.b = b;
    return e;
}

class Simulation;

// A node's turn plumbing: the Sink its released output goes to (the simulated network
// and clients) and the Committer that writes its batches to the simulated disk,
// taking simulated time for a synced one.
class NodeIo final : public turn::Sink, public turn::Committer {
public:
    NodeIo(Simulation& sim, std::uint32_t index) : sim_(sim), index_(index) {}
    void send(replica::Envelope& message) override;
    void send(gossip::GossipEnvelope& message) override;
    void reply(replica::ClientReply& reply) override;
    void commit(store::StagedBatch batch) override;

private:
    Simulation& sim_;
    std::uint32_t index_;
};

struct SimNode {
    NodeId id;
    store::MemStore disk;
    std::unique_ptr<store::BufferedStore> buffered;
    std::unique_ptr<health::Detector> detector;  // the one its gossiper and core share
    std::unique_ptr<replica::Node> core;
    // The turn driver shoald runs, over core and buffered; the batch it has out.
    std::unique_ptr<NodeIo> io;
    std::unique_ptr<turn::Driver> driver;
    std::optional<store::StagedBatch> committing;
    bool up = true;
    std::int64_t skew_us = 0;
    std::uint64_t epoch = 0;  // bumps on crash: stale ticks of an earlier life are ignored
    // Membership scenarios: the gossiper beside the core (saving its view straight to
    // `disk`, synced), the glue between them that shoald runs, and the node's life.
    std::unique_ptr<Rng> gossip_rng;
    std::unique_ptr<gossip::Gossiper> gossip;
    std::unique_ptr<membership::Glue> glue;
    std::vector<std::string> seeds;
    bool joined() const { return glue && glue->joined(); }  // holds a founded cluster's ring: serves clients
    bool started = true;   // false until its scripted start
    bool gone = false;     // exited, or died for good: never restarts
};

// The name a map key's "cart" set field goes by in the history (the key, then "#cart").
std::string map_cart(const std::string& key);

enum class OpKind : std::uint8_t {
    cart_add, blind_write, remove, read,
    dt_add, dt_remove, dt_increment, dt_map_set, dt_map_increment,  // --datatypes
    dt_map_add, dt_map_discard,  // --datatypes: a map's set field ("cart"; see map_cart)
};

// Half of the keys (the odd ones) live in this namespace, so that namespaced keys go
// through every path the others do: hashing, storage, hints, repair, handoff, GC.
inline constexpr const char* k_sim_namespace = "carts";
// With --datatypes, half of those keys are sets and half counters, in these.
inline constexpr const char* k_sim_set_namespace = "dtcarts";
inline constexpr const char* k_sim_counter_namespace = "dtcount";
inline constexpr const char* k_sim_map_namespace = "dtmaps";
// The namespaces every simulated node has: the view's, `carts` (dvv), and the data-type
// ones, which keep `datatype_conflict`.
replica::Namespaces sim_namespaces(const replica::Namespaces& from_view, replica::ConflictMode datatype_conflict);

struct SimClient {
    std::uint32_t id = 0;
    bool busy = false;
    bool writing = false;  // second stage of a read-modify-write
    OpKind kind = OpKind::read;
    std::string key;       // as the nodes store it (the checkers' name for it)
    std::string ns;        // its namespace ("" : default) and its key within it,
    std::string user_key;  // as the client names it
    std::string item;
    std::string value;
    std::string update;  // a data-type write: the encoded update
    replica::VersionVector context;
    replica::ClientToken token = 0;  // the attempt in flight
    std::uint32_t node = 0;
    int attempts = 0;
    Time op_started;
    std::vector<Time> avoid_until;  // per node: the client saw it fail
    std::uint64_t seq = 0;
};

class Simulation final : public replica::NodeEvents {
    friend class NodeIo;

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
    // Node i's clocks: its monotonic clock runs with the simulation's; its wall clock
    // is off by its skew (clock jumps move only that one, as NTP steps do).
    // (With one_clock, the teeth, the jump moves both.)
    Now node_now(std::uint32_t i) const {
        const std::int64_t skew = nodes_[i]->skew_us;
        return Now{Instant{now_.us + (config_.one_clock ? skew : 0)}, Time{now_.us + skew}};
    }
    void after_node_turn(std::uint32_t i);
    // False when the link from -> to is stalled: the message vanishes. Reopens it first
    // when the sender would (see stalls_).
    bool link_delivers(std::uint32_t from, std::uint32_t to);
    // Builds node i's driver over its core (and gossiper), or drops it.
    void attach_driver(std::uint32_t i);
    void detach_driver(std::uint32_t i);
    // Writes node i's batch out to its disk and tells the driver.
    void complete_commit(std::uint32_t i);
    // Completes node i's commits until nothing waits (a clean exit, the end checks).
    void settle_commits(std::uint32_t i);
    // The moment a write's acknowledgement leaves its coordinator, at least W disks
    // must hold it (or a later state that covers it) durably: what a crash of every
    // node right then would keep.
    void check_durable_ack(const replica::ClientReply& reply);
    void send_peer(std::uint32_t from, replica::Envelope& envelope);
    void hold_for_restart(Event e);
    Duration link_delay();
    // How many copies of a message the link delivers: 0 (dropped), 1 or 2 (duplicated).
    int link_copies();
    void trace(std::uint64_t v) { trace_ = hash_combine(trace_, v); }
    void finish_checks();
    // Data types (datatypes_sim.cpp): the next op on a data-type key, a read's outcome
    // for one, and the end checks over every key's merge of all nodes' copies.
    bool begin_datatype_op(SimClient& client, std::uint64_t k);
    bool datatype_read_done(SimClient& client, const replica::ClientReply& reply);
    void check_datatypes(const std::map<std::string, SiblingSet>& merged);
    // Reads every node's stored objects: per key, per node (nullptr: none). Values
    // failing their checksum count as present and different from every other.
    std::map<std::string, std::vector<std::unique_ptr<SiblingSet>>> stored_objects(std::uint64_t& bytes_on, std::uint32_t node);
    std::uint64_t count_divergent(std::vector<std::string>* keys);
    std::string hint_targets(std::uint32_t node);
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

    // Membership scenarios (membership.cpp).
    bool membership() const { return is_membership(config_.scenario); }
    void plan_bootstrap();
    void plan_membership(Time t0);
    void apply_membership(const Event& event);
    void member_ready();
    void member_join(std::uint32_t i, std::uint32_t seed_plus_one);
    void crash_mover();
    void start_gossip(std::uint32_t i);
    std::shared_ptr<const ring::Ring> placeholder_ring(std::uint32_t i) const;
    // The shell's Membership::sync: finished streams to the gossiper; a changed view's
    // ring and handoff plan to the core.
    void membership_sync(std::uint32_t i);
    void send_gossip(std::uint32_t from, gossip::GossipEnvelope& envelope);
    void deliver_gossip(Event& event);
    // A request to a node that never started or is gone (connection refused), or to
    // one not yet in a founded cluster: errc::unavailable at once.
    void refuse_client(const Event& request);
    // A node whose gossiper says it is exiting or removed shuts down for good.
    void exit_node(std::uint32_t i);
    // Live, valid members, by index.
    std::vector<std::uint32_t> valid_members() const;
    void finish_membership_checks();
    void check_agreement(const std::vector<std::uint32_t>& live);
    void check_owners(const gossip::ClusterView& view, const ring::Ring& ring);
    void check_owner_holds(const gossip::ClusterView& view, const ring::Ring& ring);

    SimConfig config_;
    Rng rng_;
    Time now_;
    std::uint64_t next_seq_ = 0;
    std::map<std::pair<std::int64_t, std::uint64_t>, Event> queue_;
    std::shared_ptr<const ring::Ring> ring_;
    std::vector<std::unique_ptr<SimNode>> nodes_;
    std::vector<SimClient> clients_;
    std::vector<std::vector<bool>> blocked_;  // blocked_[from][to]
    // Stalled links (from, to): what is sent on them vanishes until the sender reopens
    // the link as shoald's does -- when its core stops believing the peer up (a
    // redial on suspicion), or once a message has waited the stall bound (the link's
    // watchdog). The value: when the first message vanished (-1: none yet).
    std::map<std::pair<std::uint32_t, std::uint32_t>, Time> stalls_;
    static constexpr Duration k_stall_bound = Duration::seconds(4);  // LinkTimeouts::stall
    bool workload_on_ = true;
    bool faults_on_ = true;
    Time stop_work_;  // the workload ends and everything heals
    // Membership scenarios: the statuses expected at the end (by index) and the
    // planned split.
    std::map<std::uint32_t, gossip::MemberStatus> expected_;
    std::vector<bool> split_side_;
    Time minority_from_{-1}, minority_to_{-1};
    Time wiped_at_{-1};
    Time one_key_at_{-1};
    std::uint32_t wiped_node_ = 0;
    std::uint64_t ae_bytes_base_ = 0;  // at the start of the measurement in progress
    std::uint64_t ae_bytes_retired_ = 0;  // sent by node lives that have ended
    History history_;
    RunResult result_;
    std::uint64_t trace_ = 0;
};

}  // namespace shoal::sim
