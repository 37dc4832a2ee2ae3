#include "net/store_health.h"

#include <sys/statvfs.h>

#include <utility>

#include "core/errc.h"
#include "net/log.h"

namespace shoal::net {

StoreHealth::StoreHealth(std::function<std::error_code()> reopen, std::function<std::error_code()> probe,
                         std::string data_dir)
    : reopen_(std::move(reopen)), probe_(std::move(probe)), data_dir_(std::move(data_dir)) {}

void StoreHealth::commit_failed(std::error_code ec, clock::time_point now) {
    if (!ec) return;
    const std::error_code as_shoal = ec.category() == shoal_category() ? ec : std::error_code(errc::store_error);
    ++errors_[static_cast<int>(store_error_kind(as_shoal))];
    if (!failure_) next_try_ = now + k_recovery_interval;
    failure_ = as_shoal;
}

bool StoreHealth::try_recover(clock::time_point now) {
    if (!failure_ || !reopen_ || now < next_try_) return false;
    next_try_ = now + k_recovery_interval;
    std::error_code ec = reopen_();
    if (!ec && probe_) ec = probe_();
    if (ec) {
        log::warn("store still failing; writes through other replicas go on",
                  "error=" + log::quoted(ec.message()) + " free_bytes=" + std::to_string(free_bytes()));
        return false;
    }
    ++reopens_;
    log::info("store reopened; this node takes writes again", "was=" + log::quoted(failure_.message()));
    failure_ = {};
    return true;
}

std::uint64_t StoreHealth::free_bytes() const {
    struct statvfs fs {};
    if (data_dir_.empty() || ::statvfs(data_dir_.c_str(), &fs) != 0) return 0;
    return static_cast<std::uint64_t>(fs.f_bavail) * fs.f_frsize;
}

void StoreHealth::render_metrics(std::string& out) const {
    render_counter(out, "shoal_store_reopens_total", reopens_);
    render_gauge(out, "shoal_store_free_bytes", free_bytes());
    render_gauge(out, "shoal_store_failing", failure_ ? 1 : 0);
    out += "# TYPE shoal_store_commit_errors_total counter\n";
    for (int i = 0; i < static_cast<int>(StoreErrorKind::count); ++i) {
        out += std::string("shoal_store_commit_errors_total{kind=\"") + store_error_name(static_cast<StoreErrorKind>(i)) +
               "\"} " + std::to_string(errors_[i]) + "\n";
    }
}

}  // namespace shoal::net
