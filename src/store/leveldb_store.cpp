#include "store/leveldb_store.h"

#include <leveldb/cache.h>
#include <leveldb/db.h>
#include <leveldb/filter_policy.h>
#include <leveldb/iterator.h>
#include <leveldb/options.h>
#include <leveldb/write_batch.h>

#include "core/assert.h"
#include "store/leveldb_log_file.h"
#include "core/errc.h"

namespace shoal::store {

namespace {

constexpr int k_bloom_bits_per_key = 10;

std::error_code to_error(const leveldb::Status& status) {
    if (status.ok()) return {};
    if (status.IsCorruption()) return errc::corrupt;
    // LevelDB keeps errno only in the message (PosixError: strerror).
    if (status.IsIOError() && status.ToString().find("No space left on device") != std::string::npos)
        return errc::store_full;
    return errc::store_error;
}

leveldb::Slice to_slice(std::string_view s) {
    return {s.data(), s.size()};
}

std::string_view to_view(const leveldb::Slice& s) {
    return {s.data(), s.size()};
}

}  // namespace

// Declared in this order so the db closes before the cache and filter it uses go.
struct LevelStore::Impl {
    std::unique_ptr<leveldb::Cache> cache;
    std::unique_ptr<const leveldb::FilterPolicy> filter;
    std::unique_ptr<leveldb::Env> env;  // LevelDB's default, with preallocated logs
    std::unique_ptr<leveldb::DB> db;
    std::string dir;
    leveldb::Options options;
};

std::size_t staggered_write_buffer(std::size_t base, std::uint32_t node_id) {
    return base + base / 16 * (node_id % 8);
}

LevelStore::LevelStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

LevelStore::~LevelStore() = default;

std::unique_ptr<LevelStore> LevelStore::open(const std::string& dir, const LevelOptions& opts, std::error_code& ec) {
    auto impl = std::make_unique<Impl>();
    impl->cache.reset(leveldb::NewLRUCache(opts.block_cache_bytes));
    impl->filter.reset(leveldb::NewBloomFilterPolicy(k_bloom_bits_per_key));
    leveldb::Options options;
    options.create_if_missing = opts.create_if_missing;
    options.write_buffer_size = opts.write_buffer_bytes;
    options.block_cache = impl->cache.get();
    options.filter_policy = impl->filter.get();
    options.compression = opts.compress ? leveldb::kSnappyCompression : leveldb::kNoCompression;
    if (opts.log_step_bytes > 0) {
        impl->env = make_log_preallocating_env(leveldb::Env::Default(), opts.log_step_bytes);
        options.env = impl->env.get();
    }
    leveldb::DB* db = nullptr;
    ec = to_error(leveldb::DB::Open(options, dir, &db));
    if (ec) return nullptr;
    SHOAL_ASSERT(db != nullptr);
    impl->db.reset(db);
    impl->dir = dir;
    impl->options = options;
    return std::unique_ptr<LevelStore>(new LevelStore(std::move(impl)));
}

std::error_code LevelStore::reopen() {
    impl_->db.reset();  // releases the lock and the files; what was written stays on disk
    leveldb::DB* db = nullptr;
    if (std::error_code ec = to_error(leveldb::DB::Open(impl_->options, impl_->dir, &db))) return ec;
    impl_->db.reset(db);
    return {};
}

void LevelStore::close() {
    impl_->db.reset();
}

std::error_code LevelStore::repair(const std::string& dir, const LevelOptions& opts) {
    leveldb::Options options;
    options.compression = opts.compress ? leveldb::kSnappyCompression : leveldb::kNoCompression;
    return to_error(leveldb::RepairDB(dir, options));
}

std::error_code LevelStore::get(std::string_view key, std::optional<std::string>& out) {
    std::string value;
    if (!impl_->db) return errc::store_error;  // closed by a failed reopen
    leveldb::ReadOptions options;
    options.verify_checksums = true;  // a damaged block is a corrupt read, never garbage
    leveldb::Status status = impl_->db->Get(options, to_slice(key), &value);
    if (status.IsNotFound()) {
        out.reset();
        return {};
    }
    if (!status.ok()) return to_error(status);
    out = std::move(value);
    return {};
}

std::error_code LevelStore::write(const WriteBatch& batch, bool sync) {
    leveldb::WriteBatch level_batch;
    for (const WriteBatch::Op& op : batch.ops()) {
        if (op.is_delete) {
            level_batch.Delete(op.key);
        } else {
            level_batch.Put(op.key, op.value);
        }
    }
    leveldb::WriteOptions options;
    options.sync = sync;
    if (!impl_->db) return errc::store_error;
    return to_error(impl_->db->Write(options, &level_batch));
}

std::error_code LevelStore::sync() {
    leveldb::WriteBatch empty;
    leveldb::WriteOptions options;
    options.sync = true;
    if (!impl_->db) return errc::store_error;
    return to_error(impl_->db->Write(options, &empty));
}

std::error_code LevelStore::scan(std::string_view begin, std::string_view end, const ScanVisitor& visit) {
    leveldb::ReadOptions options;
    options.fill_cache = false;  // partition scans (handoff, rebuild) would evict hot blocks
    options.verify_checksums = true;
    if (!impl_->db) return errc::store_error;
    std::unique_ptr<leveldb::Iterator> it(impl_->db->NewIterator(options));
    for (it->Seek(to_slice(begin)); it->Valid(); it->Next()) {
        std::string_view key = to_view(it->key());
        if (!end.empty() && key >= end) break;
        if (!visit(key, to_view(it->value()))) break;
    }
    return to_error(it->status());
}

}  // namespace shoal::store
