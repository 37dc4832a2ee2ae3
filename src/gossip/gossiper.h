// The gossip state machine of one node, sans I/O: messages and time go in, messages
// to send come out. It owns the node's ClusterView and spreads it by push-pull rounds:
//
//   every `interval`, to one random active peer the detector believes up:
//     A -> B  Syn  {A's digest}                 (plus A's whole view when B is a seed)
//     B -> A  Ack  {B's digest, B's view if the digests differ}
//     A -> B  Ack2 {A's merged view}            (only if B still lacks something)
//
// and a quiet cluster exchanges only digests. Each received view passes authority.h's
// admit() first: a node takes from a sender only what the sender may write, so records
// spread from their authors, not by relays: an author pushes its whole view to every
// active member after a change it made, and heartbeats (to every active member each
// `heartbeat_interval`) carry the sender's record version and the claimant's ruled
// digest, so a node that holds less pulls. A node whose view holds no other member
// sends its Syn (with its view) to a random seed address instead; a node configured
// with no seeds founds a new cluster. Heartbeats also feed the phi-accrual detector,
// which routing asks and which decides who is absent (and so who rules).
//
// When this node is the claimant (the lowest-id valid member of its view), every view
// change and every round runs claim reconcile (claim.h). The view is saved to the store
// after each change, so a restarted node resumes where it was.
//
// The shell's duties: call tick() at least every interval (more often is fine); feed
// step() with decoded messages and their sender's id; send what take_output() returns
// (to `to` when known, else to `address`); when view_epoch() changes, install ring()
// in the replica Node and act on this node's own status (exiting/removed: shut down).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <system_error>
#include <variant>
#include <vector>

#include "core/rng.h"
#include "core/types.h"
#include "gossip/authority.h"
#include "gossip/claim.h"
#include "health/detector.h"
#include "gossip/messages.h"
#include "gossip/view.h"
#include "store/store.h"

namespace shoal::gossip {

struct GossipConfig {
    NodeId id;
    std::string peer_address;
    std::string client_address;
    std::string http_address;
    std::string zone;
    std::uint32_t partition_count = ring::k_default_partitions;  // fixed at cluster creation
    // Peer addresses of existing members to join through. Empty: found a new cluster
    // (only the first node of a cluster should start without seeds).
    std::vector<std::string> seeds;
    Duration interval = Duration::seconds(1);
    Duration heartbeat_interval = Duration::seconds(1);  // zero: no heartbeats
    bool sync_saves = true;  // save the view with a synced write
};

struct GossipStats {
    std::uint64_t rounds = 0;
    std::uint64_t seed_contacts = 0;
    std::uint64_t full_views_sent = 0;
    std::uint64_t views_merged = 0;  // merges that changed this node's view
    std::uint64_t rejected = 0;      // views of another cluster (its id or partition count differs)
    std::uint64_t reconciles = 0;    // claimant reconciles that changed the claim
    // Records put back because the sender may not write them (authority.h): mostly
    // relays of what others wrote, so no sign of an attack by itself.
    std::uint64_t hearsay_dropped = 0;
    std::uint64_t pulls = 0;  // views asked of a member whose heartbeat showed this node behind
    std::uint64_t store_errors = 0;
};

class Gossiper {
public:
    // Resumes the view saved in `store` if there is one (taking the next incarnation),
    // else starts a view holding only this node, joining. `rng` and `store` must
    // outlive the Gossiper. A saved view that does not decode is reported by
    // load_error() and replaced by a fresh one (gossip refills it).
    // `detector` is the node's one failure detector (the replica Node is handed the
    // same): the Gossiper feeds it what members send and asks it whom to gossip with.
    Gossiper(GossipConfig config, Rng& rng, store::Store& store, health::Detector& detector);
    Gossiper(const Gossiper&) = delete;
    Gossiper& operator=(const Gossiper&) = delete;

    // Time passed: runs a gossip round and heartbeats when due.
    void tick(Instant now);
    // A message from `from` arrived.
    void step(Instant now, NodeId from, const GossipMessage& message);
    // Moves everything to send into `out` (cleared first).
    void take_output(GossipOutbox& out);

    // ---- membership commands (an operator's) ----
    // Changing another member's status goes through the ruler (authority.h): on any
    // other node leave(member) and remove(member) are errc::precondition_failed, and
    // ruler() names the node to send them to.
    // A node alone in its own cluster joins another through `seeds` (peer addresses):
    // its own one-node view is dropped and it announces itself as joining. The caller
    // checks that the node holds no data. errc::bad_request when the view has other
    // members or seeds is empty.
    std::error_code join(Instant now, std::vector<std::string> seeds);
    // This node leaves: it keeps serving until its partitions are handed off, then
    // the claimant marks it exiting. errc::bad_request if it is not valid or joining.
    std::error_code leave(Instant now);
    // Marks another member leaving (the same as it calling leave()).
    std::error_code leave(Instant now, NodeId member);
    // Forced removal of a (dead) member: its partitions are reassigned without
    // handoff; surviving replicas refill the new owners. errc::not_found for an unknown
    // member, errc::bad_request for this node itself or one already exiting/removed.
    std::error_code remove(Instant now, NodeId member);
    // Creates a namespace (errc::precondition_failed when it exists; `default` always
    // does) or changes one (errc::no_namespace when it does not exist; `default` may be
    // set, which overrides the node's own defaults on every node). The record gets the
    // next version and this node's id. errc::bad_request for a bad name or
    // properties, errc::overloaded past k_max_namespaces.
    std::error_code put_namespace(Instant now, std::string_view name, const NamespaceProps& props, bool create);
    // The transfer of `p` from `from` to `to` finished (called by the node that ran it).
    // False when the view no longer has that move pending (stale: nothing to do).
    bool complete_handoff(Instant now, PartitionId p, NodeId from, NodeId to);

