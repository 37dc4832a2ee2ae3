#include "report.h"

#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace shoal::bench {

namespace json = boost::json;

namespace {

double ms(std::uint64_t ns) {
    return static_cast<double>(ns) / 1e6;
}

std::string run_capture(const std::string& cmd) {
    std::string out;
    if (FILE* p = ::popen(cmd.c_str(), "r")) {
        char buf[512];
        while (std::fgets(buf, sizeof buf, p)) out += buf;
        ::pclose(p);
    }
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
    return out;
}

std::string exe_dir() {
    char buf[4096];
    const auto n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0) return ".";
    return std::filesystem::path(std::string(buf, static_cast<std::size_t>(n))).parent_path().string();
}

std::string cpu_model() {
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("model name", 0) == 0) {
            const auto c = line.find(':');
            return c == std::string::npos ? line : line.substr(c + 2);
        }
    }
    return "unknown";
}

std::string mem_total() {
    std::ifstream in("/proc/meminfo");
    std::string k, v, unit;
    in >> k >> v >> unit;
    return v + " " + unit;
}

void row(std::FILE* out, const std::string& name, const OpStats& s, double elapsed_s) {
    const auto& h = s.latency_ns;
    std::fprintf(out, "%-10s %9llu %9llu %7llu %10.0f %8.3f %8.3f %8.3f %8.3f %8.3f\n", name.c_str(),
                 (unsigned long long)(s.ok + s.errors), (unsigned long long)s.ok, (unsigned long long)s.errors,
                 elapsed_s > 0 ? static_cast<double>(s.ok) / elapsed_s : 0.0, ms(h.percentile(0.5)),
                 ms(h.percentile(0.9)), ms(h.percentile(0.99)), ms(h.percentile(0.999)), ms(h.max()));
    if (!s.error_kinds.empty()) {
        std::string kinds;
        for (const auto& [k, v] : s.error_kinds) kinds += " " + k + "=" + std::to_string(v);
        std::fprintf(out, "%-10s   errors:%s\n", "", kinds.c_str());
    }
    if (s.reads_seen > 0 && s.max_siblings > 1) {
        std::fprintf(out, "%-10s   siblings per read: mean %.2f, max %llu, %.1f%% of reads saw more than one\n", "",
                     static_cast<double>(s.siblings_seen) / static_cast<double>(s.reads_seen),
                     (unsigned long long)s.max_siblings,
                     100.0 * static_cast<double>(s.reads_with_siblings) / static_cast<double>(s.reads_seen));
    }
}

void header(std::FILE* out, const char* first) {
    std::fprintf(out, "%-10s %9s %9s %7s %10s %8s %8s %8s %8s %8s\n", first, "count", "ok", "errors", "ops/s",
                 "p50 ms", "p90 ms", "p99 ms", "p99.9 ms", "max ms");
}


json::object op_json(const OpStats& s, double elapsed_s) {
    const auto& h = s.latency_ns;
    json::object errors;
    for (const auto& [k, v] : s.error_kinds) errors[k] = v;
    return json::object{{"count", s.ok + s.errors},
                        {"ok", s.ok},
                        {"not_found", s.not_found},
                        {"errors", s.errors},
                        {"error_kinds", errors},
                        {"siblings_per_read",
                         json::object{{"reads", s.reads_seen},
                                      {"mean", s.reads_seen ? static_cast<double>(s.siblings_seen) /
                                                                  static_cast<double>(s.reads_seen)
                                                            : 0.0},
                                      {"max", s.max_siblings},
                                      {"reads_with_siblings", s.reads_with_siblings}}},
                        {"ops_per_s", elapsed_s > 0 ? static_cast<double>(s.ok) / elapsed_s : 0.0},
                        {"mean_ms", h.mean() / 1e6},
                        {"p50_ms", ms(h.percentile(0.5))},
                        {"p90_ms", ms(h.percentile(0.9))},
                        {"p99_ms", ms(h.percentile(0.99))},
                        {"p999_ms", ms(h.percentile(0.999))},
                        {"max_ms", ms(h.max())}};
}

