#include "runner.h"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <limits>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>
#include <unordered_map>

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include "core/assert.h"
#include "core/rng.h"
#include "cpu_cost.h"
#include "fault_runner.h"

namespace shoal::bench {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

void OpStats::note_siblings(std::uint64_t n) {
    ++reads_seen;
    siblings_seen += n;
    reads_with_siblings += n > 1;
    max_siblings = std::max(max_siblings, n);
}

void OpStats::merge(const OpStats& o) {
    latency_ns.merge(o.latency_ns);
    ok += o.ok;
    not_found += o.not_found;
    errors += o.errors;
    for (const auto& [k, v] : o.error_kinds) error_kinds[k] += v;
    reads_seen += o.reads_seen;
    siblings_seen += o.siblings_seen;
    reads_with_siblings += o.reads_with_siblings;
    max_siblings = std::max(max_siblings, o.max_siblings);
}

void PhaseStats::merge(const PhaseStats& o) {
    for (std::size_t i = 0; i < k_op_kinds; ++i) ops[i].merge(o.ops[i]);
}

OpStats PhaseStats::all() const {
    OpStats s;
    for (const auto& o : ops) s.merge(o);
    return s;
}

OpStats PhaseStats::writes() const {
    OpStats s;
    for (std::size_t i = 0; i < k_op_kinds; ++i) {
        if (op_writes(static_cast<OpKind>(i))) s.merge(ops[i]);
    }
    return s;
}

double StepResult::ops_per_s() const {
    return elapsed_s > 0 ? static_cast<double>(total.all().ok) / elapsed_s : 0.0;
}

namespace {

std::int64_t ticks(Clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

double seconds_between(Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double>(b - a).count();
}


}  // namespace

struct Worker;

struct Engine::Impl {
    explicit Impl(RunSettings settings);
    ~Impl();

    RunSettings s;
    std::unique_ptr<CartCheck> checker;  // --check; outlives the workers that feed it
    OpChooser chooser;
    KeyChooser keys;
    std::string value_pool;
    std::string key_prefix;
    std::vector<std::unique_ptr<Worker>> workers;

    enum class Mode { load, run };
    std::atomic<bool> running{false};
    std::atomic<std::int64_t> record_from_ns{std::numeric_limits<std::int64_t>::max()};
    std::atomic<int> phase{0};
    std::atomic<std::uint64_t> issued{0};
    std::atomic<std::uint64_t> issue_limit{std::numeric_limits<std::uint64_t>::max()};
    std::atomic<std::uint64_t> inserted{0};
    std::atomic<std::uint64_t> load_next{0};
    std::atomic<std::int64_t> in_flight{0};

    std::string key(std::uint64_t i) const { return key_prefix + std::to_string(i); }

    // Runs a phase on every worker until `until` (or the issue limit), printing a live
    // line each second; returns the series of those lines.
    std::vector<SeriesRow> drive(Mode mode, double rate, double seconds, const char* label, CpuSampler* cpu,
                                 Clock::time_point t0);
    void stop_and_drain();
};

struct Worker {
    Worker(Engine::Impl& e, std::size_t index, std::vector<std::size_t> clients);
    ~Worker();

    Engine::Impl& e;
    std::size_t index;             // this worker's
    std::vector<std::size_t> ids;  // each connection's client number, across workers
    std::uint64_t next_item = 0;   // --check: this worker's cart items are unique
    asio::io_context io{1};
    asio::executor_work_guard<asio::io_context::executor_type> guard = asio::make_work_guard(io);
    std::vector<std::unique_ptr<Connection>> conns;
    Rng rng;
    std::unordered_map<std::uint64_t, std::string> contexts;  // key index -> last context read
    asio::steady_timer timer{io};
    Clock::time_point next_due;
    Clock::duration interval{};
    std::size_t next_conn = 0;
    std::uint64_t outstanding = 0;
    std::thread thread;

    std::mutex mu;  // guards everything below: the caller's thread reads it
    std::array<PhaseStats, k_fault_phases> rec;
    Histogram interval_hist;
    std::uint64_t interval_ok = 0, interval_err = 0;
    LoadResult loaded;

    struct Op {
        std::size_t conn;
        OpKind kind;
        Clock::time_point intended;
        int phase;
        bool closed;
        std::uint64_t key;
        std::uint64_t siblings = 0;  // what the op's read saw (0: it read nothing)
    };

