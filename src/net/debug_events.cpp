#include "net/debug_events.h"

#include <cstdio>
#include <string>

#include "core/hash.h"
#include "net/log.h"
#include "replica/namespaces.h"

namespace shoal::net {

namespace {

// "ns=carts key_hash=9f2c01d4e5a6b7c8": enough to follow one key through the log.
std::string key_fields(std::string_view key) {
    char hash[24];
    std::snprintf(hash, sizeof hash, "%016llx", static_cast<unsigned long long>(hash_key(key)));
    return "ns=" + std::string(replica::namespace_of(key)) + " key_hash=" + hash;
}

const char* op_name(replica::ClientOp op) {
    switch (op) {
        case replica::ClientOp::get: return "get";
        case replica::ClientOp::put: return "put";
        case replica::ClientOp::del: return "del";
        case replica::ClientOp::list: return "list";
    }
    return "?";
}

}  // namespace

void DebugEvents::routed(std::string_view key, replica::ClientOp op, const std::vector<NodeId>& targets,
                         std::size_t fallbacks, NodeId leader) {
    if (!log::enabled(log::Level::debug)) return;
    std::string list;
    for (NodeId n : targets) list += (list.empty() ? "" : ",") + std::to_string(n.value);
    std::string fields = std::string("op=") + op_name(op) + " " + key_fields(key) + " targets=" + list +
                         " fallbacks=" + std::to_string(fallbacks);
    if (leader.valid()) fields += " leader=" + std::to_string(leader.value);
    log::debug("request routed", fields);
}

void DebugEvents::leader_failover(std::string_view key, NodeId from, NodeId to) {
    if (!log::enabled(log::Level::debug)) return;
    log::debug("leader failover",
               key_fields(key) + " silent=" + std::to_string(from.value) + " next=" + std::to_string(to.value));
}

void DebugEvents::read_repair(std::string_view key, NodeId to) {
    if (!log::enabled(log::Level::debug)) return;
    log::debug("read repair", key_fields(key) + " to=" + std::to_string(to.value));
}

void DebugEvents::exchange_finished(NodeId peer, PartitionId p, bool complete) {
    if (!log::enabled(log::Level::debug)) return;
    log::debug("anti-entropy exchange", "peer=" + std::to_string(peer.value) + " partition=" + std::to_string(p.value) +
                                            " outcome=" + (complete ? "complete" : "aborted"));
}

void DebugEvents::hints_delivered(NodeId target, std::size_t count) {
    if (!log::enabled(log::Level::debug)) return;
    log::debug("hints delivered", "target=" + std::to_string(target.value) + " count=" + std::to_string(count));
}

}  // namespace shoal::net
