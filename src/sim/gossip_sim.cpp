// `shoal-sim gossip`: the membership scenarios (scripted joins, leaves, removals,
// partitions and crashes over the engine in gossip_world.h), the spread measurement,
// and the CLI.
#include "sim/gossip_sim.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <iterator>
#include <map>
#include <set>
#include <string>
#include <utility>

#include "core/assert.h"
#include "core/hash.h"
#include "core/rng.h"
#include "gossip/claim.h"
#include "gossip/gossiper.h"
#include "sim/args.h"
#include "sim/gossip_world.h"

namespace shoal::sim {

namespace {

using namespace gossip_world;

NetFaults faults_for(Rng& rng) {
    NetFaults f;
    f.drop = rng.unit() * 0.05;
    f.duplicate = 0.01;
    f.slow = 0.02;
    return f;
}

// A scripted membership change at a point in simulated time.
struct Action {
    Instant at;
    std::function<void(World&)> run;
};

struct Script {
    std::vector<Action> actions;
    std::map<NodeId, MemberStatus> expected;  // statuses once everything settles
};

// An operator's leave or remove of another node, sent where the cluster takes it: to
// a member that may rule (gossip/authority.h). Until one may (a leave or a death is
// still spreading), the operator tries again every 500 ms, for at most 30 s.
void through_ruler(World& x, NodeId target, bool target_too, const std::function<std::error_code(NodeId)>& op) {
    for (int tries = 0; tries < 60; ++tries) {
        const NodeId via = x.pick_ruler(target, target_too);
        if (via.valid()) {
            if (auto ec = op(via)) x.violations().push_back("command: refused by the ruler: " + ec.message());
            return;
        }
        x.run_until(x.now() + Duration::millis(500));
    }
    x.violations().push_back("command: no member may rule for 30 s");
}

// `count` seed addresses drawn from ids 1..max_id other than `except` (repeats allowed).
std::vector<std::string> seeds_among(World& w, NodeId except, std::uint32_t max_id, int count) {
    std::vector<NodeId> candidates;
    for (std::uint32_t id = 1; id <= max_id; ++id)
        if (NodeId{id} != except) candidates.push_back(NodeId{id});
    SHOAL_ASSERT(!candidates.empty());
    std::vector<std::string> seeds;
    for (int i = 0; i < count; ++i) seeds.push_back(address_of(candidates[w.rng().below(candidates.size())]));
    return seeds;
}

// Founds a cluster of `count` nodes: node 1 without seeds, the others through seeds
// among the earlier ones; returns once it has settled (or records a violation).
bool bootstrap(World& w, std::uint32_t count, std::map<NodeId, MemberStatus>& expected) {
    w.start(NodeId{1}, {});
    expected[NodeId{1}] = MemberStatus::valid;
    for (std::uint32_t id = 2; id <= count; ++id) {
        w.run_until(w.now() + Duration::millis(w.rng().between(0, 700)));
        w.start(NodeId{id}, seeds_among(w, NodeId{id}, id - 1, 2));
        expected[NodeId{id}] = MemberStatus::valid;
    }
    std::string why;
    w.run_until(w.now() + k_interval * k_converge_bound_rounds, [&] { return w.converged(expected, why); });
    if (w.converged(expected, why)) return true;
    w.violations().push_back("bootstrap: " + std::to_string(count) + " nodes did not settle: " + why);
    return false;
}

Script script_for(GossipScenario s, World& w, Instant t0) {
    Script sc;
    Rng& rng = w.rng();
    auto at = [&](std::int64_t lo_ms, std::int64_t hi_ms) { return t0 + Duration::millis(rng.between(lo_ms, hi_ms)); };
    switch (s) {
        case GossipScenario::grow:
            for (std::uint32_t id = 4; id <= 6; ++id) {
                auto seeds = seeds_among(w, NodeId{id}, 3, 1 + static_cast<int>(rng.below(2)));
                sc.actions.push_back({at(0, 3000), [id, seeds](World& x) { x.start(NodeId{id}, seeds); }});
                sc.expected[NodeId{id}] = MemberStatus::valid;
            }
            break;
        case GossipScenario::shrink: {
            std::vector<std::uint32_t> ids{1, 2, 3, 4, 5, 6};
            for (std::size_t i = 0; i < 3; ++i) std::swap(ids[i], ids[i + rng.below(ids.size() - i)]);
            for (std::size_t i = 0; i < 3; ++i) {
                const NodeId who{ids[i]};
                const bool self = rng.chance(0.5);
                sc.actions.push_back({at(0, 3000), [who, self](World& x) {
                                          if (self && x.node(who).live()) {
                                              if (auto ec = x.node(who).g->leave(x.now()))
                                                  x.violations().push_back("command: leave failed: " + ec.message());
                                              return;
                                          }
                                          through_ruler(x, who, true, [&](NodeId via) {
                                              return via == who ? x.node(via).g->leave(x.now())
                                                                : x.node(via).g->leave(x.now(), who);
                                          });
                                      }});
                sc.expected[who] = MemberStatus::exiting;
            }
            break;
        }
        case GossipScenario::replace: {
            const NodeId victim{static_cast<std::uint32_t>(1 + rng.below(4))};
            const Instant died = at(0, 1000);
            const Instant removed = died + Duration::millis(rng.between(2000, 8000));
            sc.actions.push_back({died, [victim](World& x) {
                                      x.crash(victim);
                                      x.node(victim).dead = true;
                                  }});
            sc.actions.push_back({removed, [victim](World& x) {
                                      through_ruler(x, victim, false,
                                                    [&](NodeId via) { return x.node(via).g->remove(x.now(), victim); });
                                  }});
            auto seeds = seeds_among(w, victim, 4, 2);
            sc.actions.push_back({died + Duration::millis(rng.between(0, 10000)),
                                  [seeds](World& x) { x.start(NodeId{5}, seeds); }});
            sc.expected[victim] = MemberStatus::removed;
            sc.expected[NodeId{5}] = MemberStatus::valid;
            break;
        }
        case GossipScenario::partition_join: {
            std::set<NodeId> side;
            side.insert(NodeId{static_cast<std::uint32_t>(1 + rng.below(4))});
            if (rng.chance(0.5)) side.insert(NodeId{static_cast<std::uint32_t>(1 + rng.below(4))});
            NodeId in_side = *side.begin(), out_side;
            for (std::uint32_t id = 1; id <= 4; ++id)
                if (!side.contains(NodeId{id})) out_side = NodeId{id};
            sc.actions.push_back({t0, [side](World& x) { x.split(side); }});
            sc.actions.push_back({at(0, 2000), [in_side](World& x) {
                                      x.start(NodeId{5}, {address_of(in_side)});
                                      std::set<NodeId> s2;  // the joiner sits on its seed's side
                                      for (std::uint32_t id = 1; id <= 5; ++id)
                                          if (x.has(NodeId{id}) && x.node(NodeId{id}).group == 1) s2.insert(NodeId{id});
                                      s2.insert(NodeId{5});
                                      x.split(s2);
                                  }});
            sc.actions.push_back({at(0, 2000), [out_side](World& x) { x.start(NodeId{6}, {address_of(out_side)}); }});
            sc.actions.push_back({at(5000, 15000), [](World& x) { x.heal(); }});
            sc.expected[NodeId{5}] = MemberStatus::valid;
            sc.expected[NodeId{6}] = MemberStatus::valid;
            break;
        }
        case GossipScenario::concurrent_join: {
            std::vector<std::uint32_t> seeds{1, 2, 3};
            for (std::size_t i = 0; i < 2; ++i) std::swap(seeds[i], seeds[i + rng.below(3 - i)]);
            const Instant same = at(0, 1000);
            for (std::uint32_t i = 0; i < 3; ++i) {
                const NodeId id{4 + i};
                const std::string seed = address_of(NodeId{seeds[i]});
                sc.actions.push_back({same, [id, seed](World& x) { x.start(id, {seed}); }});
                sc.expected[id] = MemberStatus::valid;
            }
            break;
        }
        case GossipScenario::crash: {
            sc.actions.push_back({t0, [](World& x) { x.start(NodeId{5}, {address_of(NodeId{2})}); }});
            const NodeId victim{static_cast<std::uint32_t>(1 + rng.below(5))};
            const Instant down = at(500, 4000);
            sc.actions.push_back({down, [victim](World& x) { x.crash(victim); }});
            sc.actions.push_back({down + Duration::millis(rng.between(2000, 8000)),
                                  [victim](World& x) { x.start(victim, {}); }});
            sc.expected[NodeId{5}] = MemberStatus::valid;
            break;
        }
    }
    std::stable_sort(sc.actions.begin(), sc.actions.end(), [](const Action& a, const Action& b) { return a.at < b.at; });
    return sc;
}

std::uint32_t initial_nodes(GossipScenario s) {
    switch (s) {
        case GossipScenario::grow: return 3;
        case GossipScenario::shrink: return 6;
        case GossipScenario::concurrent_join: return 3;
        default: return 4;
    }
}

}  // namespace

std::string_view gossip_scenario_name(GossipScenario s) {
    switch (s) {
        case GossipScenario::grow: return "grow";
        case GossipScenario::shrink: return "shrink";
        case GossipScenario::replace: return "replace";
        case GossipScenario::partition_join: return "partition-join";
        case GossipScenario::concurrent_join: return "concurrent-join";
        case GossipScenario::crash: return "crash";
    }
    SHOAL_UNREACHABLE("bad gossip scenario");
}

std::string gossip_replay_command(GossipScenario scenario, std::uint64_t seed) {
    return "shoal-sim gossip --seed " + std::to_string(seed) + " --scenario " + std::string(gossip_scenario_name(scenario));
}

GossipRunResult run_gossip_scenario(GossipScenario scenario, std::uint64_t seed) {
    GossipRunResult r;
    r.seed = seed;
    r.scenario = scenario;
    Rng setup(hash_combine(seed, static_cast<std::uint64_t>(scenario) + 1));
    const NetFaults faults = faults_for(setup);
    World w(hash_combine(seed, static_cast<std::uint64_t>(scenario) + 101), faults, true, setup.chance(0.5));

    std::map<NodeId, MemberStatus> expected;
    if (bootstrap(w, initial_nodes(scenario), expected)) {
        const Instant t0 = w.now() + Duration::millis(w.rng().between(0, 2000));
        Script sc = script_for(scenario, w, t0);
        for (const auto& [id, status] : sc.expected) expected[id] = status;
        Instant last_change = t0;
        for (Action& a : sc.actions) {
            w.run_until(a.at);
            a.run(w);
            last_change = w.now();
        }
        const Instant deadline = last_change + k_interval * k_converge_bound_rounds;
        std::string why;
        w.run_until(deadline, [&] { return w.converged(expected, why); });
        if (w.converged(expected, why)) {
            r.rounds_to_converge = static_cast<int>((w.now() - last_change).us / k_interval.us);
            const ClusterView settled_view = *w.any_live_view();
            w.check_placement(settled_view);
            // A settled cluster stays put: five more rounds change nothing.
            w.run_until(w.now() + k_interval * 5);
            if (!(*w.any_live_view() == settled_view) || !w.converged(expected, why))
                w.violations().push_back("stability: the settled view changed again: " + why);
        } else {
            w.violations().push_back("convergence: not settled within " + std::to_string(k_converge_bound_rounds) +
                                     " rounds of the last change: " + why);
        }
    }
    r.trace_hash = w.trace_hash();
    r.messages = w.delivered();
    r.dropped = w.dropped();
    r.violations = std::move(w.violations());
    return r;
}

SpreadResult measure_spread(std::uint32_t nodes, std::uint64_t first_seed, std::uint32_t runs, double drop) {
    SHOAL_ASSERT(nodes >= 2);
    SpreadResult out;
    out.nodes = nodes;
    double total = 0;
    for (std::uint32_t run = 0; run < runs; ++run) {
        const std::uint64_t seed = first_seed + run;
        NetFaults f;
        f.drop = drop;
        World w(hash_combine(seed, nodes), f, true, false);
        // A settled cluster, written straight to every node's disk.
        ClusterView v = ClusterView::empty(k_q);
        for (std::uint32_t id = 1; id <= nodes; ++id) {
            gossip::MemberRecord m;
            m.id = NodeId{id};
            m.version = 1;
            m.peer_address = address_of(m.id);
            m.status = MemberStatus::valid;
            v.members.emplace(m.id, m);
        }
        gossip::reconcile(v);
        for (std::uint32_t id = 1; id <= nodes; ++id) {
            w.run_until(w.now() + Duration::millis(w.rng().below(3) == 0 ? 100 : 0));  // spread the phases
            w.prepare(NodeId{id}, {address_of(NodeId{1})}, v);
            w.start(NodeId{id}, {});  // resumes the settled view from its disk
        }
        std::string why;
        auto agreed = [&] { return w.converged({}, why); };
        w.run_until(w.now() + k_interval * 60, agreed);  // the start-up self updates spread
        // The change: one node restarts with a new incarnation and HTTP address.
        const NodeId changed{static_cast<std::uint32_t>(1 + w.rng().below(nodes))};
        w.crash(changed);
        w.start(changed, {address_of(NodeId{1})});
        const std::uint32_t inc = w.node(changed).g->incarnation();
        const Instant t0 = w.now();
        auto spread = [&] {
            for (std::uint32_t id = 1; id <= nodes; ++id) {
                const auto* m = gossip::find_member(w.node(NodeId{id}).g->view(), changed);
                if (!m || m->incarnation != inc) return false;
            }
            return true;
        };
        w.run_until(t0 + k_interval * 100, spread);
        const int rounds = spread() ? static_cast<int>(std::ceil(static_cast<double>((w.now() - t0).us) / k_interval.us)) : 100;
        total += rounds;
        out.max_rounds = std::max(out.max_rounds, rounds);
    }
    out.runs = runs;
    out.mean_rounds = runs ? total / runs : 0;
    return out;
}

}  // namespace shoal::sim

