// shoal-sim: runs the replication core of many nodes in one process, on simulated
// time, with faults, and checks what the cluster promised. See src/sim/README.md.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "core/build_info.h"
#include "sim/gossip_sim.h"
#include "sim/args.h"
#include "sim/simulator.h"

namespace {

using namespace shoal;
using namespace shoal::sim;

struct Options {
    std::uint64_t first = 1, last = 1;
    enum class Mix { chaos, minority, mixed, repair, membership, one } mix = Mix::mixed;
    Scenario only = Scenario::chaos;  // with Mix::one
    replica::ConflictMode conflict = replica::ConflictMode::dvv;
    bool read_all = false;
    bool one_clock = false;
    store::SyncMode sync = store::SyncMode::batch;
    bool hinted_handoff = true, anti_entropy = true;
    bool ownership_handoff = true;
    bool datatypes = false;
    std::uint64_t determinism_every = 10;
    bool verbose = false;
    bool single = false;
};

void usage(std::FILE* to) {
    std::fputs(
        "usage: shoal-sim [--seed N | --seeds A-B] [options]\n"
        "\n"
        "Runs Shoal's replication core on simulated nodes, network and disks, injects\n"
        "faults chosen by each seed, and checks: no acknowledged write lost, no\n"
        "dominated siblings, writes available with a minority down, determinism; and\n"
        "after healing: replicas converge, no deleted key comes back, hints drain;\n"
        "membership scenarios also: views agree and settle, N distinct primaries per\n"
        "partition, every final primary holds every acknowledged add.\n"
        "\n"
        "  --seed N             run one seed and print its trace hash\n"
        "  --seeds A-B          sweep seeds A..B and print totals\n"
        "  --scenario S         chaos | minority | mixed (default: mixed, every 4th\n"
        "                       seed runs the minority-outage scenario) | repair\n"
        "                       (cycles through the repair scenarios) | one of them:\n"
        "                       hints | wipe | divergence | missed-delete | corruption\n"
        "                       | membership (cycles through the membership scenarios,\n"
        "                       gossip and handoff streams with data) | one of them:\n"
        "                       grow | shrink | replace | crash-handoff | partition-join |\n"
        "                       concurrent-join | clock (wall-clock jumps of up to 30 s\n"
        "                       and nothing else: every request must succeed)\n"
        "  --conflict M         dvv (default) | lww: last writer wins, loses adds\n"
        "  --read-fanout F      quorum (default: a read asks R replicas, more on\n"
        "                       failure or silence) | all (every replica at once)\n"
        "  --datatypes          half of the odd keys are sets (add, remove what was\n"
        "                       read) and half counters (increment): no acknowledged\n"
        "                       add or increment may be lost\n"
        "  --one-clock          clock jumps move the monotonic clock too, as on a node\n"
        "                       that times deadlines by its wall clock (the teeth of\n"
        "                       the clock scenario)\n"
        "  --sync M             batch (default) | always | none\n"
        "  --repair R           on (default) | off | no-hints | no-ae: which repair\n"
        "                       paths run (off shows convergence failures)\n"
        "  --determinism K      re-run every K-th seed and compare trace hashes\n"
        "                       (default 10; 0 = never)\n"
        "  --verbose            one line per seed\n"
        "  --help               this text\n"
        "\n"
        "Exit status: 0 when no checker found a violation, 1 when one did, 2 on bad\n"
        "arguments. The last line reads: seeds=S ops=O acked=A lost_acked=L violations=V\n",
        to);
}

bool parse_args(int argc, char** argv, Options& o) {
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        auto value = [&]() -> std::string_view {
            return i + 1 < argc ? std::string_view(argv[++i]) : std::string_view();
        };
        if (arg == "--help" || arg == "-h") {
            usage(stdout);
            std::exit(0);
        } else if (arg == "--seed") {
            auto v = parse_u64(value());
            if (!v) return false;
            o.first = o.last = *v;
            o.single = true;
        } else if (arg == "--seeds") {
            if (!parse_seed_range(value(), 10'000'000, o.first, o.last)) return false;
        } else if (arg == "--scenario") {
            std::string_view s = value();
            bool known = false;
            for (Scenario one : k_repair_scenarios) {
                if (s == scenario_name(one)) {
                    o.mix = Options::Mix::one;
                    o.only = one;
                    known = true;
                }
            }
            for (Scenario one : k_membership_scenarios) {
                if (s == scenario_name(one)) {
                    o.mix = Options::Mix::one;
                    o.only = one;
                    known = true;
                }
            }
            if (s == "chaos")
                o.mix = Options::Mix::chaos;
            else if (s == "minority")
                o.mix = Options::Mix::minority;
            else if (s == "mixed")
                o.mix = Options::Mix::mixed;
            else if (s == "repair")
                o.mix = Options::Mix::repair;
            else if (s == "membership")
                o.mix = Options::Mix::membership;
            else if (s == "clock") {
                o.mix = Options::Mix::one;
                o.only = Scenario::clock;
            }
            else if (!known)
                return false;
        } else if (arg == "--conflict") {
            std::string_view s = value();
            if (s == "dvv")
                o.conflict = replica::ConflictMode::dvv;
            else if (s == "lww")
                o.conflict = replica::ConflictMode::lww;
            else
                return false;
        } else if (arg == "--read-fanout") {
            std::string_view s = value();
            if (s != "quorum" && s != "all") return false;
            o.read_all = s == "all";
        } else if (arg == "--one-clock") {
            o.one_clock = true;
        } else if (arg == "--sync") {
            auto mode = store::parse_sync_mode(value());
            if (!mode) return false;
            o.sync = *mode;
        } else if (arg == "--repair") {
            std::string_view s = value();
            if (s != "on" && s != "off" && s != "no-hints" && s != "no-ae") return false;
            o.hinted_handoff = s == "on" || s == "no-ae";
            o.anti_entropy = s == "on" || s == "no-hints";
        } else if (arg == "--handoff") {
            // Hidden, for the checkers' teeth: "off" reports every move complete without
            // streaming, and turns anti-entropy off, so new owners miss data.
            std::string_view s = value();
            if (s != "on" && s != "off") return false;
            o.ownership_handoff = s == "on";
        } else if (arg == "--determinism") {
            auto v = parse_u64(value());
            if (!v) return false;
            o.determinism_every = *v;
        } else if (arg == "--datatypes") {
            o.datatypes = true;
        } else if (arg == "--verbose" || arg == "-v") {
            o.verbose = true;
        } else {
            std::fprintf(stderr, "shoal-sim: unknown argument '%s'\n", argv[i]);
            return false;
        }
    }
    return true;
}

