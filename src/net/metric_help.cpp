// What each metric family /metrics exposes means: its HELP line. One table, so a
// family added anywhere without a line here shows up as undocumented (the promtool
// test on a live node fails on it).
#include "net/metrics.h"

#include <algorithm>
#include <array>
#include <string_view>
#include <utility>

namespace shoal::net {

namespace {

using Help = std::pair<std::string_view, std::string_view>;

// Sorted by name (a unit test checks it).
constexpr std::array k_help = {
    Help{"process_cpu_seconds_total", "User and system CPU time this node has used."},
    Help{"process_max_fds", "The node's limit on open file descriptors."},
    Help{"process_open_fds", "File descriptors the node has open."},
    Help{"process_resident_memory_bytes", "Resident memory of the node's process."},
    Help{"process_start_time_seconds", "When the node's process started, in seconds since the Unix epoch."},
    Help{"shoal_accept_failures_total", "Accepts that failed on the peer or client port (the listener pauses)."},
    Help{"shoal_actors_retired_total",
         "Times this node took a new actor id because a lost batch may have carried dots."},
    Help{"shoal_anti_entropy_aborted_by_peer_total", "Anti-entropy exchanges aborted, by the peer they were with."},
    Help{"shoal_anti_entropy_aborted_total", "Anti-entropy exchanges aborted (timeout or a peer gone)."},
    Help{"shoal_anti_entropy_bytes_sent_total", "State bytes sent by anti-entropy exchanges."},
    Help{"shoal_anti_entropy_exchanges_running", "Anti-entropy exchanges in flight now."},
    Help{"shoal_anti_entropy_exchanges_total", "Anti-entropy exchanges completed."},
    Help{"shoal_anti_entropy_keys_repaired_total", "Keys anti-entropy sent to a replica that differed."},
    Help{"shoal_bad_frames_total", "Connections closed for a malformed or refused frame."},
    Help{"shoal_build_info", "The build: version and source revision (value 1)."},
    Help{"shoal_client_connections_total", "Native client connections accepted."},
    Help{"shoal_commit_duration_seconds", "Time a batch of staged writes took to reach the disk."},
    Help{"shoal_commit_errors_total", "Batches whose commit failed."},
    Help{"shoal_commit_failed_replies_total", "Replies failed because the batch they rested on was not committed."},
    Help{"shoal_commit_staged_bytes", "Bytes of writes staged or being synced now."},
    Help{"shoal_commit_turns_total", "Turns whose writes were committed (several share a batch under load)."},
    Help{"shoal_commit_waiting_turns", "Turns whose output waits for a commit now."},
    Help{"shoal_commits_total", "Batches committed."},
    Help{"shoal_connections_open", "Inbound native client and peer connections open now, by kind."},
    Help{"shoal_connections_refused_total", "Connections closed at accept: over a connection limit."},
    Help{"shoal_connections_timed_out_total",
         "Connections closed for a missing hello, an unfinished frame, idleness or unread replies."},
    Help{"shoal_corrupt_reads_total", "Reads of a stored value that was damaged (checksum or store-reported)."},
    Help{"shoal_corrupt_values_replaced_total", "Damaged stored values replaced by a merge from the replicas."},
    Help{"shoal_gc_candidates", "Tombstoned keys waiting for garbage collection."},
    Help{"shoal_gossip_claim_changes_total", "Claim (partition ownership) changes this node computed."},
    Help{"shoal_gossip_full_views_sent_total", "Gossip messages that carried the whole cluster view."},
    Help{"shoal_gossip_hearsay_dropped_total",
         "Records of received views not taken because their sender may not write them (mostly relays)."},
    Help{"shoal_gossip_pulls_total", "Views asked of a member whose heartbeat showed this node behind it."},
    Help{"shoal_gossip_rejected_total", "Gossip messages refused as invalid."},
    Help{"shoal_gossip_rounds_total", "Gossip rounds this node started."},
    Help{"shoal_gossip_store_errors_total", "Failures to save the cluster view."},
    Help{"shoal_gossip_views_merged_total", "Views received that changed this node's view."},
    Help{"shoal_handoff_bytes_sent_total", "State bytes streamed to new owners of partitions."},
    Help{"shoal_handoff_keys_received_total", "Keys received by ownership handoff."},
    Help{"shoal_handoff_keys_sent_total", "Keys streamed to new owners of partitions."},
    Help{"shoal_handoff_refusals_total", "Handoff batches the destination refused."},
    Help{"shoal_handoff_retries_total", "Handoff batches sent again after a timeout or refusal."},
    Help{"shoal_handoff_streams_active", "Handoff streams in progress from this node."},
    Help{"shoal_handoffs_completed_total", "Handoff streams finished."},
    Help{"shoal_hint_bytes_pending", "Bytes of writes held as hints for down primaries."},
    Help{"shoal_hints_delivered_total", "Hinted writes delivered to their primary."},
    Help{"shoal_hints_dropped_total", "Writes refused because the hint store was full."},
    Help{"shoal_hints_pending", "Writes held as hints for down primaries."},
    Help{"shoal_hints_stored_total", "Writes stored as hints for down primaries."},
    Help{"shoal_http_connections_open", "HTTP connections open now."},
    Help{"shoal_http_connections_refused_total", "HTTP connections closed at accept: over max_http_connections."},
    Help{"shoal_http_forbidden_total", "HTTP requests refused with 401 or 403: the caller's role does not allow them."},
    Help{"shoal_http_responses_total", "HTTP responses sent, by status code."},
    Help{"shoal_http_tls_handshakes_refused_total", "HTTPS handshakes that failed."},
    Help{"shoal_inflight_requests", "Client requests in progress on this node."},
    Help{"shoal_keys_stored", "Keys with a stored state on this node (live, tombstoned or expired)."},
    Help{"shoal_late_leads_refused_total", "Puts a leader refused because they arrived after their apply-by time."},
    Help{"shoal_leader_failovers_total", "Puts whose leader was silent, so the next replica led."},
    Help{"shoal_log_lines_suppressed_total", "Log lines dropped by the per-kind rate limit."},
    Help{"shoal_members", "Cluster members by status, as this node sees them."},
    Help{"shoal_partitions_moving", "Partitions whose ownership is moving."},
    Help{"shoal_peer_frames_oversized_total", "Frames not sent to a peer because they passed the frame bound."},
    Help{"shoal_peer_link_progress_age_seconds", "Seconds since each peer link last made progress."},
    Help{"shoal_peer_link_reconnects_total", "Peer links closed and dialled again, by reason."},
    Help{"shoal_peer_messages_dropped_total", "Peer messages dropped (sender not a member, or a full queue)."},
    Help{"shoal_peer_messages_in_total", "Peer messages received."},
    Help{"shoal_peer_messages_out_total", "Peer messages sent."},
    Help{"shoal_quorum_failures_total", "Requests that failed for want of a quorum."},
    Help{"shoal_read_cache_hits_total", "Reads served by the in-memory cache of stored states."},
    Help{"shoal_read_cache_keys", "Keys in the read cache."},
    Help{"shoal_read_cache_misses_total", "Reads that went to LevelDB."},
    Help{"shoal_read_repairs_sent_total", "Merged states sent to replicas a read found stale or damaged."},
    Help{"shoal_read_retries_total", "Reads that asked the rest of their targets after read_retry_ms without a quorum."},
    Help{"shoal_read_siblings", "Live siblings returned per successful read."},
    Help{"shoal_replicate_delta_patch_bytes_total", "Bytes of the patches sent to replicas in place of values."},
    Help{"shoal_replicate_delta_value_bytes_total", "Bytes of the values those patches stood for."},
    Help{"shoal_replicate_deltas_refused_total", "Patches a replica could not apply to its copy, so it was sent the state."},
    Help{"shoal_replicate_deltas_sent_total", "Data-type writes sent to a replica as a patch of its copy instead of their state."},
    Help{"shoal_replicate_deltas_unanswered_total", "Replicas that asked for a state after the put's deadline; repair brings it."},
    Help{"shoal_request_duration_seconds", "Client request latency on this coordinator, by operation."},
    Help{"shoal_request_errors_total", "Failed client requests coordinated by this node, by error code."},
    Help{"shoal_requests_forbidden_total", "Native requests refused: the client's role does not allow them."},
    Help{"shoal_requests_total", "Client requests coordinated by this node, by operation and result."},
    Help{"shoal_scrub_mismatches_total", "Anti-entropy trees found to differ from the store when re-read."},
    Help{"shoal_states_refused_total", "Writes and merges refused because the state would pass its bound."},
    Help{"shoal_store_commit_errors_total", "Store commit failures by kind (full, corrupt, io)."},
    Help{"shoal_store_disk_bytes", "Bytes the data directory's files take (tables, logs, hints, metadata)."},
    Help{"shoal_store_errors_total", "Local store read or write errors."},
    Help{"shoal_store_failing", "1 while the local store refuses writes."},
    Help{"shoal_store_free_bytes", "Free bytes on the data directory's file system."},
    Help{"shoal_store_rebuilds_total", "Times this node's store was moved aside and rebuilt from its replicas."},
    Help{"shoal_store_reopens_total", "Times the local store was reopened after failing."},
    Help{"shoal_store_unusable", "1 once the store was judged unable to go on (corrupt after a reopen)."},
    Help{"shoal_tls_handshakes_refused_total",
         "Inbound TLS handshakes that failed or presented no certificate the port accepts, by port."},
    Help{"shoal_tombstones_reaped_total", "Tombstones removed by garbage collection."},
    Help{"shoal_writes_forwarded_total", "Writes forwarded to a partition's next owner during handoff."},
};

constexpr bool sorted_unique() {
    for (std::size_t i = 1; i < k_help.size(); ++i) {
        if (!(k_help[i - 1].first < k_help[i].first)) return false;
    }
    return true;
}
static_assert(sorted_unique(), "k_help must be sorted by name, each name once");

}  // namespace

std::string_view metric_help(std::string_view family) {
    const auto it = std::lower_bound(k_help.begin(), k_help.end(), family,
                                     [](const Help& h, std::string_view name) { return h.first < name; });
    return it != k_help.end() && it->first == family ? it->second : std::string_view{};
}

void render_family(std::string& out, std::string_view name, std::string_view type) {
    const std::string_view help = metric_help(name);
    out.append("# HELP ").append(name).append(" ").append(help.empty() ? "undocumented" : help).append("\n");
    out.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

}  // namespace shoal::net
