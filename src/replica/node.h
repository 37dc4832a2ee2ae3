// The replication core of one node, as a sans-I/O state machine: client requests
// and peer messages go in, with the time; messages to send and client replies come
// out. It coordinates gets and puts (sloppy quorums), acts as a replica (applies
// writes, issues dots, answers reads), sends read repair, and keeps a simple
// reply-driven failure detector for routing.
//
// It never touches a socket, a clock, a thread or a random source. Its one
// synchronous dependency is the store it stages writes in; what take_output() hands
// out carries the turn's write batch beside its messages and replies, and the turn
// driver (turn/driver.h) persists the one before it releases the others, so no
// acknowledgement leaves the node before the write it acknowledges is durable.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <set>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/assert.h"
#include "core/limits.h"
#include "core/types.h"
#include "health/detector.h"
#include "replica/handoff.h"
#include "replica/exchanges.h"
#include "replica/get_coordinator.h"
#include "replica/hints.h"
#include "replica/list_coordinator.h"
#include "replica/reaper.h"
#include "replica/merkle.h"
#include "replica/messages.h"
#include "replica/quorum.h"
#include "replica/namespaces.h"
#include "replica/node_output.h"
#include "replica/put_coordinator.h"
#include "replica/version.h"
#include "ring/ring.h"
#include "store/buffered_store.h"

namespace shoal::replica {

// The repair paths: hinted handoff, Merkle-tree anti-entropy and tombstone GC.
struct RepairConfig {
    bool hinted_handoff = true;  // deliver hints to their primaries
    bool anti_entropy = true;    // compare and exchange with the other primaries
    Duration hint_interval = Duration::millis(200);
    std::size_t hint_batch_keys = 64;
    std::size_t hint_batch_bytes = k_batch_bytes;  // frames stay under max_frame_bytes (core/limits.h)
    std::uint64_t max_hints = 100'000;        // per node; over it a fallback refuses the write
    std::uint64_t max_hint_bytes = 256 << 20;  // per node
    Duration ae_interval = Duration::millis(250);  // between exchange starts
    std::size_t ae_max_parallel = 4;               // exchanges in flight, one per peer
    std::uint32_t ae_max_leaves = 64;              // leaves per key-exchange step
    std::size_t ae_batch_keys = 1024;              // keys listed per step
    std::size_t ae_batch_bytes = k_batch_bytes;    // key or state bytes per message
    Duration ae_timeout = Duration::seconds(5);
    Duration scrub_interval = Duration::seconds(10);  // one partition's tree rebuilt from disk
    Duration tombstone_grace = Duration::seconds(24 * 3600);
    Duration gc_interval = Duration::seconds(1);
    std::size_t gc_batch = 256;                   // candidates looked at per GC round
    std::size_t max_gc_candidates = 1'000'000;    // more wait for the next start's scan
    // A reaped key's context is remembered this long (and for at most this many
    // keys): a stale copy arriving late (a hint held through a long partition) is
    // recognised as deleted instead of coming back.
    Duration reaped_memory = Duration::seconds(24 * 3600);
    std::size_t max_recently_reaped = 100'000;
};

enum class ReadFanout { quorum, all };

struct NodeConfig {
    NodeId id;
    std::uint32_t incarnation = 1;  // bumped by the shell on every start
    Limits limits;
    std::uint32_t n = 3;
    std::uint32_t r = 2;
    std::uint32_t w = 2;
    Duration request_timeout = Duration::seconds(2);
    Duration max_request_timeout = Duration::seconds(60);
    ConflictMode conflict = ConflictMode::dvv;
    bool read_repair = true;
    // How many of a key's targets a read asks at first: `quorum` asks R of them (this
    // node first when it holds a copy) and more only when one fails or stays silent
    // past `read_retry`; `all` asks every target at once (more read repair, twice the
    // messages per read at N=3, R=2).
    ReadFanout read_fanout = ReadFanout::quorum;
    Duration read_retry = Duration::millis(20);
    RepairConfig repair;
    HandoffConfig handoff;
};

// What happened inside the core that an observer (the simulator's checkers, the
// metrics) may want to know. Default: nothing.
class NodeEvents {
public:
    virtual ~NodeEvents() = default;
    // A leader issued `dot` for a write whose writer had read `writer_context`.
    virtual void dot_issued(const std::string& key, const Dot& dot, const VersionVector& writer_context) {
        (void)key, (void)dot, (void)writer_context;
    }
    // Decisions an operator may want to follow (shoald logs them at debug):
    // a client request went to `targets` (primaries first; `fallbacks` of them stand in
    // for primaries believed down), led by `leader` (writes; invalid for reads).
    virtual void routed(std::string_view key, ClientOp op, const std::vector<NodeId>& targets, std::size_t fallbacks,
                        NodeId leader) {
        (void)key, (void)op, (void)targets, (void)fallbacks, (void)leader;
    }
    // A write's leader stayed silent; `to` leads it now.
    virtual void leader_failover(std::string_view key, NodeId from, NodeId to) { (void)key, (void)from, (void)to; }
    // A read found `to`'s copy stale or damaged and sent it the merged state.
    virtual void read_repair(std::string_view key, NodeId to) { (void)key, (void)to; }
    // An anti-entropy exchange with `peer` over `p` ended (complete: the trees agreed
    // or every differing key was exchanged; else aborted or timed out).
    virtual void exchange_finished(NodeId peer, PartitionId p, bool complete) { (void)peer, (void)p, (void)complete; }
    // `count` hinted writes reached their primary `target`.
    virtual void hints_delivered(NodeId target, std::size_t count) { (void)target, (void)count; }
};

class Node {
public:
    // `store` stages this node's writes; take_output() takes them out of it.
    // `detector` is the node's one failure detector (its Gossiper is handed the same):
    // the Node tells it which peers answered and which missed, probes the ones it finds
    // down, and routes around them.
    Node(NodeConfig config, store::BufferedStore& store, std::shared_ptr<const ring::Ring> ring,
         health::Detector& detector, NodeEvents* events = nullptr);
    Node(const Node&) = delete;
    Node& operator=(const Node&) = delete;

