// shoal-bench: a load generator for Shoal (native and HTTP) and for Redis (RESP).
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "client/dev_cluster.h"
#include "core/limits.h"
#include "client/dev_netns.h"
#include "client/dev_tls.h"
#include "client/http_get.h"
#include "core/build_info.h"
#include "fault.h"
#include "report.h"
#include "runner.h"
#include "tls/context.h"

using namespace shoal::bench;

namespace {

const char* k_help = R"(usage: shoal-bench [options]

Drives load at a Shoal cluster (native protocol or HTTP) or at redis-server (RESP) and
reports throughput, latency percentiles, errors by kind, CPU cost and fault phases.

Target
  --driver native|http|resp   protocol (default native)
  --dev DIR                   a `shoal dev` cluster folder: takes its node addresses (client
                              ports for native, HTTP ports for http, Redis ports for resp),
                              costs its shoald processes, and is what --fault acts on
  --nodes H:P,...             addresses to use instead (for resp: redis-server's)
  --pid PID                   also cost this process (repeatable; e.g. redis-server's pid)
  --cacert F [--cert F --key F]   TLS to the nodes (default: a TLS dev cluster's CA and admin
                              certificate, from --dev)

Workload
  --preset NAME               a     50% read, 50% update              (zipfian)
                              b     95% read,  5% update              (zipfian)
                              c    100% read                          (zipfian)
                              f     50% read, 50% read-modify-write   (zipfian)
                              cart  80% cart: read, add an item, write back with the
                                    read's context; 20% read          (zipfian, always)
                              session 70% read, 20% update, 10% insert of new keys,
                                    writes with a TTL (600 s)         (latest)
                              (default a)
  --mix read=W,update=W,insert=W,rmw=W,cart=W   custom weights instead of the preset's
  --dist uniform|zipfian|latest                 key distribution (default: the preset's)
  --theta T                   zipfian skew (default 0.99)
  --keys N                    key count (default 100000)
  --value-size B | LO-HI      value bytes, fixed or uniform in a range (default 100)
  --ttl-s S                   expiry on every write (default: the preset's; 0 = none)
  --no-context-cache          updates are blind writes (Shoal keeps them as siblings);
                              default: an update carries the context of this process's
                              most recent read of that key (no extra round trip)

Per request (native and http; 0 = the node's default)
  --n N --r R --w W --pr P --pw P
  --timeout-ms T              request deadline, all attempts included (default 5000)

Loop
  --clients C                 closed loop: C clients, one connection and one request
                              outstanding each; open loop: C connections (default 50)
  --threads T                 worker threads, each with its own io_context (default 1)
  --rate R                    open loop at R ops/s: request i is due at start + i/R and its
                              latency counts from then (no coordinated omission); due
                              requests beyond --max-outstanding fail as bench_backlog
  --max-outstanding N         open loop bound per thread (default 20000)
  --sweep-p999-ms B           sweep: open-loop steps (x1.5 up, then bisect) to find the
                              highest rate whose p99.9 stays under B ms, with <= 1% errors
                              and >= 95% of the target rate achieved
  --sweep-start R             first sweep rate (default 2000)
  --sweep-steps K             at most K sweep steps (default 10)

Phases
  --no-load                   skip the load phase (writing every key once)
  --load-only                 load, then exit
  --warmup D                  run the workload for D before measuring, unrecorded (default 2s)
  --duration D                measure for D (default 10s); D like 10s, 500ms, 1m
  --ops N                     measure N operations instead of a duration

Faults (need --dev)
  --fault "at=10s kill n2; at=25s restart n2"
                              actions kill (SIGKILL), stop (SIGSTOP), cont (SIGCONT),
                              restart; on a netns cluster (shoal dev up N --netns) also
                              partition 1/2,3 [--one-way], bridge 1 2,3, netem 2 delay=20ms
                              loss=5%, heal; and clock n2 +30s / clock n2 0 (a node's wall
                              clock set off, then right). Times from the start of the measure
                              phase. The report
                              splits availability and latency by phase: before (until the
                              first disruptive action), during (until the last restart, cont
                              or heal has completed), after.

Checking (cart adds; with --preset cart or a --mix with cart)
  --check                     every cart add gets an item of its own (none dropped) and each
                              acknowledged add is recorded. After the run (and the faults'
                              restores), every cart written is read through every node with
                              r=all until the nodes agree (or --check-timeout passes, default
                              60s): prints acknowledged adds lost, carts whose nodes disagree,
                              stale reads (a connection's read that missed an add it had seen
                              acknowledged) and siblings per cart. Exit status 3 on any lost
                              add or disagreement.
  --check-timeout D           how long to wait for the nodes to agree

Redis sets (--driver resp)
  --resp-db N                 every connection first selects database N (a Shoal node maps
                              each to a namespace: resp_databases)
  --sets                      carts are sets: a cart add is one SADD of a new item (no read
                              first), a read SMEMBERS; needs a set database (Shoal: a namespace
                              made with --datatype set). Reads and cart adds only; with --check
                              the carts are read back with SMEMBERS through every node at r=all

Output
  a live line each second; a final table per operation (count, ok, errors by kind, ops/s,
  p50/p90/p99/p99.9/max from log-linear histograms, relative error <= 0.8%); CPU cost of the
  server processes from /proc (seconds per 1,000 ops).
  --csv FILE                  time series, one row per second
  --json FILE                 summary: settings, git revision, machine, results, cost
  --plot FILE.png             throughput and latency over time, faults marked (gnuplot)
  --title TEXT                the plot's title
  --quiet                     no live lines
  --seed S                    random seed (default 1)
  --table A.json,B.json       print a Markdown results table from summaries, then exit
                              (a sweep's row is its best passing step)
  --help

Exit status: 0 done (figures are printed, never asserted), 2 usage, 1 the target failed
(nothing connected, or the load phase failed entirely).
)";

struct Args {
    std::map<std::string, std::vector<std::string>> opts;
    std::map<std::string, bool> flags;
};

bool parse_args(int argc, char** argv, Args& a, std::string& error) {
    static const char* k_flags[] = {"help", "no-load", "load-only", "no-context-cache", "quiet", "check", "sets"};
    for (int i = 1; i < argc; ++i) {
        std::string s = argv[i];
        if (s.rfind("--", 0) != 0) {
            error = "unexpected argument '" + s + "'";
            return false;
        }
        std::string name = s.substr(2), value;
        const auto eq = name.find('=');
        bool has_value = eq != std::string::npos;
        if (has_value) {
            value = name.substr(eq + 1);
            name = name.substr(0, eq);
        }
        bool is_flag = false;
        for (const char* f : k_flags) is_flag = is_flag || name == f;
        if (is_flag) {
            a.flags[name] = true;
            continue;
        }
        if (!has_value) {
            if (i + 1 >= argc) {
                error = "--" + name + " needs a value";
                return false;
            }
            value = argv[++i];
        }
        a.opts[name].push_back(value);
    }
    return true;
}

std::vector<std::string> split_list(const std::string& s) {
    std::vector<std::string> out;
    std::size_t pos = 0;
    while (pos <= s.size()) {
        auto c = s.find(',', pos);
        if (c == std::string::npos) c = s.size();
        if (c > pos) out.push_back(s.substr(pos, c - pos));
        pos = c + 1;
    }
    return out;
}

struct Settings {
    RunSettings run;
    double sweep_bound_ms = 0, sweep_start = 2000;
    int sweep_steps = 10;
    bool load_only = false;
    double check_timeout_s = 60;
    std::string csv, json, plot, title;
};

[[noreturn]] void usage_error(const std::string& msg) {
    std::fprintf(stderr, "shoal-bench: %s (see --help)\n", msg.c_str());
    std::exit(2);
}

std::string shortest(double v) {  // 15, 0.999, 1e+12: as a person writes it
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v);
    return buf;
}

double number(const Args& a, const std::string& name, double def, double lo, double hi) {
    auto it = a.opts.find(name);
    if (it == a.opts.end()) return def;
    char* end = nullptr;
    const double v = std::strtod(it->second.back().c_str(), &end);
    if (end == it->second.back().c_str() || *end != '\0' || !(v >= lo && v <= hi))
        usage_error("--" + name + " must be a number in [" + shortest(lo) + ", " + shortest(hi) + "]");
    return v;
}

// A whole number in [lo, hi].
long long whole(const Args& a, const std::string& name, long long def, long long lo, long long hi) {
    const double v = number(a, name, static_cast<double>(def), static_cast<double>(lo), static_cast<double>(hi));
    if (v != std::floor(v)) usage_error("--" + name + " must be a whole number in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
    return static_cast<long long>(v);
}

double seconds_opt(const Args& a, const std::string& name, double def) {
    auto it = a.opts.find(name);
    if (it == a.opts.end()) return def;
    auto ms = parse_duration_ms(it->second.back());
    if (!ms) {
        // a bare number means seconds
        char* end = nullptr;
        const double v = std::strtod(it->second.back().c_str(), &end);
        if (end == it->second.back().c_str() || *end != '\0' || v < 0) usage_error("--" + name + ": bad duration");
        return v;
    }
    return static_cast<double>(*ms) / 1000.0;
}

std::string opt(const Args& a, const std::string& name, const std::string& def = "") {
    auto it = a.opts.find(name);
    return it == a.opts.end() ? def : it->second.back();
}

void apply_mix(const std::string& text, WorkloadSpec& w) {
    Mix m;
    for (const auto& item : split_list(text)) {
        const auto eq = item.find('=');
        if (eq == std::string::npos) usage_error("--mix wants op=weight items");
        const std::string op = item.substr(0, eq);
        bool found = false;
        for (std::size_t i = 0; i < k_op_kinds; ++i) {
            if (op_name(static_cast<OpKind>(i)) == op) {
                m.weight[i] = std::atof(item.c_str() + eq + 1);
                found = m.weight[i] >= 0;
            }
        }
        if (!found) usage_error("--mix: unknown op '" + op + "' (read, update, insert, rmw, cart)");
    }
    double sum = 0;
    for (double x : m.weight) sum += x;
    if (sum <= 0) usage_error("--mix: weights sum to zero");
    w.mix = m;
    w.preset = "custom";
}

Settings settings_from(const Args& a) {
    Settings s;
    auto& r = s.run;
    if (auto d = parse_driver(opt(a, "driver", "native")))
        r.driver = *d;
    else
        usage_error("--driver must be native, http or resp");
    r.dev_dir = opt(a, "dev");
    if (a.opts.count("nodes")) {
        r.nodes = split_list(opt(a, "nodes"));
    } else if (!r.dev_dir.empty()) {
        for (const auto& n : shoal::client::dev_nodes(r.dev_dir))
            r.nodes.push_back(r.driver == DriverKind::http   ? n.http
                              : r.driver == DriverKind::resp ? shoal::client::resp_address(n)
                                                             : n.client);
        if (r.nodes.empty()) usage_error("no `shoal dev` cluster in " + r.dev_dir);
    }
    if (r.nodes.empty()) usage_error("name a target: --dev DIR or --nodes H:P,...");
    // TLS: the dev cluster's CA and admin certificate, or the files named.
    if (!r.dev_dir.empty()) r.tls = shoal::client::dev_client_tls(r.dev_dir);
    if (a.opts.count("cacert")) r.tls = shoal::tls::Files{opt(a, "cacert"), opt(a, "cert"), opt(a, "key")};
    if (r.tls.enabled()) {
        std::string why;
        if (!shoal::tls::client_context(r.tls, why)) usage_error("tls: " + why);
    }
    shoal::client::set_http_tls(r.tls);
    if (a.opts.count("pid")) {
        for (const auto& p : a.opts.at("pid")) r.cost_pids.push_back(std::atoi(p.c_str()));
    }
    const std::string preset = opt(a, "preset", "a");
    if (!apply_preset(preset, r.workload)) usage_error("unknown --preset '" + preset + "'");
    if (a.opts.count("mix")) apply_mix(opt(a, "mix"), r.workload);
    if (a.opts.count("dist")) {
        auto d = parse_key_dist(opt(a, "dist"));
        if (!d) usage_error("--dist must be uniform, zipfian or latest");
        r.workload.dist = *d;
    }
    r.workload.theta = number(a, "theta", 0.99, 0.01, 0.999);
    r.workload.key_count = static_cast<std::uint64_t>(number(a, "keys", 100000, 1, 1e9));
    if (a.opts.count("value-size") &&
        !parse_value_size(opt(a, "value-size"), r.workload.value_min_bytes, r.workload.value_max_bytes))
        usage_error("--value-size wants B or LO-HI");
    r.workload.ttl_s = static_cast<std::int64_t>(number(a, "ttl-s", static_cast<double>(r.workload.ttl_s), 0, 1e9));
    r.context_cache = !a.flags.count("no-context-cache");
    r.knobs.n = static_cast<std::uint32_t>(number(a, "n", 0, 0, 64));
    r.knobs.r = static_cast<std::uint32_t>(number(a, "r", 0, 0, 64));
    r.knobs.w = static_cast<std::uint32_t>(number(a, "w", 0, 0, 64));
    r.knobs.pr = static_cast<std::uint32_t>(number(a, "pr", 0, 0, 64));
    r.knobs.pw = static_cast<std::uint32_t>(number(a, "pw", 0, 0, 64));
    r.knobs.timeout_ms = static_cast<std::int64_t>(number(a, "timeout-ms", 5000, 1, 600000));
    r.clients = static_cast<int>(number(a, "clients", 50, 1, 10000));
    r.threads = static_cast<int>(number(a, "threads", 1, 1, 64));
    r.rate = number(a, "rate", 0, 0, 1e8);
    r.max_outstanding = static_cast<std::uint64_t>(number(a, "max-outstanding", 20000, 1, 1e7));
    r.duration_s = seconds_opt(a, "duration", 10);
    r.warmup_s = seconds_opt(a, "warmup", 2);
    r.max_ops = static_cast<std::uint64_t>(number(a, "ops", 0, 0, 1e12));
    r.load = !a.flags.count("no-load");
    r.seed = static_cast<std::uint64_t>(number(a, "seed", 1, 0, 1e18));
    r.live = !a.flags.count("quiet");
    r.check = a.flags.count("check") > 0;
    if (a.opts.count("fault")) {
        std::string all;
        for (const auto& f : a.opts.at("fault")) all += f + ";";
        auto parsed = parse_faults(all);
        if (!parsed.error.empty()) usage_error("--fault: " + parsed.error);
        r.faults = parsed.events;
        if (r.dev_dir.empty()) usage_error("--fault needs --dev DIR (faults act on a `shoal dev` cluster)");
        const auto nodes = shoal::client::dev_nodes(r.dev_dir);
        const bool netns = !shoal::client::netns::tag_of(r.dev_dir).empty();
        for (const auto& ev : r.faults) {
            if (ev.node > static_cast<int>(nodes.size())) usage_error("--fault names n" + std::to_string(ev.node) + ", which the cluster lacks");
            if (ev.action >= FaultAction::partition && ev.action != FaultAction::clock && !netns)
                usage_error("--fault: " + describe(ev) + " needs a netns cluster (shoal dev up N --netns)");
        }
    }
    s.sweep_bound_ms = number(a, "sweep-p999-ms", 0, 0, 1e6);
    s.sweep_start = number(a, "sweep-start", 2000, 1, 1e8);
    s.sweep_steps = static_cast<int>(number(a, "sweep-steps", 10, 1, 50));
    s.load_only = a.flags.count("load-only") > 0;
    s.check_timeout_s = seconds_opt(a, "check-timeout", 60);
    if (r.check && r.workload.mix.weight[static_cast<std::size_t>(OpKind::cart)] <= 0)
        usage_error("--check verifies cart adds: use --preset cart, or a --mix with cart");
    r.sets = a.flags.count("sets") > 0;
    if (a.opts.count("resp-db")) {
        if (r.driver != DriverKind::resp) usage_error("--resp-db applies to --driver resp");
        r.resp_db = static_cast<int>(whole(a, "resp-db", 0, 0, static_cast<long long>(shoal::k_max_resp_databases) - 1));
    }
    if (r.sets) {
        if (r.driver != DriverKind::resp) usage_error("--sets keeps carts as Redis sets: use --driver resp");
        for (std::size_t k = 0; k < k_op_kinds; ++k) {
            const auto kind = static_cast<OpKind>(k);
            if (r.workload.mix.weight[k] > 0 && kind != OpKind::read && kind != OpKind::cart)
                usage_error("--sets runs reads (SMEMBERS) and cart adds (SADD) only: use --preset cart or a --mix of read and cart");
        }
    }
    if (r.check && r.driver != DriverKind::native && !r.sets)
        usage_error("--check reads back through the native protocol: use --driver native (or --driver resp --sets)");
    s.csv = opt(a, "csv");
    s.json = opt(a, "json");
    s.plot = opt(a, "plot");
    s.title = opt(a, "title", "shoal-bench " + std::string(driver_name(r.driver)) + " preset " + r.workload.preset);
    if (!s.plot.empty() && s.csv.empty()) s.csv = s.plot + ".csv";
    return s;
}

bool sweep_verdict(const StepResult& r, double bound_ms, std::string& why) {
    const auto all = r.total.all();
    const double p999 = static_cast<double>(all.latency_ns.percentile(0.999)) / 1e6;
    const auto count = all.ok + all.errors;
    if (count == 0) {
        why = "no operations";
        return false;
    }
    if (static_cast<double>(all.errors) > 0.01 * static_cast<double>(count)) {
        why = "errors over 1%";
        return false;
    }
    if (r.ops_per_s() < 0.95 * r.target_rate) {
        why = "achieved under 95% of target";
        return false;
    }
    if (p999 > bound_ms) {
        why = "p99.9 over bound";
        return false;
    }
    return true;
}

void run_sweep(Engine& engine, const Settings& s, RunReport& report) {
    double lo = 0, hi = 0, rate = s.sweep_start;
    report.sweep_bound_ms = s.sweep_bound_ms;
    for (int step = 0; step < s.sweep_steps; ++step) {
        std::printf("\n-- sweep step %d: %.0f ops/s\n", step + 1, rate);
        engine.warmup(std::min(1.0, s.run.warmup_s), rate);
        SweepStep st;
        st.result = engine.measure(rate, s.run.duration_s, 0, {});
        st.passed = sweep_verdict(st.result, s.sweep_bound_ms, st.why);
        std::printf("   achieved %.0f ops/s, p99.9 %.3f ms: %s\n", st.result.ops_per_s(),
                    static_cast<double>(st.result.total.all().latency_ns.percentile(0.999)) / 1e6,
                    st.passed ? "pass" : ("fail: " + st.why).c_str());
        report.sweep.push_back(st);
        report.steps.push_back(st.result);
        if (st.passed) {
            lo = rate;
            report.sweep_best_rate = std::max(report.sweep_best_rate, rate);
        } else {
            hi = rate;
        }
        if (lo > 0 && hi > 0 && (hi - lo) / lo < 0.05) break;
        rate = hi == 0 ? rate * 1.5 : lo == 0 ? rate / 2 : (lo + hi) / 2;
        if (rate < 1) break;
    }
}

}  // namespace

int main(int argc, char** argv) {
    if (argc == 2 && std::string_view(argv[1]) == "--version") {
        std::puts(shoal::version_line("shoal-bench").c_str());
        return 0;
    }
    Args a;
    std::string error;
    if (!parse_args(argc, argv, a, error)) usage_error(error);
    if (a.flags.count("help")) {
        std::fputs(k_help, stdout);
        return 0;
    }
    if (a.opts.count("table")) {
        std::vector<std::string> files;
        for (const auto& f : a.opts.at("table")) {
            for (const auto& x : split_list(f)) files.push_back(x);
        }
        if (!print_markdown_table(stdout, files, error)) usage_error(error);
        return 0;
    }
    // A netns dev cluster is reached from its client namespace; threads made after this
    // (the workers) are in it too.
    if (const std::string dev = opt(a, "dev"); !dev.empty()) {
        if (auto err = shoal::client::netns::enter_client(dev); !err.empty()) usage_error(err);
    }
    const Settings s = settings_from(a);
    RunReport report;
    report.settings = s.run;
    for (int i = 0; i < argc; ++i) report.command_line += (i ? " " : "") + std::string(argv[i]);

    Engine engine(s.run);
    if (s.run.load) {
        report.load = engine.load();
        report.loaded = true;
        std::printf("load: %llu keys written, %llu errors, %.1f s\n", (unsigned long long)report.load.ok,
                    (unsigned long long)report.load.errors, report.load.elapsed_s);
        if (report.load.ok == 0) {
            std::fprintf(stderr, "shoal-bench: the load phase wrote nothing; is the target up?\n");
            return 1;
        }
    }
    if (s.load_only) return 0;

    if (s.sweep_bound_ms > 0) {
        run_sweep(engine, s, report);
        print_sweep(stdout, report);
    } else {
        engine.warmup(s.run.warmup_s, s.run.rate);
        report.steps.push_back(engine.measure(s.run.rate, s.run.duration_s, s.run.max_ops, s.run.faults));
        print_table(stdout, report.steps.back());
    }
    const StepResult& last = report.steps.back();
    if (!s.csv.empty() && !write_csv(s.csv, last, error)) std::fprintf(stderr, "shoal-bench: %s\n", error.c_str());
    if (!s.json.empty()) {
        std::ofstream out(s.json);
        out << summary_json(report) << "\n";
        if (!out) std::fprintf(stderr, "shoal-bench: cannot write %s\n", s.json.c_str());
    }
    if (!s.plot.empty()) {
        if (write_plot(s.plot, s.csv, last, s.title, error))
            std::printf("plot: %s\n", s.plot.c_str());
        else
            std::fprintf(stderr, "shoal-bench: %s\n", error.c_str());
    }
    const auto all = last.total.all();
    if (all.ok + all.errors == 0) {
        std::fprintf(stderr, "shoal-bench: no operation completed\n");
        return 1;
    }
    if (CartCheck* check = engine.check()) {
        const CheckReport c = check->verify(s.run.nodes, s.check_timeout_s, s.run.tls,
                                            s.run.sets ? std::max(s.run.resp_db, 0) : CartCheck::k_not_sets);
        print_check(c);
        if (!c.passed()) return 3;
    }
    return 0;
}
