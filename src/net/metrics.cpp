#include "net/metrics.h"

#include <cstdio>

#include "core/errc.h"

namespace shoal::net {

namespace {
void render_sample(std::string& out, std::string_view kind, std::string_view name, std::uint64_t value) {
    render_family(out, name, kind);
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

void CountHistogram::record(std::uint64_t n) {
    std::size_t i = 0;
    while (i < k_bounds.size() && n > k_bounds[i]) ++i;
    ++buckets_[i];
    ++count_;
    sum_ += n;
}

void CountHistogram::render(std::string& out, std::string_view name) const {
    const std::string base(name);
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < k_bounds.size(); ++i) {
        cumulative += buckets_[i];
        out += base + "_bucket{le=\"" + std::to_string(k_bounds[i]) + "\"} " + std::to_string(cumulative) + "\n";
    }
    cumulative += buckets_.back();
    out += base + "_bucket{le=\"+Inf\"} " + std::to_string(cumulative) + "\n";
    out += base + "_sum " + std::to_string(sum_) + "\n" + base + "_count " + std::to_string(count_) + "\n";
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

void render_shell_metrics(const Metrics& m, std::string_view sync_mode, std::string& out) {
    static const char* ops[3] = {"get", "put", "del"};
    render_family(out, "shoal_requests_total", "counter");
    for (int i = 0; i < 3; ++i) {
        out += std::string("shoal_requests_total{op=\"") + ops[i] + "\",result=\"ok\"} " +
               std::to_string(m.requests_ok[i]) + "\n";
        out += std::string("shoal_requests_total{op=\"") + ops[i] + "\",result=\"error\"} " +
               std::to_string(m.requests_failed[i]) + "\n";
    }
    render_family(out, "shoal_request_errors_total", "counter");
    for (int code = 1; code <= static_cast<int>(k_last_errc); ++code) {
        if (static_cast<errc>(code) == errc::not_found) continue;  // a normal outcome of a get
        out += std::string("shoal_request_errors_total{code=\"") + std::string(errc_name(static_cast<errc>(code))) +
               "\"} " + std::to_string(m.errors_by_code[code]) + "\n";
    }
    render_family(out, "shoal_read_siblings", "histogram");
    m.read_siblings.render(out, "shoal_read_siblings");
    render_family(out, "shoal_connections_open", "gauge");
    out += "shoal_connections_open{kind=\"client\"} " + std::to_string(m.open_client_connections) + "\n";
    out += "shoal_connections_open{kind=\"peer\"} " + std::to_string(m.open_peer_connections) + "\n";
    render_family(out, "shoal_request_duration_seconds", "histogram");
    m.get_latency.render(out, "shoal_request_duration_seconds", "op=\"get\"");
    m.put_latency.render(out, "shoal_request_duration_seconds", "op=\"put\"");
    m.del_latency.render(out, "shoal_request_duration_seconds", "op=\"del\"");
    render_family(out, "shoal_commit_duration_seconds", "histogram");
    m.commit_latency.render(out, "shoal_commit_duration_seconds", "sync=\"" + std::string(sync_mode) + "\"");
    render_counter(out, "shoal_bad_frames_total", m.bad_frames);
    render_counter(out, "shoal_peer_messages_in_total", m.peer_messages_in);
    render_counter(out, "shoal_peer_messages_out_total", m.peer_messages_out);
    render_counter(out, "shoal_peer_messages_dropped_total", m.peer_messages_dropped);
    render_counter(out, "shoal_peer_frames_oversized_total", m.peer_frames_oversized);
    render_counter(out, "shoal_client_connections_total", m.client_connections);
    render_counter(out, "shoal_accept_failures_total", m.accept_failures);
    render_counter(out, "shoal_connections_refused_total", m.connections_refused);
    render_counter(out, "shoal_connections_timed_out_total", m.connections_timed_out);
    render_counter(out, "shoal_requests_forbidden_total", m.requests_forbidden);
    render_family(out, "shoal_tls_handshakes_refused_total", "counter");
    out += "shoal_tls_handshakes_refused_total{port=\"peer\"} " + std::to_string(m.peer_handshakes_refused) + "\n";
    out += "shoal_tls_handshakes_refused_total{port=\"client\"} " + std::to_string(m.client_handshakes_refused) + "\n";
    render_family(out, "shoal_peer_link_reconnects_total", "counter");
    for (int i = 0; i < static_cast<int>(LinkDrop::count); ++i) {
        out += std::string("shoal_peer_link_reconnects_total{reason=\"") + link_drop_name(static_cast<LinkDrop>(i)) +
               "\"} " + std::to_string(m.link_reconnects[i]) + "\n";
    }
}

const char* link_drop_name(LinkDrop why) {
    switch (why) {
        case LinkDrop::connect_failed: return "connect_failed";
        case LinkDrop::connect_timeout: return "connect_timeout";
        case LinkDrop::write_failed: return "write_failed";
        case LinkDrop::stalled: return "stalled";
        case LinkDrop::suspected: return "suspected";
        case LinkDrop::refused: return "refused";
        case LinkDrop::count: break;
    }
    return "unknown";
}

}  // namespace shoal::net
