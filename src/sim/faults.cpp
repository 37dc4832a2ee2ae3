// Fault injection: the schedule of crashes, partitions, clock jumps and disk errors
// is drawn from the run's RNG up front, so a seed fixes it.
#include <algorithm>

#include "core/assert.h"
#include "sim/simulation.h"
#include "store/keys.h"

namespace shoal::sim {


void Simulation::plan_faults() {
    const auto& f = config_.faults;
    const std::int64_t end = config_.duration.us;
    if (config_.scenario == Scenario::minority) {
        const Time from{end / 5}, to{end * 4 / 5};
        const auto victim = static_cast<std::uint32_t>(rng_.below(nodes_.size()));
        const std::uint32_t how = rng_.chance(0.5) ? 1 : 0;  // 1 = crash, 0 = partition away
        schedule(from, fault_event(FaultAction::minority_start, victim, how));
        schedule(to, fault_event(FaultAction::minority_end, victim, how));
        minority_from_ = from;
        minority_to_ = to;
        return;
    }
    const auto victim = static_cast<std::uint32_t>(rng_.below(nodes_.size()));
    switch (config_.scenario) {
        case Scenario::hints:
            schedule(Time{end / 5}, fault_event(FaultAction::crash, victim));
            schedule(Time{end * 3 / 5}, fault_event(FaultAction::restart, victim));
            return;
        case Scenario::wipe:
            // After the writes stop: the refill is all anti-entropy's work, timed.
            schedule(Time{end} + Duration::millis(300), fault_event(FaultAction::wipe, victim));
            return;
        case Scenario::divergence: {
            const Time from{end / 5}, to{end * 7 / 10};
            schedule(from, fault_event(FaultAction::partition));
            schedule(to, fault_event(FaultAction::heal));
            return;
        }
        case Scenario::missed_delete:
            // Down for longer than the tombstone grace, through many deletes.
            schedule(Time{end / 10}, fault_event(FaultAction::crash, victim));
            schedule(Time{end / 10} + config_.tombstone_grace * 2 + Duration::seconds(1),
                     fault_event(FaultAction::restart, victim));
            return;
        case Scenario::corruption:
            for (std::int64_t t = end / 10; t < end; t += rng_.between(500'000, 2'000'000)) {
                schedule(Time{t}, fault_event(FaultAction::corrupt, static_cast<std::uint32_t>(rng_.below(nodes_.size()))));
            }
            return;
        default: break;
    }
    std::vector<FaultAction> kinds;
    if (f.partitions)
        kinds.insert(kinds.end(), {FaultAction::partition, FaultAction::asymmetric_cut, FaultAction::link_stall});
    if (f.crashes) kinds.push_back(FaultAction::crash);
    if (f.clock_skew) kinds.push_back(FaultAction::clock_jump);
    if (f.disk_errors) kinds.push_back(FaultAction::disk_error);
    if (kinds.empty()) return;
    std::int64_t t = 0;
    while (true) {
        t += rng_.between(f.mean_fault_gap.us / 2, f.mean_fault_gap.us * 3 / 2);
        if (t >= end) break;
        const FaultAction kind = kinds[rng_.below(kinds.size())];
        const auto node = static_cast<std::uint32_t>(rng_.below(nodes_.size()));
        schedule(Time{t}, fault_event(kind, node));
        const std::int64_t lasts = rng_.between(300'000, 4'000'000);
        if (kind == FaultAction::crash) {
            const std::int64_t back = std::min(t + lasts, end);
            schedule(Time{back}, fault_event(FaultAction::restart, node));
            // A crash loop, as chaos tests make: the node dies again soon after it is
            // back, while answers to its short life's requests may still wait on the
            // others' links for its next life.
            const std::int64_t again = back + rng_.between(20'000, 200'000);
            if (rng_.chance(0.25) && again < end) {
                schedule(Time{again}, fault_event(FaultAction::crash, node));
                schedule(Time{std::min(again + rng_.between(100'000, 600'000), end)},
                         fault_event(FaultAction::restart, node));
            }
        }
        if (kind == FaultAction::partition || kind == FaultAction::asymmetric_cut) {
            schedule(Time{std::min(t + lasts, end)}, fault_event(FaultAction::heal));
        }
    }
    if (config_.scenario == Scenario::clock) schedule(Time{end}, fault_event(FaultAction::clocks_set));
}

void Simulation::apply_fault(const Event& e) {
    const std::uint32_t count = static_cast<std::uint32_t>(nodes_.size());
    trace(0xfa000000ULL | static_cast<std::uint64_t>(e.fault) << 8 | e.a);
    switch (e.fault) {
        case FaultAction::member_ready:
        case FaultAction::member_join:
        case FaultAction::member_leave:
        case FaultAction::member_kill:
        case FaultAction::member_remove:
        case FaultAction::member_crash_mover:
        case FaultAction::member_split: apply_membership(e); return;
        case FaultAction::crash: {
            // Keep a majority up: at most (count - 1) / 2 nodes down at once.
            std::uint32_t down = 0;
            for (const auto& n : nodes_) down += n->up ? 0 : 1;
            if (!nodes_[e.a]->up || down + 1 > (count - 1) / 2) return;
            ++result_.faults.crashes;
            crash_node(e.a);
            return;
        }
        case FaultAction::restart:
            if (nodes_[e.a]->up || nodes_[e.a]->gone) return;
            ++result_.faults.restarts;
            start_node(e.a);
            return;
        case FaultAction::partition: {
            // Split into two sides at random; no message crosses either way.
            ++result_.faults.partitions;
            std::vector<bool> side(count);
            for (auto&& s : side) s = rng_.chance(0.5);
            for (std::uint32_t i = 0; i < count; ++i)
                for (std::uint32_t j = 0; j < count; ++j) blocked_[i][j] = blocked_[i][j] || side[i] != side[j];
            return;
        }
        case FaultAction::asymmetric_cut: {
            // One node stops hearing from (or reaching) everyone else, one way only.
            ++result_.faults.asymmetric_cuts;
            const bool inbound = rng_.chance(0.5);
            for (std::uint32_t j = 0; j < count; ++j) {
                if (j == e.a) continue;
                if (inbound)
                    blocked_[j][e.a] = true;
                else
                    blocked_[e.a][j] = true;
            }
            return;
        }
        case FaultAction::heal:
            for (auto& row : blocked_) std::fill(row.begin(), row.end(), false);
            return;
        case FaultAction::link_stall: {
            // Ends by itself, as shoald's link would end it (link_delivers).
            const auto to = static_cast<std::uint32_t>((e.a + 1 + rng_.below(count - 1)) % count);
            if (count < 2 || !stalls_.emplace(std::make_pair(e.a, to), Time{-1}).second) return;
            ++result_.faults.link_stalls;
            return;
        }
        case FaultAction::clock_jump:
            ++result_.faults.clock_jumps;
            // Half a second either way; in the clock scenario a step of up to 30 s, longer
            // than any request's deadline and the failure detector's window.
            nodes_[e.a]->skew_us = config_.scenario == Scenario::clock ? rng_.between(-30'000'000, 30'000'000)
                                                                       : rng_.between(-500'000, 500'000);
            return;
        case FaultAction::clocks_set:
            for (auto& n : nodes_) n->skew_us = 0;
            return;
        case FaultAction::disk_error:
            if (!nodes_[e.a]->up) return;
            nodes_[e.a]->disk.fail_next_writes(static_cast<int>(rng_.between(1, 3)));
            return;
        case FaultAction::wipe: {
            ++result_.faults.wipes;
            crash_node(e.a);
            nodes_[e.a]->disk.wipe();
            ae_bytes_base_ = ae_bytes_sent_total();
            wiped_at_ = now_;
            wiped_node_ = e.a;
            start_node(e.a);
            Event p;
            p.kind = EventKind::probe;
            schedule(now_ + Duration::millis(50), std::move(p));
            return;
        }
        case FaultAction::corrupt: {
            SimNode& n = *nodes_[e.a];
            std::vector<std::string> keys;
            (void)n.disk.scan(store::all_data_range().begin, store::all_data_range().end, [&](std::string_view k, std::string_view) {
                keys.emplace_back(k);
                return true;
            });
            if (keys.empty() || !n.disk.corrupt(keys[rng_.below(keys.size())])) return;
            ++result_.faults.corruptions;
            // Half the time the node restarts soon after and finds the damage while
            // it rebuilds its trees; otherwise a read or write of the key finds it.
            if (n.up && rng_.chance(0.5)) {
                crash_node(e.a);
                start_node(e.a);
            }
            return;
        }
        case FaultAction::minority_start:
            if (e.b == 1) {
                ++result_.faults.crashes;
                crash_node(e.a);
            } else {
                ++result_.faults.partitions;
                for (std::uint32_t j = 0; j < count; ++j) {
                    if (j == e.a) continue;
                    blocked_[j][e.a] = blocked_[e.a][j] = true;
                }
            }
            return;
        case FaultAction::minority_end:
            if (e.b == 1) {
                ++result_.faults.restarts;
                start_node(e.a);
            } else {
                for (auto& row : blocked_) std::fill(row.begin(), row.end(), false);
            }
            return;
    }
}

void Simulation::heal_everything() {
    faults_on_ = false;
    for (auto& row : blocked_) std::fill(row.begin(), row.end(), false);
    stalls_.clear();
    for (std::uint32_t i = 0; i < nodes_.size(); ++i) {
        if (!nodes_[i]->up && nodes_[i]->started && !nodes_[i]->gone) {
            ++result_.faults.restarts;
            start_node(i);
        }
    }
}

}  // namespace shoal::sim
