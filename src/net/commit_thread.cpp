#include "net/commit_thread.h"

#include <boost/asio/post.hpp>

#include <utility>

#include "core/assert.h"

namespace shoal::net {

namespace {
Duration since(std::chrono::steady_clock::time_point t) {
    return Duration{std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t).count()};
}
}  // namespace

CommitThread::CommitThread(boost::asio::io_context& io, store::Store& inner,
                           std::function<void(std::uint64_t, std::error_code, Duration)> done)
    : io_(io), inner_(inner), done_(std::move(done)), thread_([this] { run(); }) {}

CommitThread::~CommitThread() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_one();
    thread_.join();
}

void CommitThread::commit(store::StagedBatch batch) {
    const auto start = std::chrono::steady_clock::now();
    if (!batch.sync) {
        const std::error_code ec = inner_.write(batch.writes, false);
        done_(batch.seq, ec, since(start));
        return;
    }
    {
        std::lock_guard lock(mutex_);
        SHOAL_ASSERT_MSG(!batch_.has_value(), "the driver keeps one batch out at a time");
        batch_ = std::move(batch);
        started_ = start;
    }
    wake_.notify_one();
}

void CommitThread::run() {
    std::unique_lock lock(mutex_);
    for (;;) {
        wake_.wait(lock, [this] { return batch_.has_value() || stopping_; });
        if (!batch_) return;  // stopping, nothing held
        store::StagedBatch batch = std::move(*batch_);
        batch_.reset();
        const auto started = started_;
        lock.unlock();
        const std::error_code ec = inner_.write(batch.writes, true);
        const std::uint64_t seq = batch.seq;
        const Duration took = since(started);
        batch = store::StagedBatch{};  // free the bytes here, not on the loop
        // The next batch can come only after this one is reported: one is out at a time.
        boost::asio::post(io_, [this, seq, ec, took] { done_(seq, ec, took); });
        lock.lock();
    }
}

}  // namespace shoal::net