// ---- the CLI ------------------------------------------------------------------------

namespace shoal::sim {

namespace {

struct GossipOptions {
    bool spread = false;
    std::uint64_t first = 1, last = 1;
    bool single = false;
    std::vector<GossipScenario> scenarios{std::begin(k_all_gossip_scenarios), std::end(k_all_gossip_scenarios)};
    std::uint64_t determinism_every = 10;
    std::uint32_t spread_runs = 5;
    double drop = 0.0;
    bool verbose = false;
};

void gossip_usage(std::FILE* to) {
    std::fputs(
        "usage: shoal-sim gossip --spread [--spread-runs R] [--drop P]\n"
        "       shoal-sim gossip [--seed N | --seeds A-B] [--scenario S] [--verbose]\n"
        "\n"
        "Runs Shoal's membership core (src/gossip) on simulated nodes and network.\n"
        "  --spread          rounds for one change to reach every node of 4/16/64/256 nodes\n"
        "  --spread-runs R   seeds averaged per size (default 5)\n"
        "  --drop P          message-loss probability for --spread (default 0)\n"
        "  --scenario S      grow | shrink | replace | partition-join | concurrent-join |\n"
        "                    crash | all (default all: every scenario for every seed)\n"
        "  --seed N, --seeds A-B  which seeds (each seed also varies drops and zones)\n"
        "  --determinism K   re-run every K-th seed, compare trace hashes (default 10; 0 off)\n"
        "  --verbose         one line per run\n"
        "Checkers: after the last change and a healed network, all live nodes hold one view\n"
        "within 60 rounds, the claim is settled and balanced, every partition has N=3\n"
        "distinct primaries (distinct zones with >= 3 zones), statuses are as scripted,\n"
        "and no owner ever switches without a completed handoff (or a removal).\n"
        "The last line reads: gossip: runs=R seeds=S violations=V max_rounds=M\n",
        to);
}

bool parse_scenarios(std::string_view s, std::vector<GossipScenario>& out) {
    if (s == "all") {
        out.assign(std::begin(k_all_gossip_scenarios), std::end(k_all_gossip_scenarios));
        return true;
    }
    for (GossipScenario g : k_all_gossip_scenarios) {
        if (gossip_scenario_name(g) == s) {
            out = {g};
            return true;
        }
    }
    return false;
}

bool parse_gossip_args(int argc, char** argv, GossipOptions& o) {
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        auto value = [&]() -> std::string_view { return i + 1 < argc ? std::string_view(argv[++i]) : std::string_view(); };
        if (arg == "--help" || arg == "-h") {
            gossip_usage(stdout);
            std::exit(0);
        } else if (arg == "--spread") {
            o.spread = true;
        } else if (arg == "--spread-runs") {
            auto v = parse_u64(value());
            if (!v || *v == 0 || *v > 1000) return false;
            o.spread_runs = static_cast<std::uint32_t>(*v);
        } else if (arg == "--drop") {
            const std::string text(value());
            char* end = nullptr;
            o.drop = std::strtod(text.c_str(), &end);
            if (text.empty() || *end != '\0' || o.drop < 0 || o.drop >= 0.5) return false;
        } else if (arg == "--seed") {
            auto v = parse_u64(value());
            if (!v) return false;
            o.first = o.last = *v;
            o.single = true;
        } else if (arg == "--seeds") {
            if (!parse_seed_range(value(), 1'000'000, o.first, o.last)) return false;
        } else if (arg == "--scenario") {
            if (!parse_scenarios(value(), o.scenarios)) return false;
        } else if (arg == "--determinism") {
            auto v = parse_u64(value());
            if (!v) return false;
            o.determinism_every = *v;
        } else if (arg == "--verbose" || arg == "-v") {
            o.verbose = true;
        } else {
            std::fprintf(stderr, "shoal-sim gossip: unknown argument '%s'\n", argv[i]);
            return false;
        }
    }
    return true;
}

int run_spread(const GossipOptions& o) {
    std::printf("gossip spread: rounds for one change to reach every node (push-pull, 1 round = 1 interval,\n"
                "  %u seeds per size, drop=%.3f)\n", o.spread_runs, o.drop);
    std::printf("  %6s %8s %12s %11s %9s\n", "nodes", "log2(n)", "mean_rounds", "max_rounds", "mean/log2");
    // O(log n): every size must spread within 1.5 log2(n) + 1 rounds on average (linear
    // growth would need ~n/2); a change that never spreads is a failure too.
    bool ok = true;
    for (std::uint32_t n : {4u, 16u, 64u, 256u}) {
        const SpreadResult r = measure_spread(n, o.first, o.spread_runs, o.drop);
        const double lg = std::log2(static_cast<double>(n));
        std::printf("  %6u %8.0f %12.2f %11d %9.2f\n", n, lg, r.mean_rounds, r.max_rounds, r.mean_rounds / lg);
        std::fflush(stdout);
        if (r.max_rounds >= 100 || r.mean_rounds > 1.5 * lg + 1) ok = false;
    }
    std::printf("gossip spread: %s\n", ok ? "ok, grows no faster than log2(n)" : "VIOLATION: slower than logarithmic");
    return ok ? 0 : 1;
}

}  // namespace

