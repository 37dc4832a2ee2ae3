#include "net/store_health.h"

#include <sys/statvfs.h>

#include <filesystem>

#include <utility>

#include "core/errc.h"
#include "core/json.h"
#include "net/log.h"

namespace shoal::net {

StoreHealth::StoreHealth(std::function<std::error_code()> reopen, std::function<std::error_code()> probe,
                         std::function<void(std::error_code)> rebuild, std::string data_dir, StoreRebuilt rebuilt)
    : reopen_(std::move(reopen)),
      probe_(std::move(probe)),
      rebuild_(std::move(rebuild)),
      data_dir_(std::move(data_dir)),
      rebuilt_(std::move(rebuilt)) {}

void StoreHealth::commit_failed(std::error_code ec, clock::time_point now) {
    if (!ec) return;
    const std::error_code as_shoal = ec.category() == shoal_category() ? ec : std::error_code(errc::store_error);
    ++errors_[static_cast<int>(store_error_kind(as_shoal))];
    if (!failure_) next_try_ = now + k_recovery_interval;
    failure_ = as_shoal;
    if (as_shoal == errc::corrupt && recovered_from_corrupt_ && now - *recovered_from_corrupt_ < k_corrupt_window)
        judge_unusable("corrupt again after a reopen");
}

void StoreHealth::judge_unusable(const char* why) {
    if (!unusable_)
        log::error("store cannot go on", "reason=" + log::quoted(why) + " error=" + log::quoted(failure_.message()));
    unusable_ = true;
    next_try_ = {};  // the next try_recover (with no batch out) rebuilds at once
}

bool StoreHealth::try_recover(clock::time_point now) {
    if (!failure_ || now < next_try_) return false;
    next_try_ = now + k_recovery_interval;
    if (unusable_) {
        if (rebuild_) rebuild_(failure_);  // returns only when the rebuild failed
        return false;
    }
    if (!reopen_) return false;
    std::error_code ec = reopen_();
    if (!ec && probe_) ec = probe_();
    if (ec == errc::corrupt) {
        failure_ = ec;
        judge_unusable("corrupt after a reopen");
        return false;
    }
    if (ec) {
        log::warn("store still failing; writes through other replicas go on",
                  "error=" + log::quoted(ec.message()) + " free_bytes=" + std::to_string(free_bytes()));
        return false;
    }
    ++reopens_;
    log::info("store reopened; this node takes writes again", "was=" + log::quoted(failure_.message()));
    if (failure_ == errc::corrupt) recovered_from_corrupt_ = now;
    failure_ = {};
    return true;
}

std::uint64_t StoreHealth::free_bytes() const {
    struct statvfs fs {};
    if (data_dir_.empty() || ::statvfs(data_dir_.c_str(), &fs) != 0) return 0;
    return static_cast<std::uint64_t>(fs.f_bavail) * fs.f_frsize;
}

std::uint64_t StoreHealth::disk_bytes() const {
    std::error_code ec;
    std::uint64_t total = 0;
    if (data_dir_.empty()) return 0;
    // The store (db/, and db.damaged/ after a rebuild) and the lock: two levels at most.
    for (const auto& entry : std::filesystem::recursive_directory_iterator(data_dir_, ec)) {
        std::error_code size_ec;
        if (entry.is_regular_file(size_ec)) {
            const auto size = entry.file_size(size_ec);
            if (!size_ec) total += size;
        }
    }
    return total;
}

std::string StoreHealth::health_json() const {
    std::string out = std::string("\"store\":\"") + (unusable_ ? "unusable" : state()) +
                      "\",\"free_bytes\":" + std::to_string(free_bytes()) +
                      ",\"disk_bytes\":" + std::to_string(disk_bytes());
    if (rebuilt_.count > 0) {
        out += ",\"store_rebuilt\":{\"count\":" + std::to_string(rebuilt_.count) +
               ",\"at_unix_s\":" + std::to_string(rebuilt_.at_unix_s) + ",\"reason\":" +
               json_string(std::string_view(rebuilt_.reason).substr(0, 200)) + "}";
    }
    return out;
}

void StoreHealth::render_metrics(std::string& out) const {
    render_counter(out, "shoal_store_reopens_total", reopens_);
    render_counter(out, "shoal_store_rebuilds_total", rebuilt_.count);
    render_gauge(out, "shoal_store_free_bytes", free_bytes());
    render_gauge(out, "shoal_store_disk_bytes", disk_bytes());
    render_gauge(out, "shoal_store_failing", failure_ ? 1 : 0);
    render_gauge(out, "shoal_store_unusable", unusable_ ? 1 : 0);
    render_family(out, "shoal_store_commit_errors_total", "counter");
    for (int i = 0; i < static_cast<int>(StoreErrorKind::count); ++i) {
        out += std::string("shoal_store_commit_errors_total{kind=\"") + store_error_name(static_cast<StoreErrorKind>(i)) +
               "\"} " + std::to_string(errors_[i]) + "\n";
    }
}

}  // namespace shoal::net