    // A client asks for a get, put or delete. The reply comes out of take_output()
    // (perhaps in this very call, for bad input) carrying `token`.
    void submit(Now now, ClientToken token, ClientRequest request);

    // A peer message arrived. An answer (is_answer) marks `from` up for routing.
    void step(Now now, NodeId from, PeerMessage message);

    // Time passed: expire deadlines, probe peers believed down.
    void tick(Now now);

    // Moves everything to send into `out` (which is cleared first), with the writes
    // staged since the last call.
    void take_output(Outbox& out);

    // Installs a new ring (membership change). In-flight requests keep their targets.
    void set_ring(std::shared_ptr<const ring::Ring> ring);

    // Installs the cluster's namespaces (membership's view). A request naming another
    // is refused (errc::no_namespace); a replica applies the conflict mode of the
    // namespaces it knows (conflict_of).
    void set_namespaces(Namespaces namespaces) { namespaces_ = std::move(namespaces); }
    const Namespaces& namespaces() const { return namespaces_; }

    // Installs the moves in progress (membership's view) with what each carries and
    // where writes are forwarded (plan_handoffs). This node's outgoing streams run in
    // tick(); a stream that stays in the plan keeps its progress, one that leaves it
    // stops. Each stream resumes after a restart from its saved position.
    void set_handoffs(HandoffPlan plan);
    // Moves whose stream this node finished since the last call: the shell reports
    // each to membership, which then switches the slot's owner.
    std::vector<Move> take_completed_handoffs();
    // True when nothing this node holds is waiting to go elsewhere: the check for
    // copies it no longer keeps has run on the current ring and plan, and every hint
    // is delivered. A node that has left the cluster exits only then.
    bool handed_over() const { return !recheck_kept_ && !handover_ && hints_.pending() == 0; }
    std::vector<HandoffProgress> handoff_progress() const;

    // Routing health of a peer at the last step's clock (the detector's up()).
    bool believes_up(NodeId peer) const;
    // Client requests waiting for their reply. (A get that has answered stays a little
    // longer for read repair; it does not count.)
    std::size_t inflight() const {
        SHOAL_ASSERT(replied_gets_ <= gets_.size());
        return puts_.size() + gets_.size() - replied_gets_ + lists_.size();
    }
    NodeStats stats() const {
        NodeStats s = stats_;
        s.hints_pending = hints_.pending();
        s.hint_bytes_pending = hints_.bytes();
        s.gc_candidates = reaper_.candidates();
        return s;
    }
    const NodeConfig& config() const { return config_; }
    const std::shared_ptr<const ring::Ring>& ring() const { return ring_; }
    ActorId actor() const { return actor_; }