int gossip_main(int argc, char** argv) {
    GossipOptions o;
    if (!parse_gossip_args(argc, argv, o)) {
        gossip_usage(stderr);
        return 2;
    }
    if (o.spread) return run_spread(o);
    const auto started = std::chrono::steady_clock::now();
    std::uint64_t runs = 0, violations = 0, converged = 0, rounds_sum = 0, messages = 0, dropped = 0;
    std::uint64_t determinism_runs = 0;
    int max_rounds = 0;
    for (std::uint64_t seed = o.first; seed <= o.last; ++seed) {
        for (GossipScenario sc : o.scenarios) {
            const GossipRunResult r = run_gossip_scenario(sc, seed);
            runs += 1;
            messages += r.messages;
            dropped += r.dropped;
            if (r.rounds_to_converge >= 0) {
                converged += 1;
                rounds_sum += static_cast<std::uint64_t>(r.rounds_to_converge);
                max_rounds = std::max(max_rounds, r.rounds_to_converge);
            }
            std::vector<std::string> found = r.violations;
            if (o.determinism_every != 0 && (seed % o.determinism_every == 0 || o.single)) {
                determinism_runs += 1;
                const GossipRunResult again = run_gossip_scenario(sc, seed);
                if (again.trace_hash != r.trace_hash) found.push_back("determinism: trace hashes differ");
            }
            if (o.verbose || o.single) {
                std::printf("seed %llu %s: trace=%016llx messages=%llu dropped=%llu rounds=%d violations=%zu\n",
                            (unsigned long long)seed, std::string(gossip_scenario_name(sc)).c_str(),
                            (unsigned long long)r.trace_hash, (unsigned long long)r.messages,
                            (unsigned long long)r.dropped, r.rounds_to_converge, found.size());
            }
            if (found.empty()) continue;
            violations += found.size();
            const std::size_t shown = std::min<std::size_t>(found.size(), 5);
            for (std::size_t i = 0; i < shown; ++i)
                std::printf("VIOLATION seed %llu %s: %s\n", (unsigned long long)seed,
                            std::string(gossip_scenario_name(sc)).c_str(), found[i].c_str());
            if (found.size() > shown) std::printf("  ... %zu more\n", found.size() - shown);
            std::printf("  replay: %s\n", gossip_replay_command(sc, seed).c_str());
        }
    }
    const double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::printf("gossip: %llu messages delivered, %llu dropped, %llu determinism re-runs, %.1f s wall\n",
                (unsigned long long)messages, (unsigned long long)dropped, (unsigned long long)determinism_runs, wall_s);
    std::printf("gossip: runs=%llu seeds=%llu converged=%llu mean_rounds=%.1f max_rounds=%d violations=%llu\n",
                (unsigned long long)runs, (unsigned long long)(o.last - o.first + 1), (unsigned long long)converged,
                converged ? static_cast<double>(rounds_sum) / static_cast<double>(converged) : 0.0, max_rounds,
                (unsigned long long)violations);
    return violations == 0 ? 0 : 1;
}

}  // namespace shoal::sim
