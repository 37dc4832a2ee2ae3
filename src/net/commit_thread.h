// CommitThread: shoald's turn::Committer. A synced batch is written (and fsynced) on a
// thread of its own, so the loop goes on reading, stepping and staging the next batch
// meanwhile; the result is posted back to the loop, which hands it to the driver. An
// unsynced batch (sync = none) is a memtable write of a few microseconds: it is written
// on the loop at once, with no thread hop.
#pragma once

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <system_error>
#include <thread>

#include "core/types.h"
#include "store/store.h"
#include "turn/driver.h"

namespace shoal::net {

class CommitThread final : public turn::Committer {
public:
    // `inner` is the store the batches go to; `done` runs on `io`'s loop with each
    // batch's seq and result. Both must outlive this, and this must outlive the
    // report of the last batch it was given (the driver is idle).
    // `took` is the time from commit() to the end of the write (fsync included).
    CommitThread(boost::asio::io_context& io, store::Store& inner,
                 std::function<void(std::uint64_t seq, std::error_code ec, Duration took)> done);
    ~CommitThread() override;  // finishes the batch it holds, then joins
    CommitThread(const CommitThread&) = delete;
    CommitThread& operator=(const CommitThread&) = delete;

    void commit(store::StagedBatch batch) override;

private:
    void run();

    boost::asio::io_context& io_;
    store::Store& inner_;
    std::function<void(std::uint64_t, std::error_code, Duration)> done_;
    std::chrono::steady_clock::time_point started_;  // guarded by mutex_
    std::mutex mutex_;
    std::condition_variable wake_;
    std::optional<store::StagedBatch> batch_;  // guarded by mutex_
    bool stopping_ = false;                    // guarded by mutex_
    std::thread thread_;
};

}  // namespace shoal::net
