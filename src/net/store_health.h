// StoreHealth: what a node knows of its store from the commits -- fine, or failing since a
// commit failed (a full disk, corruption, an I/O error: LevelDB then refuses every write
// until it is opened again) -- the recovery (reopen, then a synced probe write, every few
// seconds while no batch is out), and what /health and /metrics say of it. The shell
// owns one; time is passed in.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <system_error>

#include "net/metrics.h"

namespace shoal::net {

class StoreHealth {
public:
    using clock = std::chrono::steady_clock;
    static constexpr std::chrono::seconds k_recovery_interval{5};

    // `reopen` may be empty (no recovery: the failure stays until a restart); `probe`
    // is a synced write that shows whether the store takes writes again.
    StoreHealth(std::function<std::error_code()> reopen, std::function<std::error_code()> probe,
                std::string data_dir);

    void commit_failed(std::error_code ec, clock::time_point now);
    // When due, reopens and probes; true when the store works again (failure() is empty).
    // Call it only with no batch out.
    bool try_recover(clock::time_point now);

    // Empty while the store is fine; else the error its last commit failed with
    // (a shoal errc: store_full, corrupt or store_error).
    std::error_code failure() const { return failure_; }
    // "ok", or the kind of failure: "full", "corrupt", "io".
    const char* state() const { return failure_ ? store_error_name(store_error_kind(failure_)) : "ok"; }
    // Bytes free for the data directory (0 when unknown).
    std::uint64_t free_bytes() const;
    void render_metrics(std::string& out) const;

private:
    std::function<std::error_code()> reopen_, probe_;
    std::string data_dir_;
    std::error_code failure_;
    clock::time_point next_try_;
    std::uint64_t errors_[static_cast<int>(StoreErrorKind::count)] = {};
    std::uint64_t reopens_ = 0;
};

}  // namespace shoal::net