SimConfig make_config(const Options& o, std::uint64_t seed) {
    Scenario scenario = Scenario::chaos;
    if (o.mix == Options::Mix::minority || (o.mix == Options::Mix::mixed && seed % 4 == 0)) {
        scenario = Scenario::minority;
    } else if (o.mix == Options::Mix::repair) {
        scenario = k_repair_scenarios[seed % std::size(k_repair_scenarios)];
    } else if (o.mix == Options::Mix::membership) {
        scenario = k_membership_scenarios[seed % std::size(k_membership_scenarios)];
    } else if (o.mix == Options::Mix::one) {
        scenario = o.only;
    }
    SimConfig c = config_for_seed(seed, scenario);
    c.conflict = o.conflict;
    c.read_all = o.read_all;
    c.one_clock = o.one_clock;
    c.sync = o.sync;
    c.hinted_handoff = o.hinted_handoff;
    c.anti_entropy = o.anti_entropy && o.ownership_handoff;
    c.ownership_handoff = o.ownership_handoff;
    c.datatypes = o.datatypes;
    return c;
}

struct Totals {
    std::uint64_t seeds = 0, ops = 0, acked = 0, failed = 0, siblings = 0, lost = 0, acked_not_durable = 0, dominated = 0,
                  foreign = 0;
    std::uint64_t events = 0, violations = 0, availability_runs = 0, availability_violations = 0;
    std::uint64_t determinism_runs = 0, determinism_violations = 0;
    std::uint64_t divergent = 0, resurrected = 0, hints_left = 0, hints_delivered = 0, ae_exchanges = 0;
    std::uint64_t commits = 0, commit_turns = 0, commits_lost = 0, commit_failed_replies = 0;
    std::uint64_t keys_repaired = 0, corrupt_repaired = 0, reaped = 0;
    std::vector<std::int64_t> converge_us;
    std::uint64_t refill_ae_bytes = 0, refill_data_bytes = 0, wipe_runs = 0, never_converged = 0;
    std::vector<std::int64_t> one_key_us;
    std::uint64_t one_key_ae_bytes = 0;
    std::uint64_t avail_attempted = 0, avail_ok = 0;
    FaultCounts faults;
    std::uint64_t membership_runs = 0, joins = 0, leaves = 0, removes = 0, exits = 0;
    std::uint64_t agreement = 0, owners = 0, owner_missing = 0, left_behind = 0;
    std::uint64_t handoff_keys = 0, handoff_received = 0, forwarded = 0, streams = 0;
    std::uint64_t dt_adds = 0, dt_increments = 0, dt_lost = 0, dt_counters = 0, dt_overcount = 0, deltas = 0,
                  deltas_refused = 0;
};

