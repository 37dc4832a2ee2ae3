// `shoal dev ...`: a local cluster of shoald processes under one folder
// (default ./.shoal-dev): per node a config file, a data dir, a log and a pid file,
// plus `nodes`, one line per node: ID PEER CLIENT HTTP.
#pragma once

#include <string>
#include <vector>

namespace shoal::client {

struct DevNode {
    int id = 0;
    std::string peer, client, http;
};

// Reads DIR/nodes; empty when there is no cluster there.
std::vector<DevNode> dev_nodes(const std::string& dir);

// Runs a `dev` subcommand (args after "dev"); returns the exit code.
int dev_command(const std::vector<std::string>& args, const std::string& dir, const std::string& self_exe);

}  // namespace shoal::client
