#include "keygen.h"

#include <algorithm>
#include <cmath>

#include "core/assert.h"

namespace shoal::bench {

std::optional<KeyDist> parse_key_dist(std::string_view t) {
    if (t == "uniform") return KeyDist::uniform;
    if (t == "zipfian" || t == "zipf") return KeyDist::zipfian;
    if (t == "latest") return KeyDist::latest;
    return std::nullopt;
}

std::string_view key_dist_name(KeyDist d) {
    switch (d) {
        case KeyDist::uniform: return "uniform";
        case KeyDist::zipfian: return "zipfian";
        case KeyDist::latest: return "latest";
    }
    SHOAL_UNREACHABLE("bad KeyDist");
}

namespace {
double zeta(std::uint64_t n, double theta) {
    double sum = 0;
    for (std::uint64_t i = 1; i <= n; ++i) sum += 1.0 / std::pow(static_cast<double>(i), theta);
    return sum;
}
}  // namespace

Zipfian::Zipfian(std::uint64_t count, double theta) : count_(count), theta_(theta) {
    SHOAL_ASSERT(count >= 1);
    SHOAL_ASSERT(theta > 0 && theta < 1);
    alpha_ = 1.0 / (1.0 - theta);
    zetan_ = zeta(count, theta);
    const double zeta2 = zeta(std::min<std::uint64_t>(2, count), theta);
    eta_ = count < 2 ? 0.0
                     : (1.0 - std::pow(2.0 / static_cast<double>(count), 1.0 - theta)) / (1.0 - zeta2 / zetan_);
    half_pow_theta_ = std::pow(0.5, theta);
}

std::uint64_t Zipfian::next(Rng& rng) const {
    const double u = rng.unit();
    const double uz = u * zetan_;
    if (uz < 1.0 || count_ == 1) return 0;
    if (uz < 1.0 + half_pow_theta_) return 1;
    const auto i =
        static_cast<std::uint64_t>(static_cast<double>(count_) * std::pow(eta_ * u - eta_ + 1.0, alpha_));
    return std::min(i, count_ - 1);
}

KeyChooser::KeyChooser(KeyDist dist, std::uint64_t count, double theta) : dist_(dist), count_(count) {
    SHOAL_ASSERT(count >= 1);
    if (dist != KeyDist::uniform) zipf_.emplace(count, theta);
}

std::uint64_t KeyChooser::next(Rng& rng, std::uint64_t inserted) const {
    inserted = std::max<std::uint64_t>(inserted, 1);
    const std::uint64_t live = std::min(count_, inserted);
    switch (dist_) {
        case KeyDist::uniform: return rng.below(live);
        case KeyDist::zipfian: return zipf_->next(rng) % live;
        case KeyDist::latest: return inserted - 1 - zipf_->next(rng) % inserted;
    }
    SHOAL_UNREACHABLE("bad KeyDist");
}

}  // namespace shoal::bench