void add(Totals& t, const RunResult& r) {
    ++t.seeds;
    t.ops += r.ops;
    t.acked += r.acked_writes;
    t.failed += r.failed_requests;
    t.siblings += r.siblings_seen;
    t.lost += r.lost_acked;
    t.acked_not_durable += r.acked_not_durable;
    t.dominated += r.dominated;
    t.foreign += r.foreign;
    t.events += r.events;
    t.violations += r.violations.size();
    t.faults.add(r.faults);
    t.divergent += r.divergent_keys;
    t.resurrected += r.resurrected;
    t.hints_left += r.hints_left;
    t.hints_delivered += r.hints_delivered;
    t.commits += r.commits;
    t.commit_turns += r.commit_turns;
    t.commits_lost += r.commits_lost;
    t.commit_failed_replies += r.commit_failed_replies;
    t.ae_exchanges += r.ae_exchanges;
    t.keys_repaired += r.ae_keys_repaired;
    t.corrupt_repaired += r.corrupt_repaired;
    t.reaped += r.tombstones_reaped;
    t.dt_adds += r.dt_adds_acked;
    t.dt_increments += r.dt_increments_acked;
    t.dt_lost += r.dt_lost_adds;
    t.dt_counters += r.dt_counter_violations;
    t.dt_overcount += r.dt_overcount;
    t.deltas += r.deltas_sent;
    t.deltas_refused += r.deltas_refused;
    if (r.faults.wipes > 0) {
        ++t.wipe_runs;
        if (r.converge_us < 0) {
            ++t.never_converged;
        } else {
            t.converge_us.push_back(r.converge_us);
            t.refill_ae_bytes += r.refill_ae_bytes;
            t.refill_data_bytes += r.refill_data_bytes;
        }
        if (r.one_key_us > 0) {
            t.one_key_us.push_back(r.one_key_us);
            t.one_key_ae_bytes += r.one_key_ae_bytes;
        }
    }
    if (r.membership_checked) {
        ++t.membership_runs;
        t.joins += r.joins;
        t.leaves += r.leaves;
        t.removes += r.removes;
        t.exits += r.exits;
        t.agreement += r.agreement_failures;
        t.owners += r.owners_failures;
        t.owner_missing += r.owner_missing;
        t.left_behind += r.left_behind;
        t.handoff_keys += r.handoff_keys_sent;
        t.handoff_received += r.handoff_keys_received;
        t.forwarded += r.writes_forwarded;
        t.streams += r.handoffs_completed;
    }
    if (r.availability_checked) {
        ++t.availability_runs;
        t.avail_attempted += r.availability_attempted;
        t.avail_ok += r.availability_succeeded;
        for (const auto& v : r.violations) t.availability_violations += v.rfind("availability", 0) == 0 ? 1 : 0;
    }
}

