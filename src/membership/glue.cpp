#include "membership/glue.h"

#include <utility>

namespace shoal::membership {

replica::HandoffPlan handoff_plan(const gossip::ClusterView& view, const ring::Ring& current, std::uint32_t n) {
    const std::vector<ring::Move> moves = gossip::moves(view);
    if (moves.empty() || !gossip::founded(view)) return {};
    return replica::plan_handoffs(current, *gossip::make_target_ring(view), moves, n);
}

SyncReport Glue::sync(Instant now, gossip::Gossiper& gossiper, replica::Node& node) {
    SyncReport report;
    if (options_.ownership_handoff) {
        for (const ring::Move& m : node.take_completed_handoffs())
            report.finished.push_back({m, gossiper.complete_handoff(now, m.slot, m.from, m.to)});
    } else {
        for (const ring::Move& m : gossiper.outgoing_moves())
            if (!m.done) report.finished.push_back({m, gossiper.complete_handoff(now, m.slot, m.from, m.to)});
    }
    if (gossiper.view_epoch() == epoch_) return report;
    epoch_ = gossiper.view_epoch();
    report.view_changed = true;
    install_namespaces(gossiper, node);
    auto ring = gossiper.ring();
    if (ring == nullptr) return report;
    joined_ = true;
    node.set_ring(ring);
    if (options_.ownership_handoff) node.set_handoffs(handoff_plan(gossiper.view(), *ring, node.config().n));
    report.ring_installed = true;
    return report;
}

void Glue::install_namespaces(const gossip::Gossiper& gossiper, replica::Node& node) const {
    Namespaces namespaces = gossip::namespaces_of(gossiper.view());
    for (const auto& [name, props] : options_.extra_namespaces) namespaces.try_emplace(name, props);
    node.set_namespaces(std::move(namespaces));
}

std::vector<NodeId> Glue::tick(Instant now, gossip::Gossiper& gossiper, health::Detector& detector) const {
    gossiper.tick(now);
    if (!joined_ || gossiper.stopped()) return {};
    return detector.newly_silent(now);
}

}  // namespace shoal::membership