json::object phase_json(const PhaseStats& p, double elapsed_s) {
    json::object ops;
    for (std::size_t i = 0; i < k_op_kinds; ++i) {
        if (p.ops[i].ok + p.ops[i].errors) ops[op_name(static_cast<OpKind>(i))] = op_json(p.ops[i], elapsed_s);
    }
    const OpStats w = p.writes();
    const auto writes = w.ok + w.errors;
    return json::object{{"ops", ops},
                        {"all", op_json(p.all(), elapsed_s)},
                        {"writes", op_json(w, elapsed_s)},
                        {"write_success_ratio", writes ? static_cast<double>(w.ok) / static_cast<double>(writes) : 1.0},
                        {"seconds", elapsed_s}};
}

json::object step_json(const StepResult& r) {
    json::object o;
    o["target_rate"] = r.target_rate;
    o["loop"] = r.target_rate > 0 ? "open" : "closed";
    o["elapsed_s"] = r.elapsed_s;
    o["ops_per_s"] = r.ops_per_s();
    o["total"] = phase_json(r.total, r.elapsed_s);
    if (!r.faults.empty()) {
        json::object phases;
        for (int p = 0; p < k_fault_phases; ++p) {
            const auto fp = static_cast<FaultPhase>(p);
            phases[fault_phase_name(fp)] = phase_json(r.phases[p], phase_seconds(r, fp));
        }
        o["phases"] = phases;
        json::array faults;
        for (const auto& f : r.faults) {
            faults.push_back(json::object{{"at_ms", f.event.at_ms},
                                          {"action", fault_action_name(f.event.action)},
                                          {"node", f.event.node},
                                          {"what", describe(f.event)},
                                          {"issued_s", f.issued_s},
                                          {"done_s", f.done_s},
                                          {"exit_code", f.exit_code}});
        }
        o["faults"] = faults;
    }
    const auto ops = r.total.all().ok;
    json::array procs;
    for (const auto& p : r.cost.processes) procs.push_back(json::object{{"pid", p.pid}, {"name", p.name}, {"cpu_s", p.cpu_s}});
    o["cost"] = json::object{
        {"server_cpu_s", r.cost.server_cpu_s},
        {"server_cpu_s_per_1000_ops", ops ? r.cost.server_cpu_s * 1000.0 / static_cast<double>(ops) : 0.0},
        {"server_cpu_us_per_op", ops ? r.cost.server_cpu_s * 1e6 / static_cast<double>(ops) : 0.0},
        {"bench_cpu_s", r.cost.bench_cpu_s},
        {"processes", procs}};
    return o;
}

}  // namespace

std::string git_revision() {
    const std::string dir = exe_dir();
    std::string rev = run_capture("git -C '" + dir + "' rev-parse HEAD 2>/dev/null");
    if (rev.empty()) return "unknown";
    if (!run_capture("git -C '" + dir + "' status --porcelain --untracked-files=no 2>/dev/null").empty()) rev += "-dirty";
    return rev;
}

double phase_seconds(const StepResult& r, FaultPhase p) {
    std::size_t last_disrupt = 0, last_restore = 0;
    for (std::size_t i = 0; i < r.faults.size(); ++i)
        (fault_disrupts(r.faults[i].event) ? last_disrupt : last_restore) = i + 1;
    double during_from = r.elapsed_s, after_from = r.elapsed_s;
    for (const FaultRecord& f : r.faults) {
        if (fault_disrupts(f.event)) {
            during_from = std::min(during_from, f.issued_s);
            break;
        }
    }
    if (last_disrupt > 0 && last_restore > last_disrupt) after_from = std::min(r.elapsed_s, r.faults[last_restore - 1].done_s);
    during_from = std::min(during_from, r.elapsed_s);
    switch (p) {
        case FaultPhase::before: return during_from;
        case FaultPhase::during: return std::max(0.0, after_from - during_from);
        case FaultPhase::after: return std::max(0.0, r.elapsed_s - after_from);
    }
    return 0;
}

