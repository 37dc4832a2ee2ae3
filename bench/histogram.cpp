#include "histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

#include "core/assert.h"

namespace shoal::bench {

std::size_t Histogram::index_of(std::uint64_t v) {
    if (v < k_linear) return static_cast<std::size_t>(v);
    const int m = 63 - std::countl_zero(v);  // v in [2^m, 2^(m+1)), m >= k_sub_bits
    const int shift = m - (k_sub_bits - 1);
    const std::size_t i = k_linear + static_cast<std::size_t>(m - k_sub_bits) * k_per_octave +
                          static_cast<std::size_t>((v >> shift) - k_per_octave);
    SHOAL_ASSERT(i < k_buckets);
    return i;
}

std::uint64_t Histogram::bucket_low(std::size_t i) {
    SHOAL_ASSERT(i < k_buckets);
    if (i < k_linear) return i;
    const std::size_t j = i - k_linear;
    const int m = static_cast<int>(j / k_per_octave) + k_sub_bits;
    return (k_per_octave + j % k_per_octave) << (m - (k_sub_bits - 1));
}

std::uint64_t Histogram::bucket_width(std::size_t i) {
    if (i < k_linear) return 1;
    const int m = static_cast<int>((i - k_linear) / k_per_octave) + k_sub_bits;
    return std::uint64_t{1} << (m - (k_sub_bits - 1));
}

void Histogram::record(std::uint64_t v) {
    ++counts_[index_of(v)];
    ++count_;
    min_ = std::min(min_, v);
    max_ = std::max(max_, v);
    sum_ += v;
}

void Histogram::merge(const Histogram& o) {
    for (std::size_t i = 0; i < k_buckets; ++i) counts_[i] += o.counts_[i];
    count_ += o.count_;
    min_ = std::min(min_, o.min_);
    max_ = std::max(max_, o.max_);
    sum_ += o.sum_;
}

void Histogram::clear() {
    *this = Histogram{};
}

std::uint64_t Histogram::percentile(double q) const {
    if (count_ == 0) return 0;
    q = std::clamp(q, 0.0, 1.0);
    auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(count_)));
    rank = std::clamp<std::uint64_t>(rank, 1, count_);
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < k_buckets; ++i) {
        seen += counts_[i];
        if (seen >= rank) {
            const std::uint64_t mid = bucket_low(i) + (bucket_width(i) - 1) / 2;
            return std::clamp(mid, min_, max_);
        }
    }
    SHOAL_UNREACHABLE("histogram counts do not add up to count_");
}

}  // namespace shoal::bench
