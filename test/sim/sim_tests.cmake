# Simulator sweeps, run by ctest. Every seed is replayable: a failure prints the
# one command that replays it.
add_test(NAME "sim: sweep 200 seeds, all fault kinds (dvv)"
         COMMAND shoal-sim --seeds 1-200)
set_tests_properties("sim: sweep 200 seeds, all fault kinds (dvv)" PROPERTIES TIMEOUT 600)

# The teeth: last-writer-wins must lose acknowledged cart adds on the same workload.
add_test(NAME "sim: lww loses acknowledged adds"
         COMMAND shoal-sim --seeds 1-50 --conflict lww --determinism 0)
set_tests_properties("sim: lww loses acknowledged adds" PROPERTIES
  PASS_REGULAR_EXPRESSION "lost_acked=[1-9][0-9]* " TIMEOUT 300)

# Reads that ask every replica at once (read_fanout = all), the other way shoald can run.
add_test(NAME "sim: read fanout all, 100 seeds"
         COMMAND shoal-sim --seeds 1-100 --read-fanout all --determinism 0)
set_tests_properties("sim: read fanout all, 100 seeds" PROPERTIES TIMEOUT 300)

add_test(NAME "sim: minority outage keeps writes available"
         COMMAND shoal-sim --seeds 1-40 --scenario minority --determinism 0)
set_tests_properties("sim: minority outage keeps writes available" PROPERTIES TIMEOUT 300)

add_test(NAME "sim: sync=always sweep"
         COMMAND shoal-sim --seeds 1000-1040 --sync always --determinism 0)
set_tests_properties("sim: sync=always sweep" PROPERTIES TIMEOUT 300)

# Repair (hinted handoff, anti-entropy, tombstone GC): 200 seeds cycling through
# the five repair scenarios; after healing, every key's primaries must agree, no
# deleted key may be live anywhere, and every hint must be delivered.
add_test(NAME "sim: repair scenarios, 200 seeds"
         COMMAND shoal-sim --seeds 1-200 --scenario repair)
set_tests_properties("sim: repair scenarios, 200 seeds" PROPERTIES TIMEOUT 600)

# The teeth: with hinted handoff and anti-entropy off, the same seeds fail to converge.
add_test(NAME "sim: repair off fails to converge"
         COMMAND shoal-sim --seeds 1-40 --scenario repair --repair off --determinism 0)
set_tests_properties("sim: repair off fails to converge" PROPERTIES
  PASS_REGULAR_EXPRESSION "repair +convergence=[1-9][0-9]* " TIMEOUT 300)

# Membership with data (src/sim/membership.cpp): every node runs a gossiper beside
# its replica Node; 200 seeds cycle through grow, shrink, replace, crash-handoff,
# partition-join and concurrent-join while the workload runs. At the end the live
# members agree on one settled view, every partition has N distinct valid primaries,
# every final primary holds every acknowledged add, and the checkers above hold.
# About 15 s; sweep more by hand: shoal-sim --scenario membership --seeds 1-1000
add_test(NAME "sim: membership scenarios, 200 seeds"
         COMMAND shoal-sim --seeds 1-200 --scenario membership)
set_tests_properties("sim: membership scenarios, 200 seeds" PROPERTIES TIMEOUT 300 LABELS membership)

# The teeth: with handoff off (moves reported done without streaming, anti-entropy
# off) new owners miss acknowledged adds on the same seeds that pass with it on.
add_test(NAME "sim: membership with handoff off fails owner-holds"
         COMMAND shoal-sim --seeds 1-24 --scenario grow --handoff off --determinism 0)
set_tests_properties("sim: membership with handoff off fails owner-holds" PROPERTIES
  PASS_REGULAR_EXPRESSION "owner-holds=[1-9][0-9]* " TIMEOUT 120 LABELS membership)

# Data types (src/sim/datatypes_sim.cpp): sets and counters on half of the odd keys,
# under every fault kind; no acknowledged add may be missing from a set unless a
# remove had seen it, no counter may count fewer than its acknowledged increments.
# About 20 s; sweep more by hand: shoal-sim --datatypes --seeds 1-1000
add_test(NAME "sim: data types, 200 seeds"
         COMMAND shoal-sim --seeds 1-200 --datatypes)
set_tests_properties("sim: data types, 200 seeds" PROPERTIES TIMEOUT 300)

# The teeth: the same sets kept last-writer-wins lose concurrent adds.
add_test(NAME "sim: data types under lww lose adds"
         COMMAND shoal-sim --seeds 1-30 --datatypes --conflict lww --determinism 0)
set_tests_properties("sim: data types under lww lose adds" PROPERTIES
  PASS_REGULAR_EXPRESSION "dt-lost-add=[1-9][0-9]* " TIMEOUT 120)

# Two clocks (core/types.h): wall-clock steps of up to 30 s on random nodes and no
# other fault; deadlines, liveness and intervals run on each node's monotonic clock,
# so no request may fail.
add_test(NAME "sim: wall-clock jumps fail no request, 200 seeds"
         COMMAND shoal-sim --seeds 1-200 --scenario clock)
set_tests_properties("sim: wall-clock jumps fail no request, 200 seeds" PROPERTIES TIMEOUT 300)

# The teeth: nodes that time deadlines by their one clock fail requests on the same seeds.
add_test(NAME "sim: one clock for everything fails requests when it jumps"
         COMMAND shoal-sim --seeds 1-40 --scenario clock --one-clock --determinism 0)
set_tests_properties("sim: one clock for everything fails requests when it jumps" PROPERTIES
  PASS_REGULAR_EXPRESSION "writes, [1-9][0-9]* failed requests" TIMEOUT 120)