    std::string_view value() {
        const auto& w = e.s.workload;
        const std::uint64_t size = w.value_min_bytes + rng.below(w.value_max_bytes - w.value_min_bytes + 1);
        return std::string_view(e.value_pool).substr(rng.below(4096), size);
    }

    void start_closed(Engine::Impl::Mode mode) {
        for (std::size_t c = 0; c < conns.size(); ++c) {
            if (mode == Engine::Impl::Mode::load)
                issue_load(c);
            else if (take_slot())
                issue(c, Clock::now(), true);
        }
    }

    void start_open(double rate_per_thread, Clock::time_point start) {
        interval = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(1.0 / rate_per_thread));
        if (interval.count() <= 0) interval = Clock::duration(1);
        next_due = start;
        on_tick();
    }

    void on_tick() {
        const auto now = Clock::now();
        while (next_due <= now && e.running.load(std::memory_order_relaxed)) {
            if (!take_slot()) return;
            const std::size_t c = next_conn++ % conns.size();
            if (outstanding >= e.s.max_outstanding) {
                Reply r;
                r.error = "bench_backlog";
                record(Op{c, e.chooser.next(rng), next_due, e.phase.load(), false, 0}, r);
            } else {
                issue(c, next_due, false);
            }
            next_due += interval;
        }
        if (!e.running.load(std::memory_order_relaxed)) return;
        timer.expires_at(next_due);
        timer.async_wait([this](boost::system::error_code ec) {
            if (!ec) on_tick();
        });
    }

    bool take_slot() { return e.issued.fetch_add(1, std::memory_order_relaxed) < e.issue_limit.load(); }

    void issue_load(std::size_t c) {
        const std::uint64_t i = e.load_next.fetch_add(1);
        if (i >= e.s.workload.key_count || !e.running.load()) return;
        begin();
        auto loaded_one = [this, c, start = Clock::now()](Reply r) {
            {
                std::lock_guard lock(mu);
                (r.ok ? loaded.ok : loaded.errors)++;
                (r.ok ? interval_ok : interval_err)++;
                if (r.ok) interval_hist.record(static_cast<std::uint64_t>(ticks(Clock::now()) - ticks(start)));
            }
            end();
            asio::post(io, [this, c] { issue_load(c); });
        };
        if (e.s.sets) {
            conns[c]->set_add(e.key(i), "loaded", std::move(loaded_one));  // every cart starts with one item
        } else {
            conns[c]->put(e.key(i), value(), {}, e.s.workload.ttl_s, std::move(loaded_one));
        }
    }

    void begin() {
        ++outstanding;
        e.in_flight.fetch_add(1);
    }
    void end() {
        --outstanding;
        e.in_flight.fetch_sub(1);
    }

    std::string cached_context(std::uint64_t k) {
        if (!e.s.context_cache) return {};
        auto it = contexts.find(k);
        return it == contexts.end() ? std::string() : it->second;
    }
    void remember(std::uint64_t k, const Reply& r) {
        if (e.s.context_cache && r.ok && !r.context.empty()) contexts[k] = r.context;
    }

    void issue(std::size_t c, Clock::time_point intended, bool closed) {
        const OpKind kind = e.chooser.next(rng);
        Op op{c, kind, intended, e.phase.load(), closed, 0};
        const auto ttl = e.s.workload.ttl_s;
        if (kind == OpKind::insert) {
            op.key = e.inserted.fetch_add(1);
        } else {
            op.key = e.keys.next(rng, e.inserted.load(std::memory_order_relaxed));
        }
        begin();
        Connection& conn = *conns[c];
        if (e.s.sets) return issue_on_sets(op);
        switch (kind) {
            case OpKind::read:
                conn.get(e.key(op.key), [this, op](Reply r) {
                    remember(op.key, r);
                    complete(op, r);
                });
                return;
            case OpKind::update:
            case OpKind::insert:
                conn.put(e.key(op.key), value(), cached_context(op.key), ttl, [this, op](Reply r) { complete(op, r); });
                return;
            case OpKind::rmw:
            case OpKind::cart:
                conn.get(e.key(op.key), [this, op](Reply r) mutable {
                    if (!r.ok) return complete(op, r);
                    op.siblings = r.values.size();
                    const bool checked = op.kind == OpKind::cart && e.checker;
                    if (checked) e.checker->read(ids[op.conn], e.key(op.key), r.values);
                    std::string item;
                    const std::string v =
                        op.kind == OpKind::cart ? cart_with_item(r.values, item) : std::string(value());
                    conns[op.conn]->put(e.key(op.key), v, r.context, e.s.workload.ttl_s,
                                        [this, op, checked, item = std::move(item)](Reply w) {
                                            if (checked && w.ok) e.checker->acked(ids[op.conn], e.key(op.key), item);
                                            complete(op, w);
                                        });
                });
                return;
            case OpKind::count_: break;
        }
        SHOAL_UNREACHABLE("bad OpKind");
    }