    // The turn driver calls this when batches from `seq` on were lost: requests whose
    // answer rests on them fail (store_error), the state kept in memory beside the
    // store (trees, hint counts, GC candidates) is read again from it, and the node
    // takes a new actor before it issues another dot.
    void writes_lost(std::uint64_t seq);
    // The turn driver calls this when every batch up to `seq` is durable: this node's
    // own copies in them now count towards their puts' w (a put may be answered here,
    // with the clock of the node's last step).
    void writes_durable(std::uint64_t seq);
    // The shell's word that the store refuses writes (a full disk; empty: fine again).
    // Meanwhile this node leads no put and takes no replica write (each is answered with
    // the error at once, so coordinators go to the other replicas); it still serves reads.
    void set_store_failing(std::error_code ec) { store_failing_ = ec; }

    // Reads this node's local state of a key (no quorum): for tools and checkers.
    std::error_code read_local(std::string_view key, SiblingSet& out);

    // The anti-entropy root of a partition here (0 when this node holds nothing of it).
    std::uint64_t merkle_root(PartitionId p) const;
    // Hints waiting for delivery, all targets.
    std::uint64_t hints_pending() const { return hints_.pending(); }
    // One exchange in progress (the one with the lowest peer id), and how many run.
    struct ExchangeView {
        bool active = false;
        PartitionId partition;
        NodeId peer;
        std::size_t leaves_left = 0;
        std::size_t running = 0;
    };
    ExchangeView exchange() const;
    // Exchanges this node started that were aborted (timed out or refused), by peer.
    const std::map<NodeId, std::uint64_t>& ae_aborted_by_peer() const { return exchanges_.aborted_by_peer(); }

private:
    struct Deadline {
        Instant at;
        RequestId req;
        friend bool operator>(const Deadline& a, const Deadline& b) {
            return a.at != b.at ? a.at > b.at : a.req > b.req;
        }
    };

    // Client side.
    std::error_code validate(const ClientRequest& request, RequestOptions& resolved) const;
    void start_put(Now now, ClientToken token, ClientRequest& request, const RequestOptions& opts);
    void start_get(Now now, ClientToken token, ClientRequest& request, const RequestOptions& opts,
                   bool then_delete = false);
    // The second half of a delete without a context: deletes what the read found.
    void delete_what_was_read(Now now, GetCoordinator& get, RequestOptions opts);
    // Refuses a request whose targets are fewer than `needed`, saying why: how many of
    // the key's primaries are believed down and how many targets were left.
    // Tells events_ (set) where a request went.
    void note_routed(std::string_view key, ClientOp op, const std::vector<Target>& targets, NodeId leader);
    void fail_unavailable(ClientToken token, const std::vector<Target>& targets, std::uint32_t n,
                          std::uint32_t needed);
    void pick_targets(std::string_view key, std::uint32_t n, std::vector<Target>& out) const;
    // The next target that has neither failed nor answered leads the put; false when
    // none is left.
    bool pass_leadership(Now now, RequestId req, PutCoordinator& put);
    // Target `leader` leads the put: it is sent the write, with half the time left.
    void send_to_leader(Now now, RequestId req, PutCoordinator& put, std::size_t leader);
    void on_put_leader_resp(Now now, NodeId from, PutLeaderResp& resp);
    void on_replicate_resp(Now now, NodeId from, const ReplicateResp& resp);
    // The write a put replicates as a patch (ReplicateDelta), for its primaries: nullopt
    // unless its leader sent a patch (PutLeaderResp::patch) smaller than the one value
    // the write left, and the pending deltas leave room for it (deltas_).
    std::optional<ReplicateDelta> delta_of(RequestId req, const PutCoordinator& put, std::string patch) const;
    void on_get_resp(Now now, NodeId from, GetResp& resp);
    void maybe_finish_put(Now now, RequestId req, PutCoordinator& put);
    void finish_get(RequestId req, GetCoordinator& get);
    // Asks the read's targets not yet asked (GetCoordinator::ask); returns how many.
    // This node among them is not sent a message: `*own` is set, and the caller reads
    // the own copy (only a read's first ask may include it).
    std::size_t ask(RequestId req, GetCoordinator& get, bool everyone, bool* own = nullptr);
    void reply_get(Now now, GetCoordinator& get);
    // Key listing (list_path.cpp): one page, from r of the partition's primaries.
    void start_list(Now now, ClientToken token, ClientRequest& request, const RequestOptions& opts);
    void on_list_resp(Now now, NodeId from, ListResp& page);
    void expire_list(Now now, RequestId req, ListCoordinator& list);
    ListResp list_here(Now now, const ListReq& m);
    void expire(Now now, RequestId req);
    void expire_put(Now now, RequestId req, PutCoordinator& put);
    void expire_get(Now now, RequestId req, GetCoordinator& get);
    // Queues a request's deadline, once. deadlines_ holds each request's nearest instant
    // only (a leader's `until`, a read's retry); the deadline joins when that one passes
    // with the request still open, so the queue holds few entries of requests long
    // finished.
    template <class Coordinator>
    void queue_deadline(RequestId req, Coordinator& c) {
        if (c.queue_deadline_once()) deadlines_.push({c.deadline(), req});
    }
    void fail(ClientToken token, errc code, std::uint32_t replies, std::uint32_t required);
    // A target's good answer to a put counts towards w; this node's own waits until the
    // batch holding it is durable (writes_durable).
    void count_copy(RequestId req, PutCoordinator& put, const Target& t, NodeId from);

