// The gossip-level simulator: many gossip::Gossiper instances (the real membership
// core) over a seeded simulated network with delays, reordering, drops, duplicates and
// partitions, simulated disks (MemStore) for crash and restart, and a stand-in for the
// node's ownership handoff (a transfer takes a few simulated seconds, then the source
// calls complete_handoff). Same seed, same run: the trace hash proves it.
//
// Entry: `shoal-sim gossip ...` (gossip_main), see --help.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace shoal::sim {

enum class GossipScenario {
    grow,             // 3 -> 6 nodes, joins through random seeds
    shrink,           // 6 -> 3 nodes, leaves (some on another node's command)
    replace,          // a node dies, is removed, a new node joins
    partition_join,   // joins on both sides of a network partition, then heal
    concurrent_join,  // 3 nodes join at the same instant through different seeds
    crash,            // a node crashes mid-handoff and restarts from its store
};
inline constexpr GossipScenario k_all_gossip_scenarios[] = {
    GossipScenario::grow,           GossipScenario::shrink,          GossipScenario::replace,
    GossipScenario::partition_join, GossipScenario::concurrent_join, GossipScenario::crash,
};

std::string_view gossip_scenario_name(GossipScenario s);

struct GossipRunResult {
    std::uint64_t seed = 0;
    GossipScenario scenario = GossipScenario::grow;
    std::uint64_t trace_hash = 0;
    std::uint64_t messages = 0;  // delivered
    std::uint64_t dropped = 0;
    // Gossip rounds from the last change (or heal, or restart) until every live node
    // held the same settled view; -1 when that never happened within the bound.
    int rounds_to_converge = -1;
    std::vector<std::string> violations;  // "checker: detail"
};

// Rounds after the last change within which the live nodes must agree and settle.
inline constexpr int k_converge_bound_rounds = 60;

GossipRunResult run_gossip_scenario(GossipScenario scenario, std::uint64_t seed);

struct SpreadResult {
    std::uint32_t nodes = 0;
    std::uint32_t runs = 0;
    double mean_rounds = 0;
    int max_rounds = 0;
};

// Rounds until a change made at one node of a settled `nodes`-node cluster is held by
// every node, averaged over `runs` seeds starting at `first_seed`; `drop` is the
// message-loss probability.
SpreadResult measure_spread(std::uint32_t nodes, std::uint64_t first_seed, std::uint32_t runs, double drop);

std::string gossip_replay_command(GossipScenario scenario, std::uint64_t seed);

// `shoal-sim gossip ...`: argv[0] is "gossip".
int gossip_main(int argc, char** argv);

}  // namespace shoal::sim
