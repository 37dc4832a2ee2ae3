#include "sim/simulator.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iterator>

#include "core/assert.h"
#include "replica/codec.h"
#include "sim/simulation.h"
#include "store/keys.h"

namespace shoal::sim {

void FaultCounts::add(const FaultCounts& o) {
    dropped += o.dropped;
    duplicated += o.duplicated;
    delayed += o.delayed;
    held_for_restart += o.held_for_restart;
    partitions += o.partitions;
    asymmetric_cuts += o.asymmetric_cuts;
    crashes += o.crashes;
    restarts += o.restarts;
    clock_jumps += o.clock_jumps;
    disk_errors += o.disk_errors;
    wipes += o.wipes;
    corruptions += o.corruptions;
    link_stalls += o.link_stalls;
    stalls_reopened_on_suspicion += o.stalls_reopened_on_suspicion;
    stalls_reopened_by_watchdog += o.stalls_reopened_by_watchdog;
}

const char* scenario_name(Scenario s) {
    switch (s) {
        case Scenario::chaos: return "chaos";
        case Scenario::minority: return "minority";
        case Scenario::hints: return "hints";
        case Scenario::wipe: return "wipe";
        case Scenario::divergence: return "divergence";
        case Scenario::missed_delete: return "missed-delete";
        case Scenario::corruption: return "corruption";
        case Scenario::clock: return "clock";
        case Scenario::grow: return "grow";
        case Scenario::shrink: return "shrink";
        case Scenario::replace: return "replace";
        case Scenario::crash_handoff: return "crash-handoff";
        case Scenario::partition_join: return "partition-join";
        case Scenario::concurrent_join: return "concurrent-join";
    }
    return "?";
}

bool is_membership(Scenario s) {
    return std::find(std::begin(k_membership_scenarios), std::end(k_membership_scenarios), s) !=
           std::end(k_membership_scenarios);
}

SimConfig config_for_seed(std::uint64_t seed, Scenario scenario) {
    Rng rng(seed ^ 0x5eed5eedULL);
    SimConfig c;
    c.seed = seed;
    c.scenario = scenario;
    if (scenario == Scenario::minority) {
        c.nodes = rng.chance(0.5) ? 3 : 5;
        c.clients = 6;
        c.keys = 16;
        c.duration = Duration::seconds(20);
        return c;  // only the base delays: the one fault is the minority outage
    }
    if (is_membership(scenario)) {
        // Modest faults (delays, reordering, a little loss): the scripted membership
        // changes are what is tested. `nodes` counts every node that ever runs.
        c.nodes = scenario == Scenario::replace || scenario == Scenario::crash_handoff ? 5 : 6;
        c.clients = static_cast<std::uint32_t>(rng.between(3, 8));
        c.keys = static_cast<std::uint32_t>(rng.between(50, 300));
        c.duration = Duration::seconds(14);
        c.settle = scenario == Scenario::shrink || scenario == Scenario::replace ? Duration::seconds(20)
                                                                                : Duration::seconds(16);
        c.faults.drop = rng.unit() * 0.01;
        c.faults.duplicate = rng.unit() * 0.01;
        c.faults.slow_probability = rng.unit() * 0.03;
        return c;
    }
    if (scenario == Scenario::clock) {
        // Wall-clock steps on random nodes, nothing else: deadlines, the failure
        // detector and intervals run on each node's monotonic clock, so every request
        // still succeeds (checked at the end). Three nodes: each is a replica of every
        // key and leads its own writes.
        c.nodes = 3;
        c.clients = static_cast<std::uint32_t>(rng.between(3, 8));
        c.keys = static_cast<std::uint32_t>(rng.between(20, 200));
        c.duration = Duration::seconds(12);
        c.faults.slow_probability = 0;
        c.faults.clock_skew = true;
        c.faults.mean_fault_gap = Duration::millis(rng.between(300, 1500));
        // The clocks are set right at the end; a tombstone stamped by a clock 30 s
        // ahead is reaped only once the grace has passed after that stamp, and the
        // check for agreement waits for it.
        c.settle = Duration::seconds(40);
        return c;
    }
    if (scenario != Scenario::chaos) {
        // Repair scenarios: the named fault only, over the base delays and a little
        // loss, with enough keys that partitions hold many.
        c.nodes = static_cast<std::uint32_t>(rng.between(3, 6));
        c.clients = static_cast<std::uint32_t>(rng.between(3, 8));
        c.keys = static_cast<std::uint32_t>(rng.between(20, 200));
        c.duration = Duration::seconds(12);
        c.settle = Duration::seconds(10);
        c.faults.drop = rng.unit() * 0.01;
        c.faults.duplicate = rng.unit() * 0.01;
        if (scenario == Scenario::missed_delete) c.remove_percent = 30;
        if (scenario == Scenario::wipe) {
            c.preload_keys = 1500;
            c.settle = Duration::seconds(16);
        }
        return c;
    }
    c.nodes = static_cast<std::uint32_t>(rng.between(3, 6));
    c.clients = static_cast<std::uint32_t>(rng.between(3, 8));
    c.keys = static_cast<std::uint32_t>(rng.between(2, 12));
    c.faults.drop = rng.unit() * 0.03;
    c.faults.duplicate = rng.unit() * 0.02;
    c.faults.slow_probability = rng.unit() * 0.05;
    c.faults.partitions = true;
    c.faults.crashes = true;
    c.faults.clock_skew = true;
    c.faults.disk_errors = true;
    c.faults.mean_fault_gap = Duration::millis(rng.between(800, 3000));
    return c;
}

std::string replay_command(const SimConfig& config) {
    std::string cmd = "shoal-sim --seed " + std::to_string(config.seed);
    if (config.scenario != Scenario::chaos) cmd += std::string(" --scenario ") + scenario_name(config.scenario);
    if (config.conflict == replica::ConflictMode::lww) cmd += " --conflict lww";
    if (config.datatypes) cmd += " --datatypes";
    if (config.read_all) cmd += " --read-fanout all";
    if (config.one_clock) cmd += " --one-clock";
    if (config.sync != store::SyncMode::batch) cmd += " --sync " + std::string(store::sync_mode_name(config.sync));
    if (!config.ownership_handoff) cmd += " --handoff off";
    if (!config.hinted_handoff && !config.anti_entropy)
        cmd += " --repair off";
    else if (!config.hinted_handoff)
        cmd += " --repair no-hints";
    else if (!config.anti_entropy)
        cmd += " --repair no-ae";
    return cmd;
}

RunResult run_simulation(const SimConfig& config) {
    Simulation sim(config);
    return sim.run();
}

Simulation::Simulation(const SimConfig& config) : config_(config), rng_(config.seed) {
    SHOAL_ASSERT(config_.nodes >= 1 && config_.clients >= 1 && config_.keys >= 1);
    std::vector<ring::Member> members;
    for (std::uint32_t i = 0; i < config_.nodes; ++i) {
        members.push_back({NodeId{i + 1}, "z" + std::to_string(i % 3)});
    }
    auto owners = ring::compute_claim(config_.partitions, members, {});
    ring_ = std::make_shared<const ring::Ring>(config_.partitions, members, std::move(owners));
    blocked_.assign(config_.nodes, std::vector<bool>(config_.nodes, false));
    for (std::uint32_t i = 0; i < config_.nodes; ++i) {
        auto node = std::make_unique<SimNode>();
        node->id = NodeId{i + 1};
        nodes_.push_back(std::move(node));
    }
    preload();
    stop_work_ = Time{} + config_.duration;
    if (membership()) {
        plan_bootstrap();  // the workload starts once the first nodes have formed a cluster
    } else {
        for (std::uint32_t i = 0; i < config_.nodes; ++i) start_node(i);
    }
    clients_.resize(config_.clients);
    for (std::uint32_t c = 0; c < config_.clients; ++c) {
        clients_[c].id = c;
        clients_[c].avoid_until.assign(config_.nodes, Time{});
        if (membership()) continue;
        Event wake;
        wake.kind = EventKind::client_wake;
        wake.a = c;
        schedule(Time{rng_.between(0, 50'000)}, std::move(wake));
    }
    result_.seed = config_.seed;
    if (!membership()) plan_faults();
}

// Bulk data already on every primary's disk before the nodes start (as after a long
// life): what a wiped replica must get back, beside the workload's few hot keys.
void Simulation::preload() {
    const replica::ActorId loader = replica::make_actor(NodeId{0xffff}, 1);
    for (std::uint32_t k = 0; k < config_.preload_keys; ++k) {
        const std::string key = "bulk/" + std::to_string(k);
        SiblingSet state;
        const replica::Dot dot{loader, k + 1ULL};
        state.context.raise(dot);
        state.siblings.push_back(replica::Sibling{dot, false, std::string(config_.preload_value_bytes, 'b'), {}, {}});
        std::string bytes;
        replica::encode_stored(state, bytes);
        const PartitionId p = ring_->partition_of(hash_key(key));
        const auto order = ring_->preference_order(p);
        for (std::size_t i = 0; i < std::min<std::size_t>(config_.n, order.size()); ++i) {
            store::WriteBatch batch;
            batch.put(store::data_key(p, key), bytes);
            (void)nodes_[order[i].value - 1]->disk.write(batch, true);
        }
    }
}

void Simulation::schedule(Time at, Event event) {
    queue_.emplace(std::make_pair(at.us, next_seq_++), std::move(event));
}

void Simulation::start_node(std::uint32_t i) {
    SimNode& n = *nodes_[i];
    std::uint32_t incarnation = 0;
    // The floor is the simulated clock in ms, as shoald uses the wall clock in s.
    const auto ec = replica::bump_incarnation(n.disk, incarnation, static_cast<std::uint32_t>(now_.us / 1000));
    SHOAL_ASSERT_MSG(!ec, "the simulated disk refused the incarnation write");
    n.buffered = std::make_unique<store::BufferedStore>(n.disk, config_.sync);
    replica::NodeConfig nc;
    nc.id = n.id;
    nc.incarnation = incarnation;
    nc.n = config_.n;
    nc.r = config_.r;
    nc.w = config_.w;
    nc.conflict = config_.conflict;
    nc.read_fanout = config_.read_all ? replica::ReadFanout::all : replica::ReadFanout::quorum;
    nc.repair.hinted_handoff = config_.hinted_handoff;
    nc.repair.anti_entropy = config_.anti_entropy;
    nc.repair.hint_interval = Duration::millis(100);
    nc.repair.ae_interval = Duration::millis(25);
    nc.repair.ae_timeout = Duration::seconds(1);
    nc.repair.tombstone_grace = config_.tombstone_grace;
    nc.repair.gc_interval = Duration::millis(250);
    nc.repair.reaped_memory = Duration::seconds(60);
    nc.repair.scrub_interval = Duration::millis(100);
    nc.handoff.batch_keys = 8;  // small: a stream takes several batches, so crashes cut it
    nc.handoff.timeout = Duration::millis(500);
    health::DetectorConfig dc;
    if (membership()) dc.first_estimate = dc.acceptable_pause = config_.gossip_interval;  // heartbeats' rhythm
    n.detector = std::make_unique<health::Detector>(dc);
    std::shared_ptr<const ring::Ring> ring = ring_;
    if (membership()) {
        start_gossip(i);
        ring = n.gossip->ring();
        if (ring == nullptr) ring = placeholder_ring(i);  // never serves clients
    }
    n.core = std::make_unique<replica::Node>(nc, *n.buffered, std::move(ring), *n.detector, this);
    n.core->set_namespaces(sim_namespaces({}, config_.conflict));
    attach_driver(i);
    n.up = true;
    n.started = true;
    ++n.epoch;
    if (n.gossip) membership_sync(i);
    Event tick;
    tick.kind = EventKind::node_tick;
    tick.a = i;
    tick.token = n.epoch;
    schedule(now_ + Duration::millis(rng_.between(1, 10)), std::move(tick));
    if (config_.sync == store::SyncMode::none) {
        Event flush;
        flush.kind = EventKind::disk_flush;
        flush.a = i;
        flush.token = n.epoch;
        schedule(now_ + Duration::millis(200), std::move(flush));
    }
}

void Simulation::collect_stats(const replica::NodeStats& s) {
    result_.hints_delivered += s.hints_delivered;
    result_.deltas_sent += s.deltas_sent;
    result_.deltas_refused += s.deltas_refused;
    result_.ae_exchanges += s.ae_exchanges;
    result_.ae_keys_repaired += s.ae_keys_repaired;
    result_.corrupt_repaired += s.corrupt_repaired;
    result_.tombstones_reaped += s.tombstones_reaped;
    result_.handoff_keys_sent += s.handoff_keys_sent;
    result_.handoff_keys_received += s.handoff_keys_received;
    result_.writes_forwarded += s.writes_forwarded;
    result_.handoffs_completed += s.handoffs_completed;
    ae_bytes_retired_ += s.ae_bytes_sent;
}

void Simulation::crash_node(std::uint32_t i) {
    SimNode& n = *nodes_[i];
    if (!n.up) return;
    collect_stats(n.core->stats());
    n.up = false;
    detach_driver(i);
    n.core.reset();
    n.buffered.reset();
    n.gossip.reset();
    n.glue.reset();
    n.detector.reset();
    n.disk.crash();
    n.disk.fail_next_writes(0);  // injected disk errors not yet hit end with this life
    ++n.epoch;
}

Duration Simulation::link_delay() {
    const auto& f = config_.faults;
    Duration d{rng_.between(f.delay_min.us, f.delay_max.us)};
    if (rng_.chance(f.slow_probability)) {
        ++result_.faults.delayed;
        d = d + Duration{rng_.between(0, f.slow_max.us)};
    }
    return d;
}

int Simulation::link_copies() {
    if (faults_on_ && rng_.chance(config_.faults.drop)) {
        ++result_.faults.dropped;
        return 0;
    }
    const int copies = faults_on_ && rng_.chance(config_.faults.duplicate) ? 2 : 1;
    if (copies == 2) ++result_.faults.duplicated;
    return copies;
}

// A message to a node that is down: shoald's peer link keeps what is queued while it
// dials again, and sends it once the node answers -- its next life, when it restarted
// within the wait. So, with faults on, half of such messages wait (50-500 ms a time,
// at most 8 times) and reach the node if it is up by then; the rest are lost with the
// failed dial. Answers to an earlier life's requests then meet a new life's requests.
void Simulation::hold_for_restart(Event e) {
    if (!faults_on_ || e.held >= 8 || !rng_.chance(0.5)) return;
    ++e.held;
    schedule(now_ + Duration::millis(rng_.between(50, 500)), std::move(e));
}

void Simulation::send_peer(std::uint32_t from, replica::Envelope& envelope) {
    const std::uint32_t to = envelope.to.value - 1;
    SHOAL_ASSERT(to < nodes_.size());
    const int copies = link_copies();
    for (int k = 0; k < copies; ++k) {
        Event e;
        e.kind = EventKind::peer_message;
        e.a = from;
        e.b = to;
        e.peer = std::make_unique<replica::PeerMessage>(k + 1 < copies ? envelope.msg : std::move(envelope.msg));
        schedule(now_ + link_delay(), std::move(e));
    }
}

// After the core ran: the turn driver persists its writes and releases what it wants
// to send once they are durable -- the same code shoald runs. With a gossiper (the
// membership scenarios), membership changes reach the core first, as in shoald
// (Membership::sync).
void Simulation::after_node_turn(std::uint32_t i) {
    SimNode& n = *nodes_[i];
    if (n.gossip) membership_sync(i);
    n.driver->end_turn();
    // Like shoald: a node that has left first hands over what it holds (following the
    // view meanwhile, in case its targets leave too), then exits.
    if (n.gossip && n.gossip->stopped()) {
        n.gossip->set_following(!n.core->handed_over());
        if (n.core->handed_over()) exit_node(i);
    }
}

void Simulation::process(Event& e) {
    trace(static_cast<std::uint64_t>(now_.us));
    trace((static_cast<std::uint64_t>(e.kind) << 48) ^ (static_cast<std::uint64_t>(e.a) << 24) ^ e.b);
    switch (e.kind) {
        case EventKind::peer_message: {
            SimNode& n = *nodes_[e.b];
            if (!n.up) return hold_for_restart(std::move(e));
            if (e.held > 0) ++result_.faults.held_for_restart;
            trace(e.peer->index());
            n.core->step(node_now(e.b), NodeId{e.a + 1}, std::move(*e.peer));
            after_node_turn(e.b);
            return;
        }
        case EventKind::client_request: {
            SimNode& n = *nodes_[e.b];
            if (membership() && (!n.started || n.gone || (n.up && !n.joined()))) {
                refuse_client(e);  // no such node (refused at once), or not in a cluster yet
                return;
            }
            if (!n.up) return;  // the client will time out
            ++result_.ops;
            n.core->submit(node_now(e.b), e.token, std::move(*e.request));
            after_node_turn(e.b);
            return;
        }
        case EventKind::client_reply:
            trace(static_cast<std::uint64_t>(e.reply->code) ^ (e.reply->dot.counter << 8) ^ e.reply->dot.actor);
            client_reply(e.a, *e.reply);
            return;
        case EventKind::client_wake: client_wake(e.a); return;
        case EventKind::node_tick: {
            SimNode& n = *nodes_[e.a];
            if (!n.up || e.token != n.epoch) return;
            if (n.gossip) (void)n.glue->tick(node_now(e.a).mono, *n.gossip, *n.detector);  // as shoald's membership
            n.core->tick(node_now(e.a));
            after_node_turn(e.a);
            e.kind = EventKind::node_tick;
            schedule(now_ + Duration::millis(10), std::move(e));
            return;
        }
        case EventKind::commit_done: {
            SimNode& n = *nodes_[e.a];
            if (!n.up || e.token != n.epoch || !n.committing) return;  // the node crashed meanwhile
            complete_commit(e.a);
            return;
        }
        case EventKind::disk_flush: {
            SimNode& n = *nodes_[e.a];
            if (!n.up || e.token != n.epoch) return;
            (void)n.disk.sync();
            schedule(now_ + Duration::millis(200), std::move(e));
            return;
        }
        case EventKind::fault: apply_fault(e); return;
        case EventKind::gossip_message: deliver_gossip(e); return;
        case EventKind::probe:
            probe();
            if (result_.one_key_us < 0) schedule(now_ + Duration::millis(200), std::move(e));
            return;
    }
}

RunResult Simulation::run() {
    bool healed = false;
    while (!queue_.empty()) {
        auto node = queue_.extract(queue_.begin());
        now_ = Time{node.key().first};
        if (now_ >= stop_work_ + config_.settle) break;  // stop_work_ may move (membership)
        if (!healed && now_ >= stop_work_) {
            healed = true;
            workload_on_ = false;
            heal_everything();
        }
        ++result_.events;
        process(node.mapped());
    }
    finish_checks();
    result_.trace_hash = trace_;
    return result_;
}

void Simulation::dot_issued(const std::string& key, const replica::Dot& dot, const replica::VersionVector& ctx) {
    // A dot whose turn failed to commit never left the node and may be issued again;
    // the last issue is the one that can be seen.
    history_.writer_context.insert_or_assign({key, dot}, ctx);
}

}  // namespace shoal::sim