    // Carts kept as sets: a read is SMEMBERS, a cart add one SADD of a new item (no read
    // first: the set merges concurrent adds itself). Settings allow no other kind.
    void issue_on_sets(Op op) {
        Connection& conn = *conns[op.conn];
        const bool checked = e.checker != nullptr;
        if (op.kind == OpKind::read) {
            conn.set_members(e.key(op.key), [this, op, checked](Reply r) mutable {
                op.siblings = r.ok && r.found ? 1 : 0;
                if (checked && r.ok) e.checker->read(ids[op.conn], e.key(op.key), r.values);
                complete(op, r);
            });
            return;
        }
        SHOAL_ASSERT(op.kind == OpKind::cart);
        std::string item = new_item();
        conn.set_add(e.key(op.key), item, [this, op, checked, item](Reply w) {
            if (checked && w.ok) e.checker->acked(ids[op.conn], e.key(op.key), item);
            complete(op, w);
        });
    }

    // A new cart item: unique under --check (so a lost one is seen), else any.
    std::string new_item() {
        return e.checker ? "w" + std::to_string(index) + "i" + std::to_string(++next_item)
                         : "item" + std::to_string(rng.below(1000000));
    }

    // The union of the siblings' items plus one new item (`item`), oldest items dropped
    // to fit -- except under --check, where items are unique and none is dropped.
    std::string cart_with_item(const std::vector<std::string>& siblings, std::string& item) {
        std::set<std::string> seen;
        std::vector<std::string> items;
        for (const auto& v : siblings) {
            std::size_t pos = 0;
            while (pos < v.size()) {
                auto comma = v.find(',', pos);
                if (comma == std::string::npos) comma = v.size();
                std::string item = v.substr(pos, comma - pos);
                if (!item.empty() && seen.insert(item).second) items.push_back(std::move(item));
                pos = comma + 1;
            }
        }
        item = new_item();
        items.push_back(item);
        std::size_t size = 0;
        for (const auto& i : items) size += i.size() + 1;
        std::size_t first = 0;
        while (!e.checker && size > e.s.workload.value_max_bytes && first + 1 < items.size())
            size -= items[first++].size() + 1;
        std::string out;
        for (std::size_t i = first; i < items.size(); ++i) (out += items[i]) += ',';
        return out;
    }

    void record(const Op& op, const Reply& r) {
        const auto now = Clock::now();
        const auto latency = static_cast<std::uint64_t>(std::max<std::int64_t>(0, ticks(now) - ticks(op.intended)));
        std::lock_guard lock(mu);
        if (r.ok) {
            interval_hist.record(latency);
            ++interval_ok;
        } else {
            ++interval_err;
        }
        if (ticks(op.intended) < e.record_from_ns.load(std::memory_order_relaxed)) return;
        // An operation the fault window touched (started or ended in it, or spanned it) counts in `during`.
        const int end_phase = e.phase.load();
        const int phase = op.phase == end_phase ? op.phase : static_cast<int>(FaultPhase::during);
        OpStats& st = rec[static_cast<std::size_t>(phase)].ops[static_cast<std::size_t>(op.kind)];
        if (r.ok) {
            ++st.ok;
            if (op.kind == OpKind::read && !r.found) ++st.not_found;
            // (A set's members are one value: issue_on_sets counts it in op.siblings.)
            if (op.kind == OpKind::read && r.found && !e.s.sets) st.note_siblings(r.values.size());
            if (op.siblings > 0) st.note_siblings(op.siblings);
            st.latency_ns.record(latency);
        } else {
            ++st.errors;
            ++st.error_kinds[r.error.empty() ? "unknown" : r.error];
        }
    }

