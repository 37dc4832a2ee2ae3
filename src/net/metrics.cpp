#include "net/metrics.h"

#include <cstdio>

#include "core/errc.h"

namespace shoal::net {

namespace {
void render_sample(std::string& out, std::string_view kind, std::string_view name, std::uint64_t value) {
    out.append("# TYPE ").append(name).append(" ").append(kind).append("\n");
    out.append(name).append(" ").append(std::to_string(value)).append("\n");
}
}  // namespace

void render_counter(std::string& out, std::string_view name, std::uint64_t value) {
    render_sample(out, "counter", name, value);
}

void render_gauge(std::string& out, std::string_view name, std::uint64_t value) {
    render_sample(out, "gauge", name, value);
}

void LatencyHistogram::record(Duration d) {
    std::size_t i = 0;
    while (i < k_bounds_us.size() && d.us > k_bounds_us[i]) ++i;
    ++buckets_[i];
    ++count_;
    sum_s_ += static_cast<double>(d.us) / 1e6;
}

void LatencyHistogram::render(std::string& out, std::string_view name, std::string_view labels) const {
    char line[256];
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < k_bounds_us.size(); ++i) {
        cumulative += buckets_[i];
        std::snprintf(line, sizeof line, "%.*s_bucket{%.*s,le=\"%g\"} %llu\n", static_cast<int>(name.size()),
                      name.data(), static_cast<int>(labels.size()), labels.data(),
                      static_cast<double>(k_bounds_us[i]) / 1e6, static_cast<unsigned long long>(cumulative));
        out += line;
    }
    cumulative += buckets_.back();
    std::snprintf(line, sizeof line, "%.*s_bucket{%.*s,le=\"+Inf\"} %llu\n%.*s_sum{%.*s} %.6f\n%.*s_count{%.*s} %llu\n",
                  static_cast<int>(name.size()), name.data(), static_cast<int>(labels.size()), labels.data(),
                  static_cast<unsigned long long>(cumulative), static_cast<int>(name.size()), name.data(),
                  static_cast<int>(labels.size()), labels.data(), sum_s_, static_cast<int>(name.size()), name.data(),
                  static_cast<int>(labels.size()), labels.data(), static_cast<unsigned long long>(count_));
    out += line;
}

StoreErrorKind store_error_kind(std::error_code ec) {
    if (ec == errc::store_full) return StoreErrorKind::full;
    if (ec == errc::corrupt) return StoreErrorKind::corrupt;
    return StoreErrorKind::io;
}

const char* store_error_name(StoreErrorKind kind) {
    switch (kind) {
        case StoreErrorKind::full: return "full";
        case StoreErrorKind::corrupt: return "corrupt";
        case StoreErrorKind::io: return "io";
        case StoreErrorKind::count: break;
    }
    return "unknown";
}

const char* link_drop_name(LinkDrop why) {
    switch (why) {
        case LinkDrop::connect_failed: return "connect_failed";
        case LinkDrop::connect_timeout: return "connect_timeout";
        case LinkDrop::write_failed: return "write_failed";
        case LinkDrop::stalled: return "stalled";
        case LinkDrop::suspected: return "suspected";
        case LinkDrop::count: break;
    }
    return "unknown";
}

}  // namespace shoal::net