void print_table(std::FILE* out, const StepResult& r) {
    std::fprintf(out, "\n%s loop%s, %.1f s measured, %.0f ops/s\n", r.target_rate > 0 ? "open" : "closed",
                 r.target_rate > 0 ? (" at " + std::to_string(static_cast<long long>(r.target_rate)) + " ops/s").c_str() : "",
                 r.elapsed_s, r.ops_per_s());
    header(out, "op");
    for (std::size_t i = 0; i < k_op_kinds; ++i) {
        const auto& s = r.total.ops[i];
        if (s.ok + s.errors) row(out, std::string(op_name(static_cast<OpKind>(i))), s, r.elapsed_s);
    }
    row(out, "all", r.total.all(), r.elapsed_s);
    if (!r.faults.empty()) {
        std::fprintf(out, "\nby fault phase (before: until the first disruptive action; during: until the last restoring one has completed)\n");
        header(out, "phase");
        for (int p = 0; p < k_fault_phases; ++p) {
            const auto fp = static_cast<FaultPhase>(p);
            const OpStats all = r.phases[p].all(), w = r.phases[p].writes();
            row(out, std::string(fault_phase_name(fp)), all, phase_seconds(r, fp));
            const auto writes = w.ok + w.errors;
            std::fprintf(out, "%-10s   writes ok %llu of %llu (%.3f%%), %.1f s\n", "", (unsigned long long)w.ok,
                         (unsigned long long)writes, writes ? 100.0 * static_cast<double>(w.ok) / static_cast<double>(writes) : 100.0,
                         phase_seconds(r, fp));
        }
        for (const auto& f : r.faults) {
            std::fprintf(out, "fault at %.1fs: %s (done at %.1fs, exit %d)\n", f.issued_s, describe(f.event).c_str(),
                         f.done_s, f.exit_code);
        }
    }
    const auto ops = r.total.all().ok;
    if (!r.cost.processes.empty() && ops) {
        std::fprintf(out, "\ncost: server CPU %.2f s = %.3f s per 1,000 ops (%.1f us/op) over %zu process(es); bench CPU %.2f s\n",
                     r.cost.server_cpu_s, r.cost.server_cpu_s * 1000.0 / static_cast<double>(ops),
                     r.cost.server_cpu_s * 1e6 / static_cast<double>(ops), r.cost.processes.size(), r.cost.bench_cpu_s);
    } else {
        std::fprintf(out, "\ncost: no server processes named (--dev DIR or --pid PID); bench CPU %.2f s\n", r.cost.bench_cpu_s);
    }
}

void print_sweep(std::FILE* out, const RunReport& r) {
    std::fprintf(out, "\nsweep: highest rate whose p99.9 stays under %.3f ms\n", r.sweep_bound_ms);
    std::fprintf(out, "%12s %12s %10s %10s %10s %8s  %s\n", "target/s", "achieved/s", "p50 ms", "p99 ms", "p99.9 ms",
                 "errors", "verdict");
    for (const auto& s : r.sweep) {
        const auto all = s.result.total.all();
        std::fprintf(out, "%12.0f %12.0f %10.3f %10.3f %10.3f %8llu  %s\n", s.result.target_rate, s.result.ops_per_s(),
                     ms(all.latency_ns.percentile(0.5)), ms(all.latency_ns.percentile(0.99)),
                     ms(all.latency_ns.percentile(0.999)), (unsigned long long)all.errors,
                     s.passed ? "pass" : ("fail: " + s.why).c_str());
    }
    std::fprintf(out, "best rate: %.0f ops/s\n", r.sweep_best_rate);
}

bool write_csv(const std::string& path, const StepResult& r, std::string& error) {
    std::ofstream out(path);
    if (!out) {
        error = "cannot write " + path;
        return false;
    }
    out << "t_s,ops_per_s,errors_per_s,p50_ms,p99_ms,p999_ms,max_ms,phase,server_cpu_pct\n";
    for (const auto& row : r.series) {
        out << row.t_s << ',' << row.ops_per_s << ',' << row.errors_per_s << ',' << row.p50_ms << ',' << row.p99_ms
            << ',' << row.p999_ms << ',' << row.max_ms << ',' << fault_phase_name(row.phase) << ','
            << row.server_cpu_pct << '\n';
    }
    return static_cast<bool>(out);
}