void print_totals(const Totals& t, double wall_s) {
    const auto& f = t.faults;
    std::printf("operations   %llu client requests, %llu acknowledged writes, %llu failed requests\n",
                (unsigned long long)t.ops, (unsigned long long)t.acked, (unsigned long long)t.failed);
    std::printf("siblings     %llu reads returned concurrent siblings\n", (unsigned long long)t.siblings);
    std::printf(
        "faults       dropped=%llu duplicated=%llu delayed=%llu held_for_restart=%llu partitions=%llu "
        "asymmetric_cuts=%llu "
        "crashes=%llu restarts=%llu clock_jumps=%llu disk_errors=%llu link_stalls=%llu (reopened %llu on suspicion, "
        "%llu by the watchdog)\n",
        (unsigned long long)f.dropped, (unsigned long long)f.duplicated, (unsigned long long)f.delayed,
        (unsigned long long)f.held_for_restart, (unsigned long long)f.partitions, (unsigned long long)f.asymmetric_cuts, (unsigned long long)f.crashes,
        (unsigned long long)f.restarts, (unsigned long long)f.clock_jumps, (unsigned long long)f.disk_errors,
        (unsigned long long)f.link_stalls, (unsigned long long)f.stalls_reopened_on_suspicion,
        (unsigned long long)f.stalls_reopened_by_watchdog);
    std::printf(
        "checkers     lost-ack=%llu ack-before-durable=%llu dominated-siblings=%llu foreign-value=%llu "
        "availability=%llu (of %llu "
        "minority runs, %llu/%llu writes ok) determinism=%llu (of %llu re-runs)\n",
        (unsigned long long)t.lost, (unsigned long long)t.acked_not_durable, (unsigned long long)t.dominated, (unsigned long long)t.foreign,
        (unsigned long long)t.availability_violations,
        (unsigned long long)t.availability_runs, (unsigned long long)t.avail_ok, (unsigned long long)t.avail_attempted,
        (unsigned long long)t.determinism_violations, (unsigned long long)t.determinism_runs);
    std::printf(
        "repair       convergence=%llu resurrection=%llu hints-drain=%llu (violations); hints delivered=%llu "
        "exchanges=%llu keys repaired=%llu corrupt values replaced=%llu tombstones reaped=%llu\n",
        (unsigned long long)t.divergent, (unsigned long long)t.resurrected, (unsigned long long)t.hints_left,
        (unsigned long long)t.hints_delivered, (unsigned long long)t.ae_exchanges, (unsigned long long)t.keys_repaired,
        (unsigned long long)t.corrupt_repaired, (unsigned long long)t.reaped);
    std::printf("commits      %llu batches carried %llu turns' writes (%.2f per batch); %llu lost, failing %llu replies\n",
                (unsigned long long)t.commits, (unsigned long long)t.commit_turns,
                t.commits ? static_cast<double>(t.commit_turns) / static_cast<double>(t.commits) : 0.0,
                (unsigned long long)t.commits_lost, (unsigned long long)t.commit_failed_replies);
    if (t.wipe_runs > 0) {
        auto sorted = t.converge_us;
        std::sort(sorted.begin(), sorted.end());
        const auto at = [&](double q) {
            return sorted.empty() ? 0.0 : static_cast<double>(sorted[static_cast<std::size_t>(q * (sorted.size() - 1))]) / 1000.0;
        };
        std::printf(
            "wipe         %llu runs, %llu never converged; time to converge p50=%.0f ms max=%.0f ms; anti-entropy "
            "sent %llu bytes to refill %llu stored bytes (%.2fx)\n",
            (unsigned long long)t.wipe_runs, (unsigned long long)t.never_converged, at(0.5), at(1.0),
            (unsigned long long)t.refill_ae_bytes, (unsigned long long)t.refill_data_bytes,
            t.refill_data_bytes ? static_cast<double>(t.refill_ae_bytes) / static_cast<double>(t.refill_data_bytes) : 0.0);
        const double runs = static_cast<double>(std::max<std::size_t>(t.one_key_us.size(), 1));
        std::printf(
            "one key     %zu runs: one record lost on a converged replica is restored in %.0f ms on average, "
            "with %.0f anti-entropy bytes per run (%.2f%% of the %.0f bytes a full refill held)\n",
            t.one_key_us.size(), [&] {
                double sum = 0;
                for (auto us : t.one_key_us) sum += static_cast<double>(us) / 1000.0;
                return sum / runs;
            }(),
            static_cast<double>(t.one_key_ae_bytes) / runs,
            t.refill_data_bytes ? 100.0 * static_cast<double>(t.one_key_ae_bytes) / static_cast<double>(t.refill_data_bytes)
                                : 0.0,
            static_cast<double>(t.refill_data_bytes) / runs);
    }
    if (t.membership_runs > 0) {
        std::printf(
            "membership   %llu runs: joins=%llu leaves=%llu removals=%llu exits=%llu; membership-agreement=%llu "
            "owners=%llu owner-holds=%llu stale-copy=%llu (violations)\n",
            (unsigned long long)t.membership_runs, (unsigned long long)t.joins, (unsigned long long)t.leaves,
            (unsigned long long)t.removes, (unsigned long long)t.exits, (unsigned long long)t.agreement,
            (unsigned long long)t.owners, (unsigned long long)t.owner_missing, (unsigned long long)t.left_behind);
        std::printf("handoff      keys handed off=%llu (received %llu) writes forwarded=%llu streams completed=%llu\n",
                    (unsigned long long)t.handoff_keys, (unsigned long long)t.handoff_received,
                    (unsigned long long)t.forwarded, (unsigned long long)t.streams);
    }
    if (t.dt_adds + t.dt_increments > 0) {
        std::printf("datatypes    %llu set adds and map field writes, %llu increments acknowledged; dt-lost-add=%llu dt-counter=%llu "
                    "(violations); %llu increments counted beyond those sent (a leader's lost answer); %llu sent to "
                    "replicas as patches, %llu of them refused for a copy that was not the leader's\n",
                    (unsigned long long)t.dt_adds, (unsigned long long)t.dt_increments, (unsigned long long)t.dt_lost,
                    (unsigned long long)t.dt_counters, (unsigned long long)t.dt_overcount, (unsigned long long)t.deltas,
                    (unsigned long long)t.deltas_refused);
    }
    std::printf("speed        %.1f s wall, %.0f simulated requests/s, %.0f events/s\n", wall_s,
                wall_s > 0 ? static_cast<double>(t.ops) / wall_s : 0.0,
                wall_s > 0 ? static_cast<double>(t.events) / wall_s : 0.0);
    std::printf("seeds=%llu ops=%llu acked=%llu lost_acked=%llu violations=%llu\n", (unsigned long long)t.seeds,
                (unsigned long long)t.ops, (unsigned long long)t.acked, (unsigned long long)t.lost,
                (unsigned long long)(t.violations + t.determinism_violations));
}

}  // namespace

