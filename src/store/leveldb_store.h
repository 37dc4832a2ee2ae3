// LevelStore: shoald's Store, one LevelDB database in a directory. LevelDB types stay
// out of this header (pimpl), so only leveldb_store.cpp needs LevelDB's headers.
// LevelDB is internally synchronized, but Shoal calls it from the node's one loop.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "store/store.h"

namespace shoal::store {

struct LevelOptions {
    std::size_t block_cache_bytes = 64 * 1024 * 1024;   // LRU cache of uncompressed blocks
    std::size_t write_buffer_bytes = 16 * 1024 * 1024;  // memtable size before a flush
    bool create_if_missing = true;
    // Block compression. Off by default: the values a cart or session service stores
    // are small or already compressed, and snappy cost ~3% of a node's CPU under the
    // bench for no space saved on random values.
    bool compress = false;
    // The write-ahead log grows in zero-filled steps of this size, then is overwritten
    // in place, so that a synced write flushes data without a size change (about half
    // the fdatasync cost on ext4; leveldb_log_file.h). 0: LevelDB's own appending log.
    std::size_t log_step_bytes = 1024 * 1024;
};

// The memtable size of node `node_id` for a base of `base` bytes: base x (1 + (id mod 8)
// / 16), so that any eight consecutive ids get eight sizes, 1 to 1.4375 times the base. The
// replicas of a key range take the same writes; with one size they would fill their
// memtables together and flush (a burst of disk writes that delays the next fsync) at
// the same moment, and for that moment no quorum of fast copies would exist.
std::size_t staggered_write_buffer(std::size_t base, std::uint32_t node_id);

class LevelStore final : public Store {
public:
    // Opens (creating if allowed) the database in `dir`. On failure returns nullptr and
    // sets `ec` to errc::store_error (e.g. missing dir without create_if_missing, or the
    // database is locked by another process). The store holds the lock until destroyed.
    static std::unique_ptr<LevelStore> open(const std::string& dir, const LevelOptions& opts, std::error_code& ec);
    ~LevelStore() override;
    LevelStore(const LevelStore&) = delete;
    LevelStore& operator=(const LevelStore&) = delete;

    // Errors: errc::store_full (no space left), errc::corrupt (LevelDB found corruption),
    // else errc::store_error.
    // A point read: memtable, then block cache or disk.
    std::error_code get(std::string_view key, std::optional<std::string>& out) override;
    // One atomic LevelDB write; with sync, fsyncs the log before returning.
    std::error_code write(const WriteBatch& batch, bool sync) override;
    // Writes an empty synced batch, which fsyncs the log and so every earlier write.
    std::error_code sync() override;
    // Iterates a snapshot taken at the call; bulk scans do not fill the block cache.
    std::error_code scan(std::string_view begin, std::string_view end, const ScanVisitor& visit) override;

    // Closes and opens the database again: a write error (a full disk) is sticky in
    // LevelDB until then. No other call may run meanwhile (no batch out). On failure the
    // store is closed and every call fails until a reopen succeeds.
    std::error_code reopen();
    // Closes the database (releasing its lock and files); every call fails until a
    // reopen. For moving a store that cannot go on out of the way.
    void close();

    // LevelDB's repair of the database in `dir` (not open): keeps every record it can
    // still read, drops damaged blocks. Used only on a copy moved aside, to salvage its
    // metadata: a repaired store may hold older versions of keys again.
    static std::error_code repair(const std::string& dir, const LevelOptions& opts);

private:
    struct Impl;
    explicit LevelStore(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace shoal::store
