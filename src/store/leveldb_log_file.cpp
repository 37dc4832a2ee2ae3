#include "store/leveldb_log_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

namespace shoal::store {

namespace {

leveldb::Status posix_error(const std::string& context, int error) {
    // The message keeps strerror's text: LevelStore maps "No space left on device" to
    // store_full by it, as it does for LevelDB's own files.
    return leveldb::Status::IOError(context, std::strerror(error));
}

// A log file: appends are buffered, written at the file's logical end on Flush, and
// land inside a region already filled with zeros and synced, so that a Sync has only
// data to flush. Before a write would pass the region, the next step of zeros is
// written and synced (one size change per step instead of one per Sync).
class PreallocatedLog final : public leveldb::WritableFile {
public:
    PreallocatedLog(std::string name, int fd, std::size_t step) : name_(std::move(name)), fd_(fd), step_(step) {}
    ~PreallocatedLog() override {
        if (fd_ >= 0) (void)Close();
    }

    leveldb::Status Append(const leveldb::Slice& data) override {
        buffer_.append(data.data(), data.size());
        return leveldb::Status::OK();
    }

    leveldb::Status Flush() override {
        if (buffer_.empty()) return leveldb::Status::OK();
        if (fd_ < 0) return leveldb::Status::IOError(name_, "closed");
        if (leveldb::Status s = make_room(end_ + buffer_.size()); !s.ok()) return s;
        std::size_t done = 0;
        while (done < buffer_.size()) {
            const ssize_t n = ::pwrite(fd_, buffer_.data() + done, buffer_.size() - done,
                                       static_cast<off_t>(end_ + done));
            if (n < 0) {
                if (errno == EINTR) continue;
                return posix_error(name_, errno);
            }
            done += static_cast<std::size_t>(n);
        }
        end_ += buffer_.size();
        buffer_.clear();
        return leveldb::Status::OK();
    }

    leveldb::Status Sync() override {
        if (leveldb::Status s = Flush(); !s.ok()) return s;
        if (::fdatasync(fd_) != 0) return posix_error(name_, errno);
        return leveldb::Status::OK();
    }

    leveldb::Status Close() override {
        leveldb::Status s = Flush();
        if (fd_ >= 0 && ::close(fd_) != 0 && s.ok()) s = posix_error(name_, errno);
        fd_ = -1;
        return s;
    }

private:
    // Extends the zero-filled region to hold `needed` bytes, a whole step at a time.
    leveldb::Status make_room(std::size_t needed) {
        if (needed <= zeroed_) return leveldb::Status::OK();
        std::size_t target = zeroed_;
        while (target < needed) target += step_;
        const std::vector<char> zeros(64 * 1024, 0);
        for (std::size_t at = zeroed_; at < target;) {
            const std::size_t len = std::min(zeros.size(), target - at);
            const ssize_t n = ::pwrite(fd_, zeros.data(), len, static_cast<off_t>(at));
            if (n < 0) {
                if (errno == EINTR) continue;
                return posix_error(name_, errno);
            }
            at += static_cast<std::size_t>(n);
        }
        // Synced now, so the region's size and blocks are on disk before records are.
        if (::fdatasync(fd_) != 0) return posix_error(name_, errno);
        zeroed_ = target;
        return leveldb::Status::OK();
    }

    std::string name_;
    int fd_;
    std::size_t step_;
    std::size_t end_ = 0;     // bytes of records written
    std::size_t zeroed_ = 0;  // bytes of the file filled with zeros (and synced)
    std::string buffer_;
};

class LogPreallocatingEnv final : public leveldb::EnvWrapper {
public:
    LogPreallocatingEnv(leveldb::Env* base, std::size_t step) : leveldb::EnvWrapper(base), step_(step) {}

    leveldb::Status NewWritableFile(const std::string& name, leveldb::WritableFile** result) override {
        const bool log = name.size() > 4 && name.compare(name.size() - 4, 4, ".log") == 0;
        if (!log) return target()->NewWritableFile(name, result);
        const int fd = ::open(name.c_str(), O_TRUNC | O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0) {
            *result = nullptr;
            return posix_error(name, errno);
        }
        *result = new PreallocatedLog(name, fd, step_);
        return leveldb::Status::OK();
    }

private:
    std::size_t step_;
};

}  // namespace

std::unique_ptr<leveldb::Env> make_log_preallocating_env(leveldb::Env* base, std::size_t step_bytes) {
    return std::make_unique<LogPreallocatingEnv>(base, step_bytes);
}

}  // namespace shoal::store
