// Counters and latency histograms for /metrics (Prometheus text format). Owned by
// the loop thread; no locks.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

#include "core/errc.h"
#include "core/types.h"

namespace shoal::net {

// Fixed latency buckets from 50 us to 10 s, roughly 1-2.5-5 per decade.
class LatencyHistogram {
public:
    static constexpr std::array<std::int64_t, 16> k_bounds_us = {
        50,     100,    250,     500,     1'000,   2'500,     5'000,     10'000,
        25'000, 50'000, 100'000, 250'000, 500'000, 1'000'000, 2'500'000, 10'000'000};

    void record(Duration d);
    // Appends Prometheus histogram lines for metric `name` with label text `labels`
    // (e.g. op="get"), in seconds.
    void render(std::string& out, std::string_view name, std::string_view labels) const;
    std::uint64_t count() const { return count_; }

private:
    std::array<std::uint64_t, k_bounds_us.size() + 1> buckets_{};
    std::uint64_t count_ = 0;
    double sum_s_ = 0;
};

// Counts (siblings per read): buckets 1, 2, 3, 4, 8, 16, 32, 64 and more.
class CountHistogram {
public:
    static constexpr std::array<std::uint64_t, 8> k_bounds = {1, 2, 3, 4, 8, 16, 32, 64};
    void record(std::uint64_t n);
    void render(std::string& out, std::string_view name) const;
    std::uint64_t count() const { return count_; }

private:
    std::array<std::uint64_t, k_bounds.size() + 1> buckets_{};
    std::uint64_t count_ = 0;
    std::uint64_t sum_ = 0;
};

// process_* (CPU, resident memory, descriptors, start time) and shoal_build_info.
void render_process_metrics(std::string& out);

// The HELP text of a metric family ("" when it has none: net/metric_help.cpp).
std::string_view metric_help(std::string_view family);
// A family's "# HELP" and "# TYPE" lines.
void render_family(std::string& out, std::string_view name, std::string_view type);

// One Prometheus sample with its HELP and TYPE lines.
void render_counter(std::string& out, std::string_view name, std::uint64_t value);
void render_gauge(std::string& out, std::string_view name, std::uint64_t value);

// Why a peer link was closed and dialled again.
// refused: the other end's certificate names another node than the one dialled.
enum class LinkDrop : std::uint8_t { connect_failed, connect_timeout, write_failed, stalled, suspected, refused, count };
const char* link_drop_name(LinkDrop why);

// What a failed commit says about the store.
enum class StoreErrorKind : std::uint8_t { full, corrupt, io, count };
StoreErrorKind store_error_kind(std::error_code ec);
const char* store_error_name(StoreErrorKind kind);

struct Metrics {
    std::uint64_t link_reconnects[static_cast<int>(LinkDrop::count)] = {};
    LatencyHistogram get_latency, put_latency, del_latency;
    LatencyHistogram commit_latency;  // a batch, from the driver's hand-off to durable
    std::uint64_t requests_ok[3] = {};      // by ClientOp
    std::uint64_t requests_failed[3] = {};  // by ClientOp
    std::uint64_t errors_by_code[static_cast<int>(k_last_errc) + 1] = {};  // failed requests by errc
    CountHistogram read_siblings;  // live siblings a successful get returned
    std::size_t open_client_connections = 0;  // gauges, set before rendering
    std::size_t open_peer_connections = 0;
    std::uint64_t bad_frames = 0;
    std::uint64_t peer_messages_in = 0;
    std::uint64_t peer_messages_out = 0;
    std::uint64_t peer_messages_dropped = 0;
    std::uint64_t peer_frames_oversized = 0;  // never sent: over the frame bound
    std::uint64_t client_connections = 0;
    std::uint64_t accept_failures = 0;  // peer and client listeners (EMFILE, ...)
    std::uint64_t connections_refused = 0;    // over a connection limit (peer, client, unnamed)
    std::uint64_t connections_timed_out = 0;  // closed past a ConnTimeouts bound
    // TLS handshakes that failed, or presented no certificate of the right kind (peer).
    std::uint64_t peer_handshakes_refused = 0;
    std::uint64_t client_handshakes_refused = 0;
    std::uint64_t requests_forbidden = 0;  // native requests the caller's role does not allow
};

// The shell's own counters and histograms (requests by op and result, latencies, commit
// latency under `sync_mode`, frames, peer traffic, connections, link reconnects).
void render_shell_metrics(const Metrics& m, std::string_view sync_mode, std::string& out);

}  // namespace shoal::net