    void complete(const Op& op, const Reply& r) {
        record(op, r);
        end();
        if (op.closed && e.running.load(std::memory_order_relaxed)) {
            asio::post(io, [this, c = op.conn] {
                if (e.running.load(std::memory_order_relaxed) && take_slot()) issue(c, Clock::now(), true);
            });
        }
    }
};

Worker::Worker(Engine::Impl& engine, std::size_t index, std::vector<std::size_t> clients)
    : e(engine), index(index), ids(clients), rng(engine.s.seed * 1000003 + index) {
    const auto& nodes = e.s.nodes;
    for (std::size_t c : clients) {
        ConnectionOptions o;
        o.knobs = e.s.knobs;
        o.tls = e.s.tls;
        o.resp_db = e.s.resp_db;
        for (std::size_t k = 0; k < nodes.size(); ++k) o.nodes.push_back(nodes[(c + k) % nodes.size()]);
        conns.push_back(make_connection(e.s.driver, io, o));
    }
    thread = std::thread([this] { io.run(); });
}

Worker::~Worker() {
    guard.reset();
    io.stop();
    if (thread.joinable()) thread.join();
    for (auto& c : conns) c->close();
    conns.clear();
}

Engine::Impl::Impl(RunSettings settings)
    : s(std::move(settings)),
      chooser(s.workload.mix),
      keys(s.workload.preset == "cart" ? KeyDist::zipfian : s.workload.dist, s.workload.key_count, s.workload.theta) {
    SHOAL_ASSERT(s.clients >= 1 && s.threads >= 1 && !s.nodes.empty());
    Rng rng(s.seed);
    value_pool.resize(s.workload.value_max_bytes + 4096);
    for (auto& ch : value_pool) ch = static_cast<char>('a' + rng.below(26));
    key_prefix = s.workload.preset == "cart" ? "cart/" : s.workload.preset == "session" ? "session/" : "k";
    inserted = s.workload.key_count;
    const auto threads = static_cast<std::size_t>(std::min(s.threads, s.clients));
    for (std::size_t t = 0; t < threads; ++t) {
        std::vector<std::size_t> clients;
        for (std::size_t c = t; c < static_cast<std::size_t>(s.clients); c += threads) clients.push_back(c);
        workers.push_back(std::make_unique<Worker>(*this, t, std::move(clients)));
    }
}

Engine::Impl::~Impl() {
    running = false;
    workers.clear();
}

void Engine::Impl::stop_and_drain() {
    running = false;
    const auto limit = Clock::now() + std::chrono::milliseconds(s.knobs.timeout_ms * 3 + 2000);
    while (in_flight.load() > 0 && Clock::now() < limit) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    for (auto& w : workers) {
        asio::post(w->io, [wp = w.get()] { wp->timer.cancel(); });
    }
    if (in_flight.load() > 0) std::fprintf(stderr, "shoal-bench: %lld requests never finished\n", (long long)in_flight.load());
}

std::vector<SeriesRow> Engine::Impl::drive(Mode mode, double rate, double seconds, const char* label, CpuSampler* cpu,
                                           Clock::time_point t0) {
    std::vector<SeriesRow> series;
    for (auto& w : workers) {
        std::lock_guard lock(w->mu);
        w->interval_hist.clear();
        w->interval_ok = w->interval_err = 0;
    }
    running = true;
    const double per_thread = rate / static_cast<double>(workers.size());
    for (auto& w : workers) {
        asio::post(w->io, [wp = w.get(), mode, per_thread, t0] {
            if (mode == Mode::run && per_thread > 0)
                wp->start_open(per_thread, t0);
            else
                wp->start_closed(mode);
        });
    }
    const auto end = t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
    auto last = t0;
    double cpu_before = cpu ? cpu->total_s() : 0;
    for (int second = 1;; ++second) {
        auto wake = std::min(end, t0 + std::chrono::seconds(second));
        bool done = false;
        while (Clock::now() < wake) {
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
            const bool load_done = mode == Mode::load && in_flight.load() == 0 && load_next.load() >= s.workload.key_count;
            const bool count_done = issued.load() >= issue_limit.load() && in_flight.load() == 0;
            if (load_done || count_done) {
                done = true;
                break;
            }
        }
        const auto now = Clock::now();
        Histogram h;
        std::uint64_t ok = 0, err = 0;
        for (auto& w : workers) {
            std::lock_guard lock(w->mu);
            h.merge(w->interval_hist);
            ok += w->interval_ok;
            err += w->interval_err;
            w->interval_hist.clear();
            w->interval_ok = w->interval_err = 0;
        }
        const double dt = std::max(1e-6, seconds_between(last, now));
        last = now;
        SeriesRow row;
        row.t_s = seconds_between(t0, now);
        row.ops_per_s = static_cast<double>(ok) / dt;
        row.errors_per_s = static_cast<double>(err) / dt;
        row.p50_ms = static_cast<double>(h.percentile(0.5)) / 1e6;
        row.p99_ms = static_cast<double>(h.percentile(0.99)) / 1e6;
        row.p999_ms = static_cast<double>(h.percentile(0.999)) / 1e6;
        row.max_ms = static_cast<double>(h.max()) / 1e6;
        row.phase = static_cast<FaultPhase>(phase.load());
        if (cpu) {
            cpu->sample();
            const double c = cpu->total_s();
            row.server_cpu_pct = 100.0 * (c - cpu_before) / dt;
            cpu_before = c;
        }
        series.push_back(row);
        if (s.live) {
            std::printf("[%6.1fs] %-8s %9.0f ops/s  p50 %7.3f ms  p99 %7.3f ms  p99.9 %7.3f ms  errors %6llu%s%s\n",
                        row.t_s, label, row.ops_per_s, row.p50_ms, row.p99_ms, row.p999_ms, (unsigned long long)err,
                        phase.load() ? "  fault:" : "",
                        phase.load() ? std::string(fault_phase_name(row.phase)).c_str() : "");
            std::fflush(stdout);
        }
        if (done || now >= end) break;
    }
    stop_and_drain();
    return series;
}

Engine::Engine(RunSettings settings) : impl_(std::make_unique<Impl>(std::move(settings))) {
    if (impl_->s.check) impl_->checker = std::make_unique<CartCheck>();
}

CartCheck* Engine::check() { return impl_->checker.get(); }
Engine::~Engine() = default;

LoadResult Engine::load() {
    auto& e = *impl_;
    e.load_next = 0;
    e.issue_limit = std::numeric_limits<std::uint64_t>::max();
    const auto t0 = Clock::now();
    e.drive(Impl::Mode::load, 0, e.s.load_max_s, "load", nullptr, t0);
    LoadResult r;
    for (auto& w : e.workers) {
        std::lock_guard lock(w->mu);
        r.ok += w->loaded.ok;
        r.errors += w->loaded.errors;
        w->loaded = {};
    }
    r.elapsed_s = seconds_between(t0, Clock::now());
    return r;
}

void Engine::warmup(double seconds, double rate) {
    auto& e = *impl_;
    if (seconds <= 0) return;
    e.record_from_ns = std::numeric_limits<std::int64_t>::max();
    e.issued = 0;
    e.issue_limit = std::numeric_limits<std::uint64_t>::max();
    e.drive(Impl::Mode::run, rate, seconds, "warm-up", nullptr, Clock::now());
}


StepResult Engine::measure(double rate, double duration_s, std::uint64_t max_ops, const std::vector<FaultEvent>& faults) {
    auto& e = *impl_;
    for (auto& w : e.workers) {
        std::lock_guard lock(w->mu);
        w->rec = {};
    }
    e.phase = 0;
    e.issued = 0;
    e.issue_limit = max_ops ? max_ops : std::numeric_limits<std::uint64_t>::max();
    CpuSampler cpu(e.s.dev_dir, e.s.cost_pids);
    const auto t0 = Clock::now();
    e.record_from_ns = ticks(t0);
    StepResult r;
    r.target_rate = rate;
    {
        FaultRunner fr(faults, e.s.dev_dir, e.phase, t0);
        r.series = e.drive(Impl::Mode::run, rate, max_ops ? 1e9 : duration_s, "measure", &cpu, t0);
        r.elapsed_s = r.series.empty() ? seconds_between(t0, Clock::now()) : r.series.back().t_s;
        cpu.sample();
        fr.stop();
        r.faults = fr.records();
    }
    e.record_from_ns = std::numeric_limits<std::int64_t>::max();
    r.cost = cpu.report();
    for (auto& w : e.workers) {
        std::lock_guard lock(w->mu);
        for (int p = 0; p < k_fault_phases; ++p) {
            r.phases[p].merge(w->rec[p]);
            r.total.merge(w->rec[p]);
        }
    }
    return r;
}

}  // namespace shoal::bench
