// Helpers shared by the store tests: one-line reads, writes and scans that REQUIRE
// success, and a Store wrapper that counts the calls reaching it.
#pragma once

#include <catch2/catch.hpp>

#include <stdlib.h>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "store/store.h"

namespace shoal::test {

using namespace shoal::store;

// A fresh directory under /tmp, removed with everything in it when destroyed.
class TempDir {
public:
    TempDir() {
        std::string pattern = "/tmp/shoal-store-test-XXXXXX";
        REQUIRE(::mkdtemp(pattern.data()) != nullptr);
        path_ = pattern;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    std::string path() const { return path_.string(); }

private:
    std::filesystem::path path_;
};

using Pairs = std::vector<std::pair<std::string, std::string>>;

inline std::optional<std::string> read(Store& s, std::string_view key) {
    std::optional<std::string> out = "sentinel";
    REQUIRE_FALSE(s.get(key, out));
    return out;
}

inline void put(Store& s, std::string_view key, std::string_view value, bool sync = false) {
    WriteBatch b;
    b.put(key, value);
    REQUIRE_FALSE(s.write(b, sync));
}

inline void del(Store& s, std::string_view key, bool sync = false) {
    WriteBatch b;
    b.del(key);
    REQUIRE_FALSE(s.write(b, sync));
}

inline Pairs scan_all(Store& s, std::string_view begin, std::string_view end, std::size_t limit = 1000) {
    Pairs out;
    auto ec = s.scan(begin, end, [&](std::string_view k, std::string_view v) {
        out.emplace_back(std::string(k), std::string(v));
        return out.size() < limit;
    });
    REQUIRE_FALSE(ec);
    return out;
}

// Counts the calls that reach the store it wraps.
class CountingStore final : public Store {
public:
    explicit CountingStore(Store& inner) : inner_(inner) {}
    std::error_code get(std::string_view key, std::optional<std::string>& out) override { return inner_.get(key, out); }
    std::error_code write(const WriteBatch& batch, bool sync) override {
        ++writes;
        last_write_synced = sync;
        last_write_ops = batch.ops().size();
        return inner_.write(batch, sync);
    }
    std::error_code sync() override {
        ++syncs;
        return inner_.sync();
    }
    std::error_code scan(std::string_view begin, std::string_view end, const ScanVisitor& visit) override {
        return inner_.scan(begin, end, visit);
    }

    int writes = 0;
    int syncs = 0;
    bool last_write_synced = false;
    std::size_t last_write_ops = 0;

private:
    Store& inner_;
};

}  // namespace shoal::test