int main(int argc, char** argv) {
    if (argc == 2 && std::string_view(argv[1]) == "--version") {
        std::puts(shoal::version_line("shoal-sim").c_str());
        return 0;
    }
    if (argc > 1 && std::string_view(argv[1]) == "gossip") return shoal::sim::gossip_main(argc - 1, argv + 1);
    Options o;
    if (!parse_args(argc, argv, o)) {
        usage(stderr);
        return 2;
    }
    const auto started = std::chrono::steady_clock::now();
    Totals totals;
    for (std::uint64_t seed = o.first; seed <= o.last; ++seed) {
        const SimConfig config = make_config(o, seed);
        const RunResult r = run_simulation(config);
        add(totals, r);
        if (o.single || o.verbose) {
            std::printf("seed %llu: trace=%016llx ops=%llu acked=%llu siblings=%llu lost_acked=%llu violations=%zu",
                        (unsigned long long)seed, (unsigned long long)r.trace_hash, (unsigned long long)r.ops,
                        (unsigned long long)r.acked_writes, (unsigned long long)r.siblings_seen,
                        (unsigned long long)r.lost_acked, r.violations.size());
            if (r.membership_checked) {
                std::printf(" %s members=%u handoff_keys=%llu forwarded=%llu streams=%llu",
                            scenario_name(config.scenario), r.members_final, (unsigned long long)r.handoff_keys_sent,
                            (unsigned long long)r.writes_forwarded, (unsigned long long)r.handoffs_completed);
            }
            std::printf("\n");
        }
        if (o.determinism_every != 0 && (seed % o.determinism_every == 0 || o.single)) {
            ++totals.determinism_runs;
            const RunResult again = run_simulation(config);
            if (again.trace_hash != r.trace_hash) {
                ++totals.determinism_violations;
                std::printf("VIOLATION seed %llu: determinism: trace %016llx then %016llx\n", (unsigned long long)seed,
                            (unsigned long long)r.trace_hash, (unsigned long long)again.trace_hash);
            }
        }
        if (!r.violations.empty()) {
            const std::size_t shown = std::min<std::size_t>(r.violations.size(), 5);
            for (std::size_t i = 0; i < shown; ++i) {
                std::printf("VIOLATION seed %llu: %s\n", (unsigned long long)seed, r.violations[i].c_str());
            }
            if (r.violations.size() > shown) std::printf("  ... %zu more\n", r.violations.size() - shown);
            std::printf("  replay: %s\n", replay_command(config).c_str());
        }
    }
    const double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    print_totals(totals, wall_s);
    return totals.violations + totals.determinism_violations == 0 ? 0 : 1;
}