    // Replica side: each handler returns its answer, which dispatch sends to the peer
    // that asked; a coordinator that is itself a target calls it directly.
    PutLeaderResp lead(Now now, NodeId from, PutLeaderReq& req);
    std::error_code apply_update(Now now, const SiblingSet& local, WriteOp& op) const;
    ReplicateResp replicate(ReplicateReq& req);
    ReplicateResp replicate_delta(ReplicateDelta& req);
    GetResp read_here(RequestId req, std::string_view key);
    // Read repair or a forwarded write of this node's own copy (no answer wanted).
    void replicate_here(ReplicateReq req);
    std::error_code load(std::string_view key, SiblingSet& out);
    // The same, with the tree entry of what it read (entry_of; 0 when absent or corrupt).
    std::error_code load(std::string_view key, SiblingSet& out, std::uint64_t& entry);
    // Writes a key's new state; `old_entry` is its current tree entry (entry_of). A
    // state that would not decode again (too many actors or siblings) or whose stored
    // form is over `bound` bytes (0: max_carried_state_bytes) is not written:
    // errc::state_too_large.
    std::error_code save(std::string_view key, const SiblingSet& state, std::uint64_t old_entry,
                         std::size_t bound = 0);
    std::error_code remove(std::string_view key, std::uint64_t old_entry);
    std::uint64_t entry_of(std::string_view key, const SiblingSet& state) const;
    // entry_of for a state whose stored form (encode_stored's bytes) is at hand.
    std::uint64_t entry_of_stored(std::string_view key, const SiblingSet& state, std::string_view stored) const;
    // Decodes a stored value into `state` and returns its tree entry; a value that
    // fails its checksum sets `corrupt` and gets MerkleTree::corrupt_entry_hash.
    std::uint64_t stored_entry(std::string_view key, std::string_view bytes, SiblingSet& state, bool& corrupt) const;
    // Merges a peer's state of a key into ours (replication, read repair, hints,
    // anti-entropy). A stored value that fails its checksum is replaced.
    std::error_code merge_in(std::string_view key, const SiblingSet& incoming, bool& changed);
    // Merges a batch of peer states (hints, handoff); counts the keys merged. Stops at
    // the first bad key or store error, which is the batch's answer.
    // `hand_over`: keys of partitions this node does not keep go on to their primaries
    // (hint batches: yes; handoff batches, which only an incoming primary accepts: no).
    errc merge_items(const std::vector<KeyState>& items, std::uint64_t& merged, bool hand_over_unkept = true);
    // Hinted handoff (hinted.cpp). A write for `hint_for` (a primary this node stands
    // in for) that the hint store has no room for: counted in hints_dropped.
    bool hint_refused(NodeId hint_for, std::size_t bytes);
    // After a write landed here: a hint for the primary it stood in for, else, when
    // this node does not keep the key, hints to the key's primaries (hand_over).
    void after_write(NodeId hint_for, std::string_view key, std::size_t bytes);
    // Reads the stored hints to `target`, in order, into `out`: at most `max_hints`, and
    // stopping once they count `max_bytes`.
    std::error_code read_hints(NodeId target, std::size_t max_hints, std::size_t max_bytes,
                               std::vector<HintQueue::Hint>& out);
    // Writes a hint to `target` naming `key` and counts it in hints_.
    void store_hint(NodeId target, std::string_view key, std::size_t bytes);
    void deliver_hints(Instant now);
    // Hints for a node that is no longer in the ring (it exited or was removed) can
    // never be delivered: they become hints for the key's current primaries.
    void retarget_hints(NodeId gone);
    void on_hint_batch(NodeId from, HintBatch& batch);
    void on_hint_ack(Now now, NodeId from, const HintAck& ack);

