#include "server/store_rebuild.h"

#include <unistd.h>

#include <chrono>
#include <optional>
#include <filesystem>
#include <utility>
#include <vector>

#include "core/errc.h"
#include "net/log.h"
#include "replica/node.h"
#include "store/keys.h"

namespace shoal::server {

namespace {

namespace fs = std::filesystem;

// Metadata is a few small records (the view, the incarnation, seeds, handoff
// positions); anything past this is not metadata worth carrying.
constexpr std::size_t k_max_meta_bytes = 64u << 20;
constexpr std::string_view k_rebuilt_record = "store.rebuilt";

using Meta = std::vector<std::pair<std::string, std::string>>;

std::error_code read_meta(store::Store& s, Meta& out) {
    const std::string begin = store::meta_key("");
    std::string end = begin;
    ++end.back();
    std::size_t bytes = 0;
    return s.scan(begin, end, [&](std::string_view k, std::string_view v) {
        bytes += k.size() + v.size();
        if (bytes > k_max_meta_bytes) return false;
        out.emplace_back(std::string(k), std::string(v));
        return true;
    });
}

std::string encode_rebuilt(const net::StoreRebuilt& r) {
    return std::to_string(r.count) + " " + std::to_string(r.at_unix_s) + " " + r.reason;
}

// Replaces an older copy, then renames `dir` to DIR.damaged.
std::error_code move_aside(const std::string& dir, std::string& aside) {
    aside = dir + ".damaged";
    std::error_code ec;
    fs::remove_all(aside, ec);
    if (!ec) fs::rename(dir, aside, ec);
    return ec;
}

// Opens a fresh store in `dir` and writes the carried metadata, `view` (when given), an
// incarnation above `incarnation` and the rebuild record, synced.
std::unique_ptr<store::LevelStore> seed_fresh(const std::string& dir, const store::LevelOptions& opts, const Meta& meta,
                                              const gossip::ClusterView* view, std::uint32_t incarnation,
                                              std::string_view reason, std::error_code& ec) {
    auto fresh = store::LevelStore::open(dir, opts, ec);
    if (!fresh) return nullptr;
    net::StoreRebuilt rebuilt;
    store::WriteBatch batch;
    for (const auto& [k, v] : meta) batch.put(k, v);
    if ((ec = fresh->write(batch, true))) return nullptr;
    rebuilt = read_rebuilt(*fresh);
    ++rebuilt.count;
    rebuilt.at_unix_s = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count());
    rebuilt.reason = std::string(reason);
    store::WriteBatch record;
    record.put(store::meta_key(k_rebuilt_record), encode_rebuilt(rebuilt));
    if ((ec = fresh->write(record, true))) return nullptr;
    if (view && (ec = gossip::save_view(*fresh, *view, true))) return nullptr;
    std::uint32_t next = 0;
    if ((ec = replica::bump_incarnation(*fresh, next, incarnation + 1))) return nullptr;
    return fresh;
}

}  // namespace

std::string claim_node_id(store::Store& store, std::uint32_t id) {
    const std::string key = store::meta_key("node.id");
    std::optional<std::string> saved;
    if (auto ec = store.get(key, saved)) return "cannot read the data dir's node id: " + ec.message();
    const std::string mine = std::to_string(id);
    if (saved && *saved != mine)
        return "this data dir belongs to node " + *saved + ", not node " + mine + ": start it with --id " + *saved +
               ", or give node " + mine + " a data dir of its own";
    if (saved) return "";
    store::WriteBatch batch;
    batch.put(key, mine);
    if (auto ec = store.write(batch, true)) return "cannot record the data dir's node id: " + ec.message();
    return "";
}

