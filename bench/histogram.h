// A log-linear latency histogram (the HdrHistogram layout): values below 128 each get
// their own bucket; above that, every power of two is cut into 64 equal buckets. A
// reported percentile is the midpoint of its bucket, clamped to the observed min and
// max, so it is within 1/128 (0.79%) of the exact sample at that rank.
//
// Costs: record() is a few instructions and never allocates; the counts are one fixed
// array of k_buckets 64-bit words (about 30 KiB). Not thread-safe: one per thread,
// merged afterwards.
#pragma once

#include <array>
#include <cstdint>

namespace shoal::bench {

class Histogram {
public:
    static constexpr int k_sub_bits = 7;
    static constexpr std::uint64_t k_linear = 1u << k_sub_bits;      // 128 exact buckets
    static constexpr std::uint64_t k_per_octave = k_linear / 2;      // 64 per power of two
    static constexpr std::size_t k_buckets = k_linear + (64 - k_sub_bits) * k_per_octave;
    // The bound on |reported - exact| / exact for any percentile.
    static constexpr double k_max_relative_error = 1.0 / k_linear;

    void record(std::uint64_t value);
    void merge(const Histogram& other);
    void clear();

    std::uint64_t count() const { return count_; }
    std::uint64_t min() const { return count_ ? min_ : 0; }
    std::uint64_t max() const { return max_; }
    double mean() const { return count_ ? static_cast<double>(sum_) / static_cast<double>(count_) : 0.0; }
    // The value at quantile q in [0, 1] (the sample of rank ceil(q * count)); 0 when empty.
    std::uint64_t percentile(double q) const;

    // Bucket arithmetic, exposed for tests.
    static std::size_t index_of(std::uint64_t value);
    static std::uint64_t bucket_low(std::size_t index);
    static std::uint64_t bucket_width(std::size_t index);

private:
    std::array<std::uint64_t, k_buckets> counts_{};
    std::uint64_t count_ = 0;
    std::uint64_t min_ = ~std::uint64_t{0};
    std::uint64_t max_ = 0;
    std::uint64_t sum_ = 0;  // wraps after ~584 years of nanoseconds; fine
};

}  // namespace shoal::bench
