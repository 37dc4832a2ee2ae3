#include "gossip/failure_detector.h"

#include <algorithm>
#include <cmath>

#include "core/assert.h"

namespace shoal::gossip {

namespace {
// Beyond this phi the normal tail underflows doubles; report the cap instead.
constexpr double k_max_phi = 300.0;

double to_ms(Duration d) { return static_cast<double>(d.us) / 1000.0; }
}  // namespace

void FailureDetector::History::add(double ms, std::size_t window) {
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

double FailureDetector::History::std_dev() const {
    const double m = mean();
    const double var = sum_sq / static_cast<double>(samples_ms.size()) - m * m;
    return var > 0 ? std::sqrt(var) : 0.0;
}

FailureDetector::FailureDetector(DetectorConfig config) : config_(config) {
    SHOAL_ASSERT(config_.window >= 2);
    SHOAL_ASSERT(config_.phi_threshold > 0);
    SHOAL_ASSERT(config_.first_estimate.us > 0);
}

void FailureDetector::heartbeat(NodeId peer, Instant now) {
    auto [it, inserted] = peers_.try_emplace(peer);
    History& h = it->second;
    if (inserted) {
        const double estimate = to_ms(config_.first_estimate);
        h.add(estimate - estimate / 4, config_.window);
        h.add(estimate + estimate / 4, config_.window);
        h.last = now;
        return;
    }
    if (now <= h.last) return;  // duplicate or reordered: no new information
    const bool was_suspected = phi_of(h, now) >= config_.phi_threshold;
    if (!was_suspected) h.add(to_ms(now - h.last), config_.window);
    h.last = now;
}

double FailureDetector::phi_of(const History& h, Instant now) const {
    if (now <= h.last) return 0.0;
    const double elapsed = to_ms(now - h.last);
    const double mean = h.mean() + to_ms(config_.acceptable_pause);
    const double sd = std::max(h.std_dev(), to_ms(config_.min_std_dev));
    // 1 - F(elapsed) for the normal distribution N(mean, sd).
    const double tail = 0.5 * std::erfc((elapsed - mean) / (sd * std::sqrt(2.0)));
    if (tail <= 0.0) return k_max_phi;
    return std::min(k_max_phi, -std::log10(tail));
}

double FailureDetector::phi(NodeId peer, Instant now) const {
    auto it = peers_.find(peer);
    return it == peers_.end() ? 0.0 : phi_of(it->second, now);
}

bool FailureDetector::available(NodeId peer, Instant now) const {
    return phi(peer, now) < config_.phi_threshold;
}

}  // namespace shoal::gossip
