// StoreHealth: what a node knows of its store from the commits -- fine, or failing since a
// commit failed (a full disk, corruption, an I/O error: LevelDB then refuses every write
// until it is opened again) -- the recovery (reopen, then a synced probe write, every few
// seconds while no batch is out), and what /health and /metrics say of it. The shell
// owns one; time is passed in.
//
// A store that cannot go on -- corruption that a reopen does not clear: the reopen or
// its probe fails as corrupt, or a commit fails as corrupt again within
// k_corrupt_window of a recovery from corruption (LevelDB's compaction meets the same
// damaged block again) -- is handed to `rebuild`, which moves it aside and starts the
// node again on a fresh one that anti-entropy refills from the replicas.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <system_error>

#include "net/metrics.h"

namespace shoal::net {

// What a store's metadata says of its earlier rebuilds (count 0: never rebuilt).
struct StoreRebuilt {
    std::uint64_t count = 0;
    std::uint64_t at_unix_s = 0;
    std::string reason;
};

class StoreHealth {
public:
    using clock = std::chrono::steady_clock;
    static constexpr std::chrono::seconds k_recovery_interval{5};
    static constexpr std::chrono::minutes k_corrupt_window{10};


    // `reopen` may be empty (no recovery: the failure stays until a restart); `probe`
    // is a synced write that shows whether the store takes writes again.
    // `rebuild` may be empty (an unusable store then stays failing); on success it does
    // not return (the process starts again), so a return is a failure to rebuild.
    StoreHealth(std::function<std::error_code()> reopen, std::function<std::error_code()> probe,
                std::function<void(std::error_code)> rebuild, std::string data_dir, StoreRebuilt rebuilt = {});

    void commit_failed(std::error_code ec, clock::time_point now);
    // When due, reopens and probes; true when the store works again (failure() is empty).
    // Call it only with no batch out. An unusable store goes to `rebuild` from here.
    bool try_recover(clock::time_point now);
    // True once the store was judged unable to go on (and its rebuild did not happen).
    bool unusable() const { return unusable_; }

    // Empty while the store is fine; else the error its last commit failed with
    // (a shoal errc: store_full, corrupt or store_error).
    std::error_code failure() const { return failure_; }
    // "ok", or the kind of failure: "full", "corrupt", "io".
    const char* state() const { return failure_ ? store_error_name(store_error_kind(failure_)) : "ok"; }
    // Bytes free for the data directory (0 when unknown).
    std::uint64_t free_bytes() const;
    // Bytes the data directory's files take (LevelDB tables and logs, hints, metadata).
    std::uint64_t disk_bytes() const;
    // The /health fields after "store": the state, free bytes and any rebuild (JSON).
    std::string health_json() const;
    void render_metrics(std::string& out) const;

private:
    void judge_unusable(const char* why);

    std::function<std::error_code()> reopen_, probe_;
    std::function<void(std::error_code)> rebuild_;
    std::string data_dir_;
    StoreRebuilt rebuilt_;
    std::error_code failure_;
    bool unusable_ = false;
    std::optional<clock::time_point> recovered_from_corrupt_;
    clock::time_point next_try_;
    std::uint64_t errors_[static_cast<int>(StoreErrorKind::count)] = {};
    std::uint64_t reopens_ = 0;
};

}  // namespace shoal::net