net::StoreRebuilt read_rebuilt(store::Store& s) {
    net::StoreRebuilt r;
    std::optional<std::string> bytes;
    if (s.get(store::meta_key(k_rebuilt_record), bytes) || !bytes) return r;
    const std::string& b = *bytes;
    const auto sp1 = b.find(' ');
    const auto sp2 = sp1 == std::string::npos ? sp1 : b.find(' ', sp1 + 1);
    if (sp2 == std::string::npos) return r;
    try {
        r.count = std::stoull(b.substr(0, sp1));
        r.at_unix_s = std::stoull(b.substr(sp1 + 1, sp2 - sp1 - 1));
    } catch (...) {
        return {};
    }
    r.reason = b.substr(sp2 + 1);
    return r;
}

std::unique_ptr<store::LevelStore> open_or_rebuild(const std::string& dir, const store::LevelOptions& opts,
                                                   std::error_code& ec, std::string& err) {
    auto db = store::LevelStore::open(dir, opts, ec);
    if (db || ec != errc::corrupt) {
        if (!db) err = "cannot open the store in '" + dir + "': " + ec.message();
        return db;
    }
    log::error("store cannot be opened: corrupt; moving it aside to salvage its metadata", "dir=" + log::quoted(dir));
    std::string aside;
    if ((ec = move_aside(dir, aside))) {
        err = "the store in '" + dir + "' is corrupt and cannot be moved aside: " + ec.message();
        return nullptr;
    }
    Meta meta;
    std::optional<gossip::ClusterView> view;
    if (!store::LevelStore::repair(aside, opts)) {
        std::error_code open_ec;
        if (auto old = store::LevelStore::open(aside, opts, open_ec)) {
            (void)read_meta(*old, meta);
            (void)gossip::load_view(*old, view);
        }
    }
    if (!view || view->members.empty()) {
        std::error_code back;
        fs::rename(aside, dir, back);
        ec = errc::corrupt;
        err = "the store in '" + dir + "' is corrupt and its cluster view could not be salvaged" +
              (back ? " (it is left in '" + aside + "')" : std::string()) +
              "; restore the data dir from a backup, or remove the node from the cluster and start it empty";
        return nullptr;
    }
    auto fresh = seed_fresh(dir, opts, meta, nullptr, 0, "corrupt at start", ec);
    if (!fresh) {
        err = "cannot create a fresh store in '" + dir + "': " + ec.message();
        return nullptr;
    }
    log::error("store rebuilt: the damaged one is kept aside; anti-entropy refills this node from its replicas",
               "aside=" + log::quoted(aside) + " metadata_records=" + std::to_string(meta.size()));
    return fresh;
}

void rebuild_and_restart(store::LevelStore& db, const std::string& dir, const store::LevelOptions& opts,
                         const gossip::ClusterView& view, std::uint32_t incarnation, std::error_code why, char** argv) {
    Meta meta;
    if (auto ec = read_meta(db, meta))
        log::warn("store metadata only partly readable; the view in memory is kept",
                  "error=" + log::quoted(ec.message()));
    db.close();
    std::string aside;
    std::error_code ec = move_aside(dir, aside);
    if (ec) {
        log::error("cannot move the unusable store aside",
                   "dir=" + log::quoted(dir) + " error=" + log::quoted(ec.message()));
        return;
    }
    auto fresh = seed_fresh(dir, opts, meta, &view, incarnation, "corrupt: " + why.message(), ec);
    if (!fresh) {
        log::error("cannot create a fresh store", "dir=" + log::quoted(dir) + " error=" + log::quoted(ec.message()));
        return;
    }
    fresh.reset();
    log::error("store rebuilt: the damaged one is kept aside; starting again on the fresh one",
               "aside=" + log::quoted(aside) + " metadata_records=" + std::to_string(meta.size()));
    // Every descriptor but the standard three goes: listeners, links, LevelDB's files,
    // the data dir's lock (the new image takes them all again).
    ::close_range(3, ~0U, 0);
    ::execv("/proc/self/exe", argv);
    _exit(70);  // EX_SOFTWARE: nothing left to serve with
}

}  // namespace shoal::server
