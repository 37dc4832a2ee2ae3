// Shared by the integration tests: the `shoal` binary under test and a dev cluster
// in a temporary folder, started with `shoal dev up` and stopped (RAII) with
// `shoal dev down`. Set SHOAL_IT_KEEP=1 to keep the folder (logs) after a run.
#pragma once

#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "client/client.h"
#include "client/dev_cluster.h"
#include "client/dev_tls.h"
#include "client/http_get.h"

namespace shoal::it {

// The shoal CLI; main() sets it from argv[1].
inline std::string g_shoal = "shoal";

struct DevCluster {
    std::string dir;
    std::vector<client::DevNode> nodes;

    DevCluster(int count, int base_port) {
        dir = (std::filesystem::temp_directory_path() /
               ("shoal-it-" + std::to_string(::getpid()) + "-" + std::to_string(base_port)))
                  .string();
        std::filesystem::remove_all(dir);
        std::filesystem::create_directories(dir);
        REQUIRE(run("dev up " + std::to_string(count) + " --base-port " + std::to_string(base_port)) == 0);
        reload();
        REQUIRE(nodes.size() == static_cast<std::size_t>(count));
        // The cluster runs with TLS (dev up's default): HTTP helpers use its CA and admin.
        client::set_http_tls(client::dev_client_tls(dir));
    }
    ~DevCluster() {
        run("dev down");
        if (std::getenv("SHOAL_IT_KEEP") == nullptr) std::filesystem::remove_all(dir);
    }
    DevCluster(const DevCluster&) = delete;
    DevCluster& operator=(const DevCluster&) = delete;

    // Runs `shoal --dir DIR ARGS`; its output goes to DIR/cli.log. Returns the exit code.
    int run(const std::string& args) const {
        const std::string cmd = g_shoal + " --dir " + dir + " " + args + " >>" + dir + "/cli.log 2>&1";
        const int status = std::system(cmd.c_str());
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    // Runs `shoal --dir DIR ARGS` and returns what it printed on standard output.
    std::string output(const std::string& args) const {
        std::string out;
        FILE* p = ::popen((g_shoal + " --dir " + dir + " " + args + " 2>>" + dir + "/cli.log").c_str(), "r");
        if (p == nullptr) return out;
        char buf[4096];
        for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
        ::pclose(p);
        return out;
    }
    // Re-reads DIR/nodes (after `dev add`).
    void reload() { nodes = client::dev_nodes(dir); }
    const client::DevNode& node(int id) const {
        for (const auto& n : nodes) {
            if (n.id == id) return n;
        }
        FAIL("no dev node " << id);
        return nodes.front();
    }
    std::vector<std::string> clients() const {
        std::vector<std::string> out;
        for (const auto& n : nodes) out.push_back(n.client);
        return out;
    }
    client::Options options(std::vector<std::string> only = {}) const {
        client::Options o;
        o.nodes = only.empty() ? clients() : only;
        o.request_timeout = Duration::seconds(6);
        o.tls = client::dev_client_tls(dir);
        return o;
    }
};

}  // namespace shoal::it
