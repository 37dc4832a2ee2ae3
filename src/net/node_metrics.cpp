#include "net/node_metrics.h"

#include "net/metrics.h"

namespace shoal::net {

void render_node_metrics(const replica::Node& node, std::string& out) {
    const auto& s = node.stats();
    const auto counter = [&](const char* name, std::uint64_t v) { render_counter(out, name, v); };
    const auto gauge = [&](const char* name, std::uint64_t v) { render_gauge(out, name, v); };
    counter("shoal_quorum_failures_total", s.quorum_failures);
    counter("shoal_read_repairs_sent_total", s.read_repairs_sent);
    counter("shoal_hints_stored_total", s.hints_stored);
    counter("shoal_leader_failovers_total", s.leader_failovers);
    counter("shoal_read_retries_total", s.read_retries);
    counter("shoal_store_errors_total", s.store_errors);
    counter("shoal_corrupt_reads_total", s.corrupt_reads);
    counter("shoal_states_refused_total", s.states_refused);
    counter("shoal_late_leads_refused_total", s.late_leads_refused);
    counter("shoal_replicate_deltas_sent_total", s.deltas_sent);
    counter("shoal_replicate_deltas_refused_total", s.deltas_refused);
    counter("shoal_replicate_deltas_unanswered_total", s.deltas_unanswered);
    counter("shoal_replicate_delta_patch_bytes_total", s.delta_patch_bytes);
    counter("shoal_replicate_delta_value_bytes_total", s.delta_value_bytes);
    counter("shoal_hints_delivered_total", s.hints_delivered);
    counter("shoal_hints_dropped_total", s.hints_dropped);
    counter("shoal_anti_entropy_exchanges_total", s.ae_exchanges);
    counter("shoal_anti_entropy_aborted_total", s.ae_aborted);
    counter("shoal_anti_entropy_keys_repaired_total", s.ae_keys_repaired);
    counter("shoal_anti_entropy_bytes_sent_total", s.ae_bytes_sent);
    counter("shoal_corrupt_values_replaced_total", s.corrupt_repaired);
    counter("shoal_scrub_mismatches_total", s.scrub_mismatches);
    counter("shoal_tombstones_reaped_total", s.tombstones_reaped);
    counter("shoal_actors_retired_total", s.actors_retired);
    counter("shoal_handoff_keys_sent_total", s.handoff_keys_sent);
    counter("shoal_handoff_bytes_sent_total", s.handoff_bytes_sent);
    counter("shoal_handoff_keys_received_total", s.handoff_keys_received);
    counter("shoal_handoff_retries_total", s.handoff_retries);
    counter("shoal_handoff_refusals_total", s.handoff_refusals);
    counter("shoal_handoffs_completed_total", s.handoffs_completed);
    counter("shoal_writes_forwarded_total", s.writes_forwarded);
    gauge("shoal_hints_pending", s.hints_pending);
    gauge("shoal_keys_stored", s.keys_stored);
    gauge("shoal_hint_bytes_pending", s.hint_bytes_pending);
    gauge("shoal_gc_candidates", s.gc_candidates);
    const auto x = node.exchange();
    gauge("shoal_anti_entropy_exchanges_running", x.running);
    render_family(out, "shoal_anti_entropy_aborted_by_peer_total", "counter");
    for (const auto& [peer, n] : node.ae_aborted_by_peer()) {
        out += "shoal_anti_entropy_aborted_by_peer_total{peer=\"" + std::to_string(peer.value) + "\"} " +
               std::to_string(n) + "\n";
    }
}

}  // namespace shoal::net