    // Repair (repair.cpp).
    // Rebuilds what is kept in memory beside the store, after writes were lost.
    void reload_from_store();
    void rebuild_from_store();
    void rebuild_tree(PartitionId p);
    MerkleTree& tree(PartitionId p);
    void note_state(std::string_view key, PartitionId p, const SiblingSet& state);
    // A store scan's result: true when it read everything; a failure is counted in
    // stats_.store_errors and the caller leaves what it was building for the next pass.
    bool scanned(std::error_code ec) {
        if (!ec) return true;
        ++stats_.store_errors;
        return false;
    }
    // A key this node holds but is no longer a primary of (nor an incoming one) is
    // handed to the current primaries as hints; once they have it, the copy goes.
    void hand_over(std::string_view key, std::size_t bytes);
    // This node keeps its copies of partition p: a primary, or an incoming one.
    bool keeps(PartitionId p) const;
    // The ring holds this node alone (a placeholder before it joins a cluster): there
    // is no one to hand anything to.
    bool alone() const { return ring_->members().size() <= 1; }
    // Hands over the keys this node holds in partitions it does not keep (a ring or
    // plan change moved them away, a stale peer wrote them here, or it was down when
    // they moved): a bounded step of the scan in handover_.
    void hand_over_unkept();
    // Takes a new actor id (a new persisted incarnation) for the dots issued from now on.
    bool retire_actor();
    using Exchange = Exchanges::Exchange;
    // Ends exchanges past their deadline; starts the next when one is due.
    void start_exchange(Instant now);
    // The exchange with `peer` whose id is `xid` (its deadline renewed: it answered).
    Exchange* exchange_with(Instant now, NodeId peer, std::uint64_t xid);
    void send_leaf_step(Exchange& ex);
    // Ends `ex` (removed: the reference dies).
    void finish_exchange(Exchange& ex, bool complete);
    void on_ae_tree(NodeId from, const AeTree& m);
    void on_ae_tree_resp(Now now, NodeId from, const AeTreeResp& m);
    void on_ae_keys(NodeId from, const AeKeys& m);
    void on_ae_keys_resp(Now now, NodeId from, AeKeysResp& m);
    void on_ae_states(NodeId from, AeStates& m);
    void on_ae_done(Now now, NodeId from, const AeDone& m);
    void collect_gc(Now now);
    void scrub(Instant now);
    template <typename Visit>
    std::error_code scan_leaves(PartitionId p, const std::vector<std::uint32_t>& leaves, Visit&& visit);

    // Ownership handoff (handoff.cpp).
    using Stream = HandoffStream;
    void stream_handoffs(Instant now);
    void send_handoff_batch(Instant now, Stream& s);
    void on_handoff_batch(NodeId from, HandoffBatch& batch);
    void on_handoff_ack(Now now, NodeId from, const HandoffAck& ack);
    void forward_write(std::string_view key, const SiblingSet& state, const std::vector<Target>& targets);

    // Plumbing.
    void send(NodeId to, PeerMessage message);
    void dispatch(Now now, NodeId from, PeerMessage& message);
    void submit_one(Now now, ClientToken token, ClientRequest& request);
    // Brackets one step (see Step); `floor`: what all its output rests on besides.
    void begin_step(std::uint64_t floor = 0);
    void end_step();
    // What the step under way sends and answers rests on batch `seq` too (state kept in
    // memory beside the store: the Merkle trees).
    void rest_on(std::uint64_t seq);
    // Raises the needs of out_'s items made since the last settling to at least `seq`.
    void settle(std::uint64_t seq);
    // A write's hint_for names a hint: another node (hinted.cpp).
    bool is_hint(NodeId hint_for) const;
    // `peer` was asked and did not answer in time (the detector's missed()).
    void missed(Instant now, NodeId peer);

    // keys_stored after a key's tree entry went from `old_entry` to `new_entry`.
    void count_stored(std::uint64_t old_entry, std::uint64_t new_entry);
    // The conflict mode a stored key's replicas keep (its namespace's).
    ConflictMode mode_of(std::string_view key) const { return conflict_of(namespaces_, key, config_.conflict); }
    // The sibling bound its leader checks: its namespace's, else the node's.
    std::uint32_t max_siblings_of(std::string_view key) const;

