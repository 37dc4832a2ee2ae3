#include "health/detector.h"

#include <algorithm>
#include <cmath>

#include "core/assert.h"

namespace shoal::health {

namespace {
// Beyond this phi the normal tail underflows doubles; report the cap instead.
constexpr double k_max_phi = 300.0;

double to_ms(Duration d) { return static_cast<double>(d.us) / 1000.0; }
}  // namespace

void Detector::History::add(double ms, std::size_t window) {
    if (samples_ms.size() < window) {
        samples_ms.push_back(ms);
    } else {
        const double old = samples_ms[next];
        sum -= old;
        sum_sq -= old * old;
        samples_ms[next] = ms;
        next = (next + 1) % window;
    }
    sum += ms;
    sum_sq += ms * ms;
}

double Detector::History::std_dev() const {
    const double m = mean();
    const double var = sum_sq / static_cast<double>(samples_ms.size()) - m * m;
    return var > 0 ? std::sqrt(var) : 0.0;
}

Detector::Detector(DetectorConfig config) : config_(config) {
    SHOAL_ASSERT(config_.window >= 2);
    SHOAL_ASSERT(config_.phi_threshold > 0);
    SHOAL_ASSERT(config_.first_estimate.us > 0);
    SHOAL_ASSERT(config_.probe_interval.us > 0);
}

void Detector::heard(NodeId peer, Instant now) {
    auto [it, inserted] = history_.try_emplace(peer);
    History& h = it->second;
    if (inserted) {
        const double estimate = to_ms(config_.first_estimate);
        h.add(estimate - estimate / 4, config_.window);
        h.add(estimate + estimate / 4, config_.window);
        h.last = now;
        return;
    }
    sample(h, now);
}

void Detector::sample(History& h, Instant now) {
    if (now <= h.last) return;  // duplicate or reordered: no new information
    const bool was_silent = phi_of(h, now) >= config_.phi_threshold;
    if (!was_silent) h.add(to_ms(now - h.last), config_.window);
    h.last = now;
    h.reported_silent = false;
}

void Detector::answered(NodeId peer, Instant now) {
    if (auto it = history_.find(peer); it != history_.end()) sample(it->second, now);
    probes_.erase(peer);
}

void Detector::missed(NodeId peer, Instant now) {
    auto [it, inserted] = probes_.try_emplace(peer);
    if (inserted) it->second.next = now;  // probed at once
    it->second.missed = true;
}

bool Detector::up(NodeId peer, Instant now) const {
    auto it = probes_.find(peer);
    if (it != probes_.end() && it->second.missed) return false;
    return !silent(peer, now);
}

std::vector<NodeId> Detector::due_probes(Instant now) {
    for (const auto& [peer, h] : history_)
        if (phi_of(h, now) >= config_.phi_threshold) probes_.try_emplace(peer, Probe{false, now});
    std::vector<NodeId> due;
    for (auto it = probes_.begin(); it != probes_.end();) {
        Probe& p = it->second;
        if (!p.missed && !silent(it->first, now)) {
            it = probes_.erase(it);  // up again: its next fall is probed at once
            continue;
        }
        if (now >= p.next) {
            p.next = now + config_.probe_interval;
            due.push_back(it->first);
        }
        ++it;
    }
    std::sort(due.begin(), due.end());
    return due;
}

std::vector<NodeId> Detector::newly_silent(Instant now) {
    std::vector<NodeId> fell;
    for (auto& [peer, h] : history_) {
        if (h.reported_silent || phi_of(h, now) < config_.phi_threshold) continue;
        h.reported_silent = true;
        auto it = probes_.find(peer);
        if (it == probes_.end() || !it->second.missed) fell.push_back(peer);
    }
    std::sort(fell.begin(), fell.end());
    return fell;
}

void Detector::forget(NodeId peer) {
    history_.erase(peer);
    probes_.erase(peer);
}

double Detector::phi_of(const History& h, Instant now) const {
    if (now <= h.last) return 0.0;
    const double elapsed = to_ms(now - h.last);
    const double mean = h.mean() + to_ms(config_.acceptable_pause);
    const double sd = std::max(h.std_dev(), to_ms(config_.min_std_dev));
    // 1 - F(elapsed) for the normal distribution N(mean, sd).
    const double tail = 0.5 * std::erfc((elapsed - mean) / (sd * std::sqrt(2.0)));
    if (tail <= 0.0) return k_max_phi;
    return std::min(k_max_phi, -std::log10(tail));
}

double Detector::phi(NodeId peer, Instant now) const {
    auto it = history_.find(peer);
    return it == history_.end() ? 0.0 : phi_of(it->second, now);
}

}  // namespace shoal::health