std::string summary_json(const RunReport& r) {
    const auto& s = r.settings;
    json::array nodes;
    for (const auto& n : s.nodes) nodes.push_back(json::string(n));
    json::array faults;
    for (const auto& f : s.faults) {
        faults.push_back(json::object{{"at_ms", f.at_ms}, {"action", fault_action_name(f.action)}, {"node", f.node}});
    }
    json::array mix;
    for (std::size_t i = 0; i < k_op_kinds; ++i) {
        if (s.workload.mix.weight[i] > 0)
            mix.push_back(json::object{{"op", op_name(static_cast<OpKind>(i))}, {"weight", s.workload.mix.weight[i]}});
    }
    json::object settings{
        {"driver", driver_name(s.driver)},
        {"nodes", nodes},
        {"preset", s.workload.preset},
        {"mix", mix},
        {"key_distribution", key_dist_name(s.workload.dist)},
        {"zipf_theta", s.workload.theta},
        {"keys", s.workload.key_count},
        {"value_min_bytes", s.workload.value_min_bytes},
        {"value_max_bytes", s.workload.value_max_bytes},
        {"ttl_s", s.workload.ttl_s},
        {"n", s.knobs.n},
        {"r", s.knobs.r},
        {"w", s.knobs.w},
        {"pr", s.knobs.pr},
        {"pw", s.knobs.pw},
        {"timeout_ms", s.knobs.timeout_ms},
        {"clients", s.clients},
        {"threads", s.threads},
        {"rate", s.rate},
        {"loop", s.rate > 0 ? "open" : "closed"},
        {"duration_s", s.duration_s},
        {"max_ops", s.max_ops},
        {"warmup_s", s.warmup_s},
        {"load", s.load},
        {"context_cache", s.context_cache},
        {"seed", s.seed},
        {"faults", faults},
        {"dev_dir", s.dev_dir},
    };
    utsname u{};
    ::uname(&u);
    char host[256] = {0};
    ::gethostname(host, sizeof host - 1);
    json::object machine{{"hostname", host},
                         {"kernel", std::string(u.sysname) + " " + u.release},
                         {"arch", u.machine},
                         {"cpus", ::sysconf(_SC_NPROCESSORS_ONLN)},
                         {"cpu_model", cpu_model()},
                         {"mem_total", mem_total()}};
    json::object o{{"tool", "shoal-bench"},
                   {"command", r.command_line},
                   {"git_revision", git_revision()},
                   {"machine", machine},
                   {"settings", settings}};
    if (r.loaded) {
        o["load"] = json::object{{"ok", r.load.ok}, {"errors", r.load.errors}, {"elapsed_s", r.load.elapsed_s}};
    }
    if (!r.steps.empty() && r.sweep.empty()) o["result"] = step_json(r.steps.back());
    if (!r.sweep.empty()) {
        json::array steps;
        for (const auto& st : r.sweep) {
            auto j = step_json(st.result);
            j["passed"] = st.passed;
            j["why"] = st.why;
            steps.push_back(j);
        }
        o["sweep"] = json::object{{"p999_bound_ms", r.sweep_bound_ms}, {"best_rate", r.sweep_best_rate}, {"steps", steps}};
    }
    return json::serialize(o);
}

bool write_plot(const std::string& png, const std::string& csv, const StepResult& r, const std::string& title,
                std::string& error) {
    const std::string script_path = png + ".gp";
    {
        std::ofstream gp(script_path);
        gp << "set terminal pngcairo size 1200,800 font ',10'\n"
           << "set output '" << png << "'\n"
           << "set datafile separator ','\n"
           << "set key autotitle columnhead top left\n"
           << "set multiplot layout 2,1 title '" << title << "'\n"
           << "set grid\nset xlabel 'time (s)'\nset xrange [0:*]\n";
        for (const auto& f : r.faults) {
            gp << "set arrow from " << f.issued_s << ", graph 0 to " << f.issued_s
               << ", graph 1 nohead lc rgb 'red' dt 2\n"
               << "set label '" << describe(f.event) << "' at " << f.issued_s
               << ", graph 0.95 offset 0.5,0 tc rgb 'red'\n";
        }
        // Errors get their own (right) axis: a few hundred a second would vanish beside
        // tens of thousands of good ops on one scale.
        gp << "set ylabel 'ops/s'\nset yrange [0:*]\n"
           << "set y2label 'errors/s' tc rgb 'red'\nset y2range [0:*]\nset y2tics tc rgb 'red'\nset ytics nomirror\n"
           << "plot '" << csv << "' using 1:2 axes x1y1 with lines lw 2 title 'ok ops/s', "
           << "'' using 1:3 axes x1y2 with lines lw 1 lc rgb 'red' title 'errors/s (right axis)'\n"
           << "unset y2label\nunset y2tics\nset ytics mirror\n"
           << "set ylabel 'latency (ms)'\nset logscale y\nset yrange [*:*]\n"
           << "plot '" << csv << "' using 1:($4>0?$4:1/0) with lines title 'p50', '' using 1:($5>0?$5:1/0) with lines title 'p99', "
           << "'' using 1:($6>0?$6:1/0) with lines title 'p99.9', '' using 1:($7>0?$7:1/0) with lines dt 3 title 'max'\n"
           << "unset multiplot\n";
    }
    const int rc = std::system(("gnuplot '" + script_path + "' 2>'" + script_path + ".err'").c_str());
    if (rc != 0) {
        error = "gnuplot failed (is gnuplot-nox installed?); see " + script_path + ".err";
        return false;
    }
    std::filesystem::remove(script_path + ".err");
    return true;
}

