#include "gossip/gossiper.h"

#include <algorithm>
#include <utility>

#include "core/assert.h"
#include "core/errc.h"
#include "core/hash.h"
#include "store/keys.h"

namespace shoal::gossip {

Gossiper::Gossiper(GossipConfig config, Rng& rng, store::Store& store, health::Detector& detector)
    : config_(std::move(config)), rng_(rng), store_(store), detector_(detector) {
    SHOAL_ASSERT(config_.id.valid());
    SHOAL_ASSERT(ring::valid_partition_count(config_.partition_count));
    SHOAL_ASSERT(config_.interval.us > 0);
    SHOAL_ASSERT(config_.peer_address.size() <= k_max_address_bytes);
    SHOAL_ASSERT(config_.zone.size() <= k_max_zone_bytes);
    start_view();
}

namespace {
// The seeds a `join` was given, saved so that a node restarted before it was admitted
// keeps joining instead of founding a cluster of its own. Newline-separated.
const std::string k_seeds_key = store::meta_key("gossip.seeds");
}  // namespace

// Resume the saved view when it fits this node's config, else start fresh.
void Gossiper::start_view() {
    if (config_.seeds.empty()) {
        std::optional<std::string> saved;
        if (!store_.get(k_seeds_key, saved) && saved) {
            std::string_view rest = *saved;
            while (!rest.empty() && config_.seeds.size() < k_max_seeds) {
                const std::size_t nl = rest.find('\n');
                const std::string_view one = rest.substr(0, nl);
                if (!one.empty() && one.size() <= k_max_address_bytes) config_.seeds.emplace_back(one);
                rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
            }
        }
    }
    view_ = ClusterView::empty(config_.partition_count);
    std::optional<ClusterView> saved;
    load_error_ = load_view(store_, saved);
    if (saved.has_value()) {
        if (saved.value().partition_count == config_.partition_count)
            view_.swap_with(saved.value());
        else
            load_error_ = make_error_code(errc::corrupt);
    }
    const MemberRecord* self = find_member(view_, config_.id);
    incarnation_ = self ? self->incarnation + 1 : 1;
    if (!self) {
        MemberRecord m;
        m.id = config_.id;
        view_.members.emplace(m.id, m);  // version 0: refute_self fills it in
    }
    refute_self();
    unsaved_ = true;
    if (auto ec = save_view(store_, view_, config_.sync_saves)) {
        stats_.store_errors += 1;
    } else {
        unsaved_ = false;
    }
}

// Makes this node's record carry its own payload, at a version above any seen.
bool Gossiper::refute_self() {
    MemberRecord& m = view_.members.at(config_.id);
    const bool same = m.incarnation == incarnation_ && m.peer_address == config_.peer_address &&
                      m.client_address == config_.client_address && m.http_address == config_.http_address &&
                      m.zone == config_.zone;
    if (same && m.version > 0) return false;
    if (m.incarnation >= incarnation_ && !same) incarnation_ = saturating_next(m.incarnation);
    m.version = saturating_next(m.version);
    m.incarnation = incarnation_;
    m.peer_address = config_.peer_address;
    m.client_address = config_.client_address;
    m.http_address = config_.http_address;
    m.zone = config_.zone;
    return true;
}

// Level-triggered upkeep: this node's own record, founding, the claimant's reconcile.
// Returns true when it changed the view. Running it twice changes nothing more.
bool Gossiper::maintain() {
    bool any = refute_self();
    const bool founder = config_.seeds.empty() && !founded(view_) && !claimant(view_).valid();
    if (founder) any |= raise_status(view_, config_.id, MemberStatus::valid);
    // The founder draws the cluster's id. A cluster founded before ids existed takes one
    // derived from its first member, so that two nodes that each believe themselves its
    // claimant (a partition) still agree on it. Never 0: 0 means "not known yet".
    if (view_.cluster_id == 0 && founder) {
        view_.cluster_id = rng_.next() | 1;
        any = true;
    } else if (view_.cluster_id == 0 && founded(view_) && is_claimant()) {
        const MemberRecord& first = view_.members.begin()->second;
        view_.cluster_id = hash_combine(first.id.value, hash_bytes(first.peer_address, 0x636c7573746572ull)) | 1;
        any = true;
    }
    const auto heard_itself = [this](NodeId id) { return id == config_.id || direct_.contains(id); };
    if (is_claimant() && reconcile(view_, heard_itself).changed()) {
        stats_.reconciles += 1;
        any = true;
    }
    push_ |= any;  // only this node may tell the others what it wrote here
    return any;
}

void Gossiper::changed(Instant now) {
    (void)now;
    maintain();
    if (stopped()) {
        detector_.forget_histories();  // see heard_from
    } else {
        for (const auto& [id, m] : view_.members)
            if (!is_active(m.status)) detector_.forget(id);
    }
    epoch_ += 1;
    unsaved_ = true;
    if (auto ec = save_view(store_, view_, config_.sync_saves)) {
        stats_.store_errors += 1;  // retried on the next tick
        return;
    }
    unsaved_ = false;
}

void Gossiper::tick(Instant now) {
    if (!started_) started_ = now;
    if (unsaved_ && !save_view(store_, view_, config_.sync_saves)) unsaved_ = false;
    if (stopped() && !following_) return;
    if (!next_round_ || now >= *next_round_) {
        next_round_ = now + config_.interval;
        round(now);
    }
    if (stopped()) return;  // a follower pulls views; it sends no heartbeats
    if (config_.heartbeat_interval.us > 0 && (!next_heartbeat_ || now >= *next_heartbeat_)) {
        next_heartbeat_ = now + config_.heartbeat_interval;
        send_heartbeats(now);
    }
}

std::vector<NodeId> Gossiper::active_peers() const {
    std::vector<NodeId> peers;
    for (const auto& [id, m] : view_.members)
        if (id != config_.id && is_active(m.status)) peers.push_back(id);
    return peers;
}

std::string Gossiper::address_of(NodeId id) const {
    const MemberRecord* m = find_member(view_, id);
    return m ? m->peer_address : std::string{};
}

void Gossiper::round(Instant now) {
    stats_.rounds += 1;
    // A claimant re-checks the claim every round too: a handoff mark may have arrived
    // in a view that changed nothing else, or an earlier reconcile lost a tie.
    if (maintain()) changed(now);
    if (push_) push(now);
    const std::vector<NodeId> peers = active_peers();
    // Until admitted, push the whole view to a seed or a known peer: two joiners that
    // found each other first must not form an island that never reaches the cluster.
    const bool joining = self_status() == MemberStatus::joining && !config_.seeds.empty();
    if (joining) {
        const std::size_t pick = rng_.below(config_.seeds.size() + peers.size());
        stats_.full_views_sent += 1;
        if (pick < config_.seeds.size()) {
            stats_.seed_contacts += 1;
            send(NodeId{}, config_.seeds[pick], GossipSyn{config_.peer_address, current_digest(), view_});
        } else {
            const NodeId peer = peers[pick - config_.seeds.size()];
            send(peer, address_of(peer), GossipSyn{config_.peer_address, current_digest(), view_});
        }
        return;
    }
    if (peers.empty()) return;  // a founder alone, or the last member
    std::vector<NodeId> up;
    for (NodeId p : peers)
        if (detector_.up(p, now)) up.push_back(p);
    const std::vector<NodeId>& pool = up.empty() ? peers : up;
    const NodeId c = claimant(view_);
    // A follower needs the claimant's word only (nobody else's is taken, and it has no
    // news of its own): it pulls from the claimant.
    const NodeId peer = stopped() && c.valid() ? c : pool[rng_.below(pool.size())];
    send(peer, address_of(peer), GossipSyn{config_.peer_address, current_digest(), std::nullopt});
    // The claimant's word reaches this node from the claimant only (authority.h). One
    // that falls silent here may only have stopped talking to this node (a member that
    // others see exiting gets no heartbeats): it is asked every round too.
    if (c.valid() && c != config_.id && c != peer && !detector_.up(c, now))
        send(c, address_of(c), GossipSyn{config_.peer_address, current_digest(), std::nullopt});
}

void Gossiper::send_heartbeats(Instant now) {
    (void)now;
    heartbeat_seq_ += 1;
    const MemberRecord& self = view_.members.at(config_.id);
    const std::uint64_t ruled = is_claimant() ? current_ruled_digest() : 0;
    for (NodeId p : active_peers())
        send(p, address_of(p), Heartbeat{heartbeat_seq_, self.version, self.incarnation, ruled});
}

void Gossiper::step(Instant now, NodeId from, const GossipMessage& message) {
    if (!started_) started_ = now;
    heard_from(now, from);
    if (stopped() && !(following_ && !std::holds_alternative<GossipSyn>(message))) return;
    if (const auto* syn = std::get_if<GossipSyn>(&message)) return on_syn(now, from, *syn);
    if (const auto* ack = std::get_if<GossipAck>(&message)) return on_ack(now, from, *ack);
    if (const auto* ack2 = std::get_if<GossipAck2>(&message)) {
        absorb(now, from, ack2->view);
        return;
    }
    if (const auto* hb = std::get_if<Heartbeat>(&message)) on_heartbeat(now, from, *hb);
}

// A member's record and the claimant's rulings are taken from them only (authority.h),
// so a heartbeat that shows this node holds less of either pulls the sender's view.
void Gossiper::on_heartbeat(Instant now, NodeId from, const Heartbeat& hb) {
    const MemberRecord* m = find_member(view_, from);
    if (m == nullptr || from == config_.id || !is_active(m->status)) return;
    const bool record_behind = hb.version > m->version || (hb.version == m->version && hb.incarnation != m->incarnation);
    const bool ruling_differs = hb.ruled_digest != 0 && hb.ruled_digest != current_ruled_digest() &&
                                rules(view_, from, absence(now));
    // Not heard from itself yet (announced by others): the claimant admits a joiner
    // only once it has (authority.h), so it asks now rather than at random.
    const bool unheard = !direct_.contains(from);
    if (!record_behind && !ruling_differs && !unheard) return;
    stats_.pulls += 1;
    send(from, address_of(from), GossipSyn{config_.peer_address, current_digest(), std::nullopt});
}

void Gossiper::on_syn(Instant now, NodeId from, const GossipSyn& syn) {
    if (syn.view && !absorb(now, from, *syn.view)) return;
    const std::uint64_t mine = current_digest();
    if (mine == syn.digest && find_member(view_, from) != nullptr) direct_.insert(from);  // see on_ack
    std::string address = address_of(from);
    // A joiner is in no view yet: answer it at the address it gave. Under TLS `from` is
    // the node its certificate names, and the link that dials reply_to accepts only that
    // node's certificate (net/peer_link.cpp): an address named by anyone else is never
    // written to.
    // So is a member heard of only from others: its address may have been made up.
    if (address.empty() || (!direct_.contains(from) && !syn.reply_to.empty())) address = syn.reply_to;
    if (mine == syn.digest) return send(from, std::move(address), GossipAck{mine, std::nullopt});
    stats_.full_views_sent += 1;
    send(from, std::move(address), GossipAck{mine, view_});
}

void Gossiper::on_ack(Instant now, NodeId from, const GossipAck& ack) {
    if (ack.view && !absorb(now, from, *ack.view)) return;
    // The same digest from the member itself: it holds this very record of itself.
    if (!ack.view && ack.digest == current_digest() && find_member(view_, from) != nullptr) direct_.insert(from);
    if (current_digest() == ack.digest) return;
    stats_.full_views_sent += 1;
    send(from, address_of(from), GossipAck2{view_});
}

bool Gossiper::absorb(Instant now, NodeId from, const ClusterView& other) {
    const bool other_cluster = other.cluster_id != 0 && view_.cluster_id != 0 && other.cluster_id != view_.cluster_id;
    if (other_cluster || other.partition_count != view_.partition_count || other.claim.size() != view_.claim.size()) {
        stats_.rejected += 1;
        return false;
    }
    // A removed member's views are stale by definition (it may not know yet): nothing
    // of them is taken, lest it and the claimant outbid each other for ever.
    if (const MemberRecord* s = find_member(view_, from); s != nullptr && from != config_.id &&
                                                           s->status == MemberStatus::removed && !stopped()) {
        stats_.rejected += 1;
        return true;
    }
    ClusterView admitted = other;
    const Admission admission = admit(view_, admitted, from, standing(now));
    stats_.hearsay_dropped += admission.refused;
    bool any = merge_into(view_, admitted);
    if (admission.ruling) any |= take_ruling(view_, admitted);
    any |= outbid(view_, admission);
    // A member's own record from itself is the truth about it, even below a version
    // this node had only from others (who may have announced it falsely).
    const auto theirs = admitted.members.find(from);
    const auto mine = view_.members.find(from);
    if (from != config_.id && theirs != admitted.members.end() && mine != view_.members.end()) {
        if (!direct_.contains(from) && !same_payload(mine->second, theirs->second)) {
            copy_payload(mine->second, theirs->second);
            any = true;
        }
        direct_.insert(from);
    }
    if (any) {
        stats_.views_merged += 1;
        changed(now);
    }
    return true;
}

Standing Gossiper::standing(Instant now) const {
    // A node not yet admitted, and a follower (it has left and hears no heartbeats, so
    // it can tell nobody absent), take views whole: they have no claim of their own to
    // defend.
    const bool trusting = self_status() == MemberStatus::joining || stopped();
    return Standing{config_.id, trusting, absence(now)};
}

Duration Gossiper::absent_after() const {
    return std::max(config_.interval, config_.heartbeat_interval) * 8;
}

bool Gossiper::absent(NodeId peer, Instant now) const {
    if (peer == config_.id) return false;
    if (detector_.silent(peer, now)) return true;
    return !detector_.known(peer) && started_ && now - *started_ >= absent_after();
}

std::function<bool(NodeId)> Gossiper::absence(Instant now) const {
    return [this, now](NodeId id) { return absent(id, now); };
}

NodeId Gossiper::ruler(Instant now) const {
    return gossip::ruler(view_, absence(now));
}

bool Gossiper::may_rule(Instant now, NodeId member) const {
    return is_claimant() || (ruler(now) == config_.id && absent(member, now));
}

void Gossiper::push(Instant now) {
    (void)now;
    push_ = false;
    if (stopped()) return;
    for (NodeId p : active_peers()) {
        stats_.full_views_sent += 1;
        send(p, address_of(p), GossipAck2{view_});
    }
}

void Gossiper::heard_from(Instant now, NodeId peer) {
    // Only active members feed the detector: its table stays bounded by the view, and
    // a member that left is not probed once it has gone (changed() forgets it).
    if (stopped()) return;  // it gets no heartbeats now, and would find everyone silent
    if (!peer.valid() || peer == config_.id) return;
    const MemberRecord* m = find_member(view_, peer);
    if (m != nullptr && is_active(m->status)) detector_.heard(peer, now);
}

std::error_code Gossiper::join(Instant now, std::vector<std::string> seeds) {
    if (seeds.empty() || seeds.size() > k_max_seeds || view_.members.size() != 1 || stopped()) return errc::bad_request;
    for (const auto& s : seeds)
        if (s.empty() || s.size() > k_max_address_bytes || s.find('\n') != std::string::npos) return errc::bad_request;
    // Nobody else has seen this view: it is replaced, not merged (nothing of it may
    // reach the other cluster). The new view is saved before the seeds: a crash in
    // between leaves an empty node alone again, never an old claim beside the seeds.
    MemberRecord self = view_.members.begin()->second;
    self.status = MemberStatus::joining;
    view_ = ClusterView::empty(config_.partition_count);
    view_.members.emplace(self.id, self);
    config_.seeds = std::move(seeds);
    refute_self();
    next_round_ = now;  // announce at once
    changed(now);
    if (unsaved_) return errc::store_error;
    std::string saved;
    for (const auto& seed : config_.seeds) saved += seed + "\n";
    store::WriteBatch batch;
    batch.put(k_seeds_key, saved);
    if (store_.write(batch, true)) return errc::store_error;
    return {};
}

std::error_code Gossiper::leave(Instant now) {
    return leave(now, config_.id);
}

std::error_code Gossiper::leave(Instant now, NodeId member) {
    const MemberRecord* m = find_member(view_, member);
    if (!m) return errc::not_found;
    if (m->status != MemberStatus::joining && m->status != MemberStatus::valid) return errc::bad_request;
    if (member != config_.id && !may_rule(now, member)) return errc::precondition_failed;
    raise_status(view_, member, MemberStatus::leaving);
    push_ = true;
    changed(now);
    return {};
}

std::error_code Gossiper::remove(Instant now, NodeId member) {
    const MemberRecord* m = find_member(view_, member);
    if (!m) return errc::not_found;
    if (member == config_.id || m->status >= MemberStatus::exiting) return errc::bad_request;
    if (!may_rule(now, member)) return errc::precondition_failed;
    raise_status(view_, member, MemberStatus::removed);
    push_ = true;
    changed(now);
    return {};
}

std::error_code Gossiper::put_namespace(Instant now, std::string_view name, const NamespaceProps& props,
                                        bool create) {
    if (!valid_namespace_name(name) || !props_problem(props).empty()) return errc::bad_request;
    auto it = view_.namespaces.find(name);
    const bool exists = it != view_.namespaces.end() || name == k_default_namespace;
    if (create && exists) return errc::precondition_failed;
    if (!create && !exists) return errc::no_namespace;
    if (it == view_.namespaces.end()) {
        if (view_.namespaces.size() >= k_max_namespaces) return errc::overloaded;
        it = view_.namespaces.emplace(std::string(name), NamespaceRecord{}).first;
    }
    NamespaceRecord& record = it->second;
    record.version = saturating_next(record.version);
    record.set_by = config_.id;
    record.props = props;
    push_ = true;
    changed(now);
    return {};
}

bool Gossiper::complete_handoff(Instant now, PartitionId p, NodeId from, NodeId to) {
    if (!mark_handoff_done(view_, p, from, to)) return false;
    push_ = true;
    changed(now);
    return true;
}

// The digest is recomputed once per view change, not once per message.
std::uint64_t Gossiper::current_digest() {
    if (digest_epoch_ != epoch_) {
        digest_ = digest(view_);
        digest_epoch_ = epoch_;
    }
    return digest_;
}

std::uint64_t Gossiper::current_ruled_digest() {
    if (ruled_epoch_ != epoch_) {
        ruled_ = ruled_digest(view_);
        ruled_epoch_ = epoch_;
    }
    return ruled_;
}

std::shared_ptr<const ring::Ring> Gossiper::ring() {
    if (ring_epoch_ != epoch_) {
        ring_ = make_ring(view_);
        ring_epoch_ = epoch_;
    }
    return ring_;
}

std::vector<ring::Move> Gossiper::outgoing_moves() const {
    std::vector<ring::Move> out = moves(view_);
    std::erase_if(out, [&](const ring::Move& t) { return t.from != config_.id; });
    return out;
}

std::vector<ring::Move> Gossiper::incoming_moves() const {
    std::vector<ring::Move> out = moves(view_);
    std::erase_if(out, [&](const ring::Move& t) { return t.to != config_.id; });
    return out;
}

void Gossiper::take_output(GossipOutbox& out) {
    out.clear();
    std::swap(out, out_);
}

void Gossiper::send(NodeId to, std::string address, GossipMessage message) {
    out_.messages.push_back({to, std::move(address), std::move(message)});
}

}  // namespace shoal::gossip
