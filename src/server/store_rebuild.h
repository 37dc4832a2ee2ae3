// What shoald does with a store that cannot go on (issue: corruption LevelDB cannot get
// past -- a compaction that meets a damaged block fails every write from then on, and
// a restart meets it again). The store is moved aside to DIR.damaged (replacing an
// older one), a fresh store takes its place holding only the node's metadata (its
// cluster view, incarnation, seeds), and the node starts again on it: a member with no
// data, which anti-entropy and read repair refill from the replicas, as after a wiped
// disk. Its hints (writes held for other nodes) are lost with the old store.
//
// Both paths keep the node's identity: at start (the store does not open: corrupt) the
// metadata is salvaged from a LevelDB repair of the copy moved aside; at run time it is
// read from the open store and the view in memory, and the process executes itself
// again (same PID, same arguments). The fresh store records the rebuild (count, time,
// reason), which /health and /metrics report.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

#include "gossip/view.h"
#include "net/store_health.h"
#include "store/leveldb_store.h"

namespace shoal::server {

// Opens the store in `dir`. When LevelDB finds it corrupt, moves it aside, salvages its
// metadata and opens a fresh one seeded with it; `rebuilt` then says so. Fails (nullptr,
// `ec` set, `err` saying why) when the salvaged copy holds no cluster view: the damaged
// store is put back and the operator decides.
std::unique_ptr<store::LevelStore> open_or_rebuild(const std::string& dir, const store::LevelOptions& opts,
                                                   std::error_code& ec, std::string& err);

// The rebuild record in `store` (count 0 when it was never rebuilt).
net::StoreRebuilt read_rebuilt(store::Store& store);

// A data directory belongs to the node id it was first started with (recorded then,
// synced; a rebuild carries it over with the other metadata). "" when `id` may use the
// store; else why not ("this data dir belongs to node 2").
std::string claim_node_id(store::Store& store, std::uint32_t id);

// The run-time path: closes `db`, moves it aside, seeds a fresh store with its metadata,
// `view` and an incarnation above `incarnation`, and executes this program again with
// `argv`. Returns only on failure (logged), with `db` closed.
void rebuild_and_restart(store::LevelStore& db, const std::string& dir, const store::LevelOptions& opts,
                         const gossip::ClusterView& view, std::uint32_t incarnation, std::error_code why, char** argv);

}  // namespace shoal::server
