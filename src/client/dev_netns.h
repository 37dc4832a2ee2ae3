// `shoal dev up N --netns`: each node of a dev cluster in a Linux network namespace
// of its own, with an address of its own, all joined by a bridge in a hub namespace;
// and the network faults a chaos test wants on top (partitions, one-way cuts, bridges,
// delay and loss). Everything lives inside namespaces this tool creates and deletes:
// nothing is added to the host's own network. The CLI and the bench reach the nodes
// from a client namespace on the same bridge, which they enter by themselves (setns);
// `shoal dev exec -- CMD` runs any other command there (curl, redis-cli).
//
// Needs root (CAP_SYS_ADMIN, CAP_NET_ADMIN) and the `ip`, `iptables` and `tc` tools.
#pragma once

#include <string>
#include <vector>

namespace shoal::client::netns {

// Where a netns dev cluster keeps its namespace tag (absent: a loopback cluster).
std::string tag_of(const std::string& dir);

// "" when namespaces can be made here, else why not (not root, no `ip`).
std::string unavailable();

// Creates the hub (with its bridge) and the client namespace for a cluster tagged
// `tag`, and records the tag in `dir`. "" or the error.
std::string create(const std::string& dir, const std::string& tag);
// Adds node `id`'s namespace, with its address on the bridge.
std::string add_node(const std::string& tag, int id);
// Deletes every namespace of the cluster (their links and rules go with them).
void destroy(const std::string& dir, const std::string& tag, int max_id);

std::string node_namespace(const std::string& tag, int id);
std::string node_address(int id);  // 10.78.0.ID

// Moves this process into the client namespace of the cluster in `dir` (a no-op for a
// loopback cluster). "" or why not.
std::string enter_client(const std::string& dir);

// The argv that starts `program args...` inside node `id`'s namespace (`ip netns
// exec`, which execs in place: the pid stays the program's).
std::vector<std::string> in_node(const std::string& tag, int id, std::vector<std::string> program);

// Network faults, each undone by heal(). `from` and `to` are node ids.
// partition: traffic between every node of `from` and every node of `to` is dropped
// (one_way: only what `from` sends to `to`).
std::string partition(const std::string& tag, const std::vector<int>& from, const std::vector<int>& to, bool one_way);
// netem on node `id`'s link: "delay=20ms jitter=5ms loss=5%" (each optional).
std::string netem(const std::string& tag, int id, const std::vector<std::string>& spec);
std::string heal(const std::string& tag, const std::vector<int>& ids);

// `dev exec -- CMD...`: runs CMD in the client namespace; its exit code.
int exec_in_client(const std::string& dir, const std::vector<std::string>& cmd);

}  // namespace shoal::client::netns

namespace shoal::client {
struct DevNode;
// dev partition A / B [--one-way] | bridge N A,B | heal | netem N delay=.. jitter=.. loss=..
// on the netns cluster `tag` (empty: not one; said, exit 1). Returns the exit code.
int dev_network_fault(const std::string& tag, const std::vector<DevNode>& nodes, const std::vector<std::string>& args);
}  // namespace shoal::client
