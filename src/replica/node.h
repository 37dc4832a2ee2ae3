// The replication core of one node, as a sans-I/O state machine: client requests
// and peer messages go in, with the time; messages to send and client replies come
// out. It coordinates gets and puts (sloppy quorums), acts as a replica (applies
// writes, issues dots, answers reads), sends read repair, and keeps a simple
// reply-driven failure detector for routing.
//
// It never touches a socket, a clock, a thread or a random source. Its one
// synchronous dependency is the Store; the shell must commit the store's pending
// writes (BufferedStore::commit) before it sends what take_output() returns, so no
// acknowledgement leaves the node before the write it acknowledges is durable.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <queue>
#include <unordered_map>
#include <vector>

#include "core/limits.h"
#include "core/types.h"
#include "replica/messages.h"
#include "replica/version.h"
#include "ring/ring.h"
#include "store/store.h"

namespace shoal::replica {

struct NodeConfig {
    NodeId id;
    std::uint32_t incarnation = 1;  // bumped by the shell on every start
    Limits limits;
    std::uint32_t n = 3;
    std::uint32_t r = 2;
    std::uint32_t w = 2;
    Duration request_timeout = Duration::seconds(2);
    Duration max_request_timeout = Duration::seconds(60);
    Duration ping_interval = Duration::millis(250);
    ConflictMode conflict = ConflictMode::dvv;
    bool read_repair = true;
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
};

struct NodeStats {
    std::uint64_t client_gets = 0;
    std::uint64_t client_puts = 0;
    std::uint64_t client_dels = 0;
    std::uint64_t client_errors = 0;
    std::uint64_t quorum_failures = 0;
    std::uint64_t read_repairs_sent = 0;
    std::uint64_t hints_stored = 0;
    std::uint64_t leader_failovers = 0;
    std::uint64_t store_errors = 0;
    std::uint64_t corrupt_reads = 0;
};

struct Outbox {
    std::vector<Envelope> messages;
    std::vector<ClientReply> replies;
    void clear() {
        messages.clear();
        replies.clear();
    }
};

class Node {
public:
    Node(NodeConfig config, store::Store& store, std::shared_ptr<const ring::Ring> ring, NodeEvents* events = nullptr);
    Node(const Node&) = delete;
    Node& operator=(const Node&) = delete;

    // A client asks for a get, put or delete. The reply comes out of take_output()
    // (perhaps in this very call, for bad input) carrying `token`.
    void submit(Time now, ClientToken token, ClientRequest request);

    // A peer message arrived.
    void step(Time now, NodeId from, PeerMessage message);

    // Time passed: expire deadlines, probe peers believed down.
    void tick(Time now);

    // Moves everything to send into `out` (which is cleared first).
    void take_output(Outbox& out);

    // Installs a new ring (membership change). In-flight requests keep their targets.
    void set_ring(std::shared_ptr<const ring::Ring> ring);

    // Routing health of a peer, as this node believes it.
    bool believes_up(NodeId peer) const;
    std::size_t inflight() const { return puts_.size() + gets_.size(); }
    const NodeStats& stats() const { return stats_; }
    const NodeConfig& config() const { return config_; }
    const std::shared_ptr<const ring::Ring>& ring() const { return ring_; }
    ActorId actor() const { return actor_; }

    // Reads this node's local state of a key (no quorum): for tools and checkers.
    std::error_code read_local(std::string_view key, SiblingSet& out);

    // One replica a request was sent to.
    struct Target {
        NodeId node;
        NodeId hint_for;  // a fallback's hint: the primary it stands in for
        bool primary = false;
        bool answered = false;
        bool failed = false;
    };

private:
    struct PutFsm {
        ClientToken token = 0;
        std::string key;
        WriteOp op;
        std::vector<Target> targets;
        int leader = -1;
        Time leader_deadline;
        Time deadline;
        std::uint32_t w = 0, pw = 0, acks = 0, primary_acks = 0;
        Dot dot;
        SiblingSet state;
    };
    struct GetFsm {
        ClientToken token = 0;
        std::string key;
        std::vector<Target> targets;
        std::vector<std::uint64_t> digests;  // per target, once answered
        Time deadline;
        std::uint32_t r = 0, pr = 0, replies = 0, primary_replies = 0;
        bool replied = false;
        SiblingSet merged;
    };
    struct PeerHealth {
        bool down = false;
        Time next_ping;
    };
    struct Deadline {
        Time at;
        RequestId req;
        friend bool operator>(const Deadline& a, const Deadline& b) {
            return a.at != b.at ? a.at > b.at : a.req > b.req;
        }
    };

    // Client side.
    std::error_code validate(const ClientRequest& request, RequestOptions& resolved) const;
    void start_put(Time now, ClientToken token, ClientRequest& request, const RequestOptions& opts);
    void start_get(Time now, ClientToken token, ClientRequest& request, const RequestOptions& opts);
    void pick_targets(std::string_view key, std::uint32_t n, std::vector<Target>& out) const;
    void send_to_leader(Time now, RequestId req, PutFsm& fsm);
    void on_put_leader_resp(NodeId from, PutLeaderResp& resp);
    void on_replicate_resp(NodeId from, const ReplicateResp& resp);
    void on_get_resp(Time now, NodeId from, GetResp& resp);
    void maybe_finish_put(RequestId req, PutFsm& fsm);
    void finish_get(RequestId req, GetFsm& fsm);
    void reply_get(Time now, GetFsm& fsm);
    void expire(Time now, RequestId req);
    void fail(ClientToken token, errc code, std::uint32_t replies, std::uint32_t required);

    // Replica side.
    void on_put_leader_req(NodeId from, PutLeaderReq& req);
    void on_replicate_req(NodeId from, ReplicateReq& req);
    void on_get_req(NodeId from, const GetReq& req);
    std::error_code load(std::string_view key, SiblingSet& out);
    std::error_code save(std::string_view key, const SiblingSet& state);
    void store_hint(NodeId target, std::string_view key);

    // Plumbing.
    void send(NodeId to, PeerMessage message);
    void dispatch(Time now, NodeId from, PeerMessage& message);
    void drain_local(Time now);
    void heard_from(NodeId peer);
    void missed(Time now, NodeId peer);

    NodeConfig config_;
    store::Store& store_;
    std::shared_ptr<const ring::Ring> ring_;
    NodeEvents* events_;
    ActorId actor_;
    RequestId next_req_ = 1;
    std::uint64_t next_hint_ = 1;
    std::uint64_t next_ping_ = 1;
    std::unordered_map<RequestId, PutFsm> puts_;
    std::unordered_map<RequestId, GetFsm> gets_;
    std::priority_queue<Deadline, std::vector<Deadline>, std::greater<>> deadlines_;
    std::unordered_map<NodeId, PeerHealth> health_;
    std::deque<PeerMessage> local_;  // messages this node sent to itself
    Outbox out_;
    NodeStats stats_;
    std::string scratch_;
};

// Reads the incarnation saved in the store, adds one, saves it synced and returns
// it. The shell calls this once at start, before building the Node.
std::error_code bump_incarnation(store::Store& store, std::uint32_t& incarnation);

}  // namespace shoal::replica