    // ---- what the shell and status output read ----
    const ClusterView& view() const { return view_; }
    // Bumped on every change of the view; compare to know when to reinstall ring().
    std::uint64_t view_epoch() const { return epoch_; }
    // The routing ring of current owners; nullptr until the cluster is founded.
    std::shared_ptr<const ring::Ring> ring();
    MemberStatus self_status() const { return status_of(view_, config_.id); }
    // True once this node is exiting or removed: it takes no part in gossip any more
    // (unless following, below).
    bool stopped() const { return self_status() >= MemberStatus::exiting; }
    // A node that has left but still hands data over (hints for members that may
    // themselves leave meanwhile) keeps pulling views: a digest to a member each
    // round, merging what comes back. It answers no one and sends no heartbeats.
    void set_following(bool following) { following_ = following; }
    bool is_claimant() const { return claimant(view_) == config_.id; }
    // The member that may rule on statuses and the claim as this node sees it: the
    // claimant, or the lowest-id valid member that is not absent (authority.h).
    NodeId ruler(Instant now) const;
    // This node may change `member`'s status: it is the claimant, or the ruler and
    // `member` is absent here (the claimant it replaces).
    bool may_rule(Instant now, NodeId member) const;
    // No frame from `peer` for long enough: silent to the detector, or never heard
    // although this node has been running for absent_after() (never true for self).
    bool absent(NodeId peer, Instant now) const;
    Duration absent_after() const;
    // The peer's frames arrive on time (the detector does not find it silent).
    bool believes_up(NodeId peer, Instant now) const { return peer == config_.id || !detector_.silent(peer, now); }
    double phi(NodeId peer, Instant now) const { return detector_.phi(peer, now); }
    // Partitions moving from this node (it streams them) and to it.
    std::vector<ring::Move> outgoing_moves() const;
    std::vector<ring::Move> incoming_moves() const;
    std::uint32_t incarnation() const { return incarnation_; }
    std::error_code load_error() const { return load_error_; }
    const GossipStats& stats() const { return stats_; }
    const GossipConfig& config() const { return config_; }

private:
    void start_view();
    void round(Instant now);
    void send_heartbeats(Instant now);
    // A gossip frame from `peer`: evidence for the detector, from members only.
    void heard_from(Instant now, NodeId peer);
    void on_syn(Instant now, NodeId from, const GossipSyn& syn);
    void on_ack(Instant now, NodeId from, const GossipAck& ack);
    void on_heartbeat(Instant now, NodeId from, const Heartbeat& hb);
    // Merges of a view received from `from` what `from` may write (authority.h); false
    // if it belongs to another cluster shape.
    bool absorb(Instant now, NodeId from, const ClusterView& other);
    Standing standing(Instant now) const;
    // absent(·, now) as the predicate authority.h takes.
    std::function<bool(NodeId)> absence(Instant now) const;
    // Sends the whole view to every active peer (a change this node made: only it can
    // tell the others, relays are not taken).
    void push(Instant now);
    // After any local or merged change: refute stale self data, reconcile when
    // claimant, save, bump the epoch.
    void changed(Instant now);
    bool maintain();
    std::uint64_t current_digest();
    std::uint64_t current_ruled_digest();
    bool refute_self();
    std::vector<NodeId> active_peers() const;
    std::string address_of(NodeId id) const;
    void send(NodeId to, std::string address, GossipMessage message);

    GossipConfig config_;
    Rng& rng_;
    store::Store& store_;
    health::Detector& detector_;
    ClusterView view_;
    std::uint32_t incarnation_ = 1;
    std::uint64_t epoch_ = 1;
    std::uint64_t heartbeat_seq_ = 0;
    bool following_ = false;
    std::optional<Instant> next_round_;
    std::optional<Instant> next_heartbeat_;
    bool unsaved_ = false;
    bool push_ = false;                // this node changed what only it may write
    std::optional<Instant> started_;   // the first tick or step
    std::set<NodeId> direct_;          // members whose record this node has from themselves
    std::shared_ptr<const ring::Ring> ring_;
    std::uint64_t ring_epoch_ = 0;
    std::uint64_t digest_ = 0;
    std::uint64_t digest_epoch_ = 0;
    std::uint64_t ruled_ = 0;
    std::uint64_t ruled_epoch_ = 0;
    std::error_code load_error_;
    GossipOutbox out_;
    GossipStats stats_;
};

}  // namespace shoal::gossip