    NodeConfig config_;
    store::BufferedStore& store_;
    std::shared_ptr<const ring::Ring> ring_;
    Namespaces namespaces_;
    // The ring or the plan changed (or the node started): at the next tick, once
    // membership has installed a plan, look for copies this node no longer keeps.
    bool recheck_kept_ = true;
    bool plan_installed_ = false;
    // The scan that hands over what this node no longer keeps, resumed tick by tick.
    struct HandOverScan {
        std::uint32_t partition = 0;
        std::string after;  // last stored key looked at in that partition
    };
    std::optional<HandOverScan> handover_;  // a scan under way
    health::Detector& detector_;
    NodeEvents* events_;
    ActorId actor_;
    std::error_code store_failing_;  // set_store_failing
    bool must_retire_ = false;  // a lost batch may have carried this actor's dots: no more under it
    RequestId next_req_ = 1;
    std::uint64_t next_counter_ = 1;  // dots this actor issues only ever grow
    std::uint64_t next_ping_ = 1;
    std::unordered_map<RequestId, PutCoordinator> puts_;
    std::unordered_map<RequestId, GetCoordinator> gets_;
    std::unordered_map<RequestId, ListCoordinator> lists_;
    std::size_t replied_gets_ = 0;  // gets_ entries Answered
    // Data-type writes sent to primaries as patches and not yet answered by all: the
    // state each stands for (one sibling, as delta_of requires), for a replica that
    // asks for it (need_state), kept until the put's deadline at most, even after the
    // put is answered. At most max_inflight_requests of them, holding at most
    // max_pending_delta_bytes of values (delta_bytes_).
    struct PendingDelta {
        std::string key;
        SiblingSet state;
        std::vector<NodeId> waiting;
        Instant deadline;
        std::size_t value_bytes() const { return state.siblings.front().value.size(); }
    };
    std::unordered_map<RequestId, PendingDelta> deltas_;
    std::size_t delta_bytes_ = 0;
    void erase_delta(std::unordered_map<RequestId, PendingDelta>::iterator it) {
        delta_bytes_ -= it->second.value_bytes();
        deltas_.erase(it);
    }
    std::priority_queue<Deadline, std::vector<Deadline>, std::greater<>> deadlines_;
    // Puts whose own copy waits for its batch: (batch, request), in batch order.
    std::deque<std::pair<std::uint64_t, RequestId>> own_copies_;
    Now last_now_{};  // the clock of the last step
    Outbox out_;
    // The step under way (a request, a message, a tick): what it sends and answers from
    // these positions of out_ on rests on what it read and wrote
    // (store_.horizon()) and on `floor`. Output made outside a step rests on all the
    // turn's (turn_needs_).
    struct Step {
        bool active = false;
        std::size_t messages = 0, replies = 0;
        std::uint64_t floor = 0;
    };
    Step step_out_;
    std::size_t settled_messages_ = 0, settled_replies_ = 0;  // out_ items whose needs are final
    std::uint64_t turn_needs_ = 0;
    NodeStats stats_;
    std::string scratch_;

    // Anti-entropy trees, one per partition (allocated when first needed).
    std::vector<std::unique_ptr<MerkleTree>> trees_;

    HintQueue hints_;  // what waits for each target, and the batches in flight

    // Anti-entropy: the exchanges this node starts, and each pair's last complete one.
    // (Each life starts its cursor somewhere else, so that a node restarted often
    // still reaches every partition.)
    Exchanges exchanges_;
    // Steps of a counter that grows with every change of local state and every
    // exchange start: a local order immune to clock jumps.
    std::uint64_t step_ = 1;

    Reaper reaper_;  // tombstone GC: candidates, and keys recently reaped
    Instant next_scrub_;
    std::uint64_t scrub_cursor_ = 0;

    // Ownership handoff: the plan, and the streams this node sends.
    HandoffPlan handoff_;
    std::vector<HandoffStream> streams_;
    std::vector<Move> completed_;
    std::uint64_t next_handoff_seq_ = 1;
};

// Reads the incarnation saved in the store, adds one, saves it synced and returns
// it. The shell calls this once at start, before building the Node.
// `floor` is the least value to return: the shell passes the wall clock in seconds,
// so that a node whose disk was replaced (its saved incarnation lost) still never
// reuses an incarnation, and with it the dots of an earlier life.
std::error_code bump_incarnation(store::Store& store, std::uint32_t& incarnation, std::uint32_t floor = 0);

}  // namespace shoal::replica
