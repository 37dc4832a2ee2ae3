// `shoal dev ...`: a local cluster of shoald processes under one folder
// (default ./.shoal-dev): per node a config file, a data dir, a log and a pid file,
// plus `nodes`, one line per node: ID PEER CLIENT HTTP.
//
// `dev up N` founds the cluster on node 1 and starts nodes 2..N with node 1 as their
// seed; `dev add` starts one more node, joined through every existing node (or
// standalone, a one-node cluster of its own for `shoal cluster join`).
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace shoal::client {

struct DevNode {
    int id = 0;
    std::string peer, client, http;
};

// A dev node's Redis-protocol address: the port after its HTTP port.
std::string resp_address(const DevNode& n);

// Reads DIR/nodes; empty when there is no cluster there.
std::vector<DevNode> dev_nodes(const std::string& dir);

// The node named "4" or "n4" in `nodes`, or nullptr.
const DevNode* find_dev_node(const std::vector<DevNode>& nodes, const std::string& name);

// Polls the nodes at `http` (HTTP addresses) until the cluster has settled, printing
// progress; true once settled, false after timeout_s. With require_all, every
// address must answer. The CLI supplies it: the /cluster JSON is parsed there.
using WaitSettled = std::function<bool(const std::vector<std::string>& http, bool require_all, int timeout_s)>;

// Runs a `dev` subcommand (args after "dev"); returns the exit code.
int dev_command(const std::vector<std::string>& args, const std::string& dir, const std::string& self_exe,
                const WaitSettled& wait_settled);

}  // namespace shoal::client
