// The Store: an ordered byte-string map that the core reads and writes
// synchronously. Local reads are a microsecond or two; everything remote is a
// message, never a Store call.
//
// Implementations: MemStore (memory_store.h: the simulator's, and able to model a
// crash that loses unsynced writes), LevelStore (leveldb_store.h: shoald's), and
// BufferedStore (buffered_store.h: groups one loop turn's writes into one batch).
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace shoal::store {

// How a node makes writes durable. `batch` (the default) commits all writes of one
// loop turn as one synced batch before their acknowledgements leave the node.
enum class SyncMode { none, batch, always };

// Parses "none" | "batch" | "always".
std::optional<SyncMode> parse_sync_mode(std::string_view text);
std::string_view sync_mode_name(SyncMode mode);

// An ordered list of puts and deletes applied atomically by Store::write.
class WriteBatch {
public:
    struct Op {
        bool is_delete = false;
        std::string key;
        std::string value;  // empty for deletes
    };

    void put(std::string_view key, std::string_view value);
    void del(std::string_view key);
    void clear();
    // Moves `later`'s ops after this batch's (applied in that order), leaving it empty.
    void append(WriteBatch&& later);

    const std::vector<Op>& ops() const { return ops_; }
    bool empty() const { return ops_.empty(); }
    // Sum of key and value bytes, to bound batches.
    std::size_t size_bytes() const { return size_bytes_; }

private:
    std::vector<Op> ops_;
    std::size_t size_bytes_ = 0;
};

// Called for each key in a scan, in key order; return false to stop the scan.
using ScanVisitor = std::function<bool(std::string_view key, std::string_view value)>;

class Store {
public:
    virtual ~Store() = default;

    // Reads one key. Sets `out` to nullopt when absent. Errors: errc::store_error.
    virtual std::error_code get(std::string_view key, std::optional<std::string>& out) = 0;

    // Applies the batch atomically. With sync, returns only once the batch and every
    // earlier write are durable.
    virtual std::error_code write(const WriteBatch& batch, bool sync) = 0;

    // Makes every write so far durable.
    virtual std::error_code sync() = 0;

    // Visits keys in [begin, end) in ascending byte order; an empty `end` means no
    // upper bound. Sees every write made so far.
    virtual std::error_code scan(std::string_view begin, std::string_view end, const ScanVisitor& visit) = 0;
};

}  // namespace shoal::store
