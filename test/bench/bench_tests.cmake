# The bench smoke test: short runs of shoal-bench against local `shoal dev` clusters
# (own temp dir, base port 27100), checking the JSON summary and the fault accounting.
add_executable(bench_smoke_test ${PROJECT_SOURCE_DIR}/test/bench/bench_smoke_test.cpp)
target_link_libraries(bench_smoke_test PRIVATE shoal_client Boost::json Catch2::Catch2)
add_dependencies(bench_smoke_test shoal-bench shoald shoal)
add_test(NAME "bench: short runs against a local cluster, with a node killed"
         COMMAND bench_smoke_test $<TARGET_FILE:shoal-bench> $<TARGET_FILE:shoal>)
set_tests_properties("bench: short runs against a local cluster, with a node killed"
                     PROPERTIES TIMEOUT 300 RUN_SERIAL TRUE)
