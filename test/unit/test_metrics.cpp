// /metrics text: every family has HELP text from the one table (net/metric_help.cpp)
// and a TYPE; the process families read something real.
#include <catch2/catch.hpp>

#include <sstream>
#include <string>

#include "net/metrics.h"

namespace shoal::test {

namespace {

// Each "# TYPE name" line must follow "# HELP name <documented text>".
void check_families(const std::string& text) {
    std::istringstream in(text);
    std::string line, previous;
    int families = 0;
    while (std::getline(in, line)) {
        if (line.rfind("# TYPE ", 0) == 0) {
            const std::string name = line.substr(7, line.find(' ', 7) - 7);
            INFO(name);
            CHECK(previous.rfind("# HELP " + name + " ", 0) == 0);
            CHECK(previous.find("undocumented") == std::string::npos);
            ++families;
        }
        previous = line;
    }
    CHECK(families > 0);
}

}  // namespace

TEST_CASE("metrics: the shell's and the process's families all carry HELP text", "[metrics]") {
    std::string out;
    net::render_shell_metrics(net::Metrics{}, "batch", out);
    net::render_process_metrics(out);
    check_families(out);
    CHECK(out.find("shoal_build_info{version=\"") != std::string::npos);
    CHECK(out.find("process_open_fds ") != std::string::npos);
    CHECK(out.find("process_resident_memory_bytes 0.000000") == std::string::npos);
}

TEST_CASE("metrics: a family missing from the table is rendered as undocumented", "[metrics]") {
    CHECK(net::metric_help("shoal_requests_total").size() > 10);
    CHECK(net::metric_help("shoal_no_such_family").empty());
    std::string out;
    net::render_family(out, "shoal_no_such_family", "counter");
    CHECK(out == "# HELP shoal_no_such_family undocumented\n# TYPE shoal_no_such_family counter\n");
}

}  // namespace shoal::test

namespace shoal::test {

TEST_CASE("metrics: siblings per read, errors by code and open connections are rendered", "[metrics]") {
    net::Metrics m;
    for (std::uint64_t n : {1, 1, 2, 5, 100}) m.read_siblings.record(n);
    m.errors_by_code[static_cast<int>(errc::quorum_not_met)] = 3;
    m.open_client_connections = 7;
    std::string out;
    net::render_shell_metrics(m, "batch", out);
    CHECK(out.find("shoal_read_siblings_bucket{le=\"1\"} 2\n") != std::string::npos);
    CHECK(out.find("shoal_read_siblings_bucket{le=\"2\"} 3\n") != std::string::npos);
    CHECK(out.find("shoal_read_siblings_bucket{le=\"8\"} 4\n") != std::string::npos);
    CHECK(out.find("shoal_read_siblings_bucket{le=\"64\"} 4\n") != std::string::npos);
    CHECK(out.find("shoal_read_siblings_bucket{le=\"+Inf\"} 5\n") != std::string::npos);
    CHECK(out.find("shoal_read_siblings_sum 109\n") != std::string::npos);
    CHECK(out.find("shoal_read_siblings_count 5\n") != std::string::npos);
    CHECK(out.find("shoal_request_errors_total{code=\"quorum_not_met\"} 3\n") != std::string::npos);
    CHECK(out.find("shoal_request_errors_total{code=\"no_namespace\"} 0\n") != std::string::npos);
    CHECK(out.find("code=\"not_found\"") == std::string::npos);  // a normal outcome, not an error
    CHECK(out.find("shoal_connections_open{kind=\"client\"} 7\n") != std::string::npos);
    check_families(out);
}

}  // namespace shoal::test