namespace {

double jnum(const json::value* v) {
    if (!v) return 0;
    if (v->is_double()) return v->as_double();
    if (v->is_int64()) return static_cast<double>(v->as_int64());
    if (v->is_uint64()) return static_cast<double>(v->as_uint64());
    return 0;
}

std::string jstr(const json::value* v) {
    if (!v) return "";
    if (v->is_string()) return std::string(v->as_string());
    if (v->is_number()) {
        std::ostringstream o;
        o << jnum(v);
        return o.str();
    }
    return "";
}

}  // namespace

bool print_markdown_table(std::FILE* out, const std::vector<std::string>& files, std::string& error) {
    std::fprintf(out, "| run | driver | workload | loop | ops/s | p50 ms | p99 ms | p99.9 ms | errors | server CPU us/op |\n");
    std::fprintf(out, "|---|---|---|---|---:|---:|---:|---:|---:|---:|\n");
    for (const auto& f : files) {
        std::ifstream in(f);
        std::stringstream body;
        body << in.rdbuf();
        boost::system::error_code ec;
        const json::value doc = json::parse(body.str(), ec);
        if (ec || !doc.is_object()) {
            error = "cannot read a summary from " + f;
            return false;
        }
        const auto& o = doc.as_object();
        const json::value* result = o.if_contains("result");
        if (!result) {  // a sweep: its best passing step
            const json::value* steps = doc.find_pointer("/sweep/steps", ec);
            if (steps && steps->is_array()) {
                double best = -1;
                for (const auto& st : steps->as_array()) {
                    const auto* passed = st.as_object().if_contains("passed");
                    const double rate = jnum(st.as_object().if_contains("target_rate"));
                    if (passed && passed->is_bool() && passed->as_bool() && rate > best) {
                        best = rate;
                        result = &st;
                    }
                }
            }
        }
        if (!result) continue;
        auto at = [&](const char* ptr) { return result->find_pointer(ptr, ec); };
        auto set = [&](const char* ptr) { return doc.find_pointer(ptr, ec); };
        const std::string loop = jstr(at("/loop")) == "open"
                                     ? "open " + jstr(at("/target_rate")) + "/s"
                                     : "closed " + jstr(set("/settings/clients")) + " clients";
        std::string workload = "preset " + jstr(set("/settings/preset"));
        const double n = jnum(set("/settings/n")), r = jnum(set("/settings/r")), w = jnum(set("/settings/w"));
        if (n + r + w > 0) {
            workload += " N=" + (n ? jstr(set("/settings/n")) : std::string("dflt")) + " R=" +
                        (r ? jstr(set("/settings/r")) : std::string("dflt")) + " W=" +
                        (w ? jstr(set("/settings/w")) : std::string("dflt"));
        }
        std::string name = std::filesystem::path(f).stem().string();
        std::fprintf(out, "| %s | %s | %s | %s | %.0f | %.3f | %.3f | %.3f | %.0f | %.1f |\n", name.c_str(),
                     jstr(set("/settings/driver")).c_str(), workload.c_str(), loop.c_str(), jnum(at("/ops_per_s")),
                     jnum(at("/total/all/p50_ms")), jnum(at("/total/all/p99_ms")), jnum(at("/total/all/p999_ms")),
                     jnum(at("/total/all/errors")), jnum(at("/cost/server_cpu_us_per_op")));
    }
    return true;
}

}  // namespace shoal::bench
