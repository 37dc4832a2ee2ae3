# Membership simulator (src/sim/gossip_sim.cpp) run by ctest. Each run prints the
# command that replays a failing seed. 240 seeds x scenarios here; sweep 1000 by hand:
#   shoal-sim gossip --seeds 1-1000
add_test(NAME "gossip-sim: all scenarios, seeds 1-200"
         COMMAND shoal-sim gossip --seeds 1-200 --scenario all)
set_tests_properties("gossip-sim: all scenarios, seeds 1-200" PROPERTIES TIMEOUT 300)

add_test(NAME "gossip-sim: partition-join, seeds 5000-5039"
         COMMAND shoal-sim gossip --seeds 5000-5039 --scenario partition-join --determinism 1)
set_tests_properties("gossip-sim: partition-join, seeds 5000-5039" PROPERTIES TIMEOUT 120)

# Rounds to full spread for 4/16/64/256 nodes; fails unless it grows like log2(n).
add_test(NAME "gossip-sim: spread rounds for 4/16/64/256 nodes"
         COMMAND shoal-sim gossip --spread --spread-runs 3 --drop 0.02)
set_tests_properties("gossip-sim: spread rounds for 4/16/64/256 nodes" PROPERTIES TIMEOUT 300)
