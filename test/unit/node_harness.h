// A hand-driven cluster of replica Nodes for unit tests: in-memory stores, one
// message queue, links that can be cut. No simulator, no randomness.
#pragma once

#include <catch2/catch.hpp>

#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "replica/node.h"
#include "store/memory_store.h"

namespace shoal::test {

using namespace shoal::replica;

struct Cluster {
    struct Member {
        store::MemStore disk;
        std::unique_ptr<Node> node;
    };
    std::vector<std::unique_ptr<Member>> members;
    std::shared_ptr<const ring::Ring> ring;
    std::set<std::uint32_t> dead;  // node values that receive nothing and send nothing
    std::deque<std::pair<NodeId, Envelope>> wire;
    std::map<ClientToken, ClientReply> replies;
    Time now{1'000'000};

    explicit Cluster(std::uint32_t count, NodeConfig base = {}) : Cluster(count, base, balanced(count)) {}

    // `count` nodes, ids 1..count, all routing by `r` (which may leave some of them
    // owning nothing, like a node that is joining).
    Cluster(std::uint32_t count, NodeConfig base, std::shared_ptr<const ring::Ring> r) : ring(std::move(r)) {
        for (std::uint32_t i = 1; i <= count; ++i) {
            auto m = std::make_unique<Member>();
            NodeConfig c = base;
            c.id = NodeId{i};
            m->node = std::make_unique<Node>(c, m->disk, ring);
            members.push_back(std::move(m));
        }
    }
    static std::shared_ptr<const ring::Ring> balanced(std::uint32_t count) {
        std::vector<ring::Member> ms;
        for (std::uint32_t i = 1; i <= count; ++i) ms.push_back({NodeId{i}, "z" + std::to_string(i)});
        return std::make_shared<const ring::Ring>(64, ms, ring::compute_claim(64, ms, {}));
    }
    Node& node(std::uint32_t id) { return *members[id - 1]->node; }
    // A crash and restart: the node is rebuilt from its store with a new incarnation.
    void restart(std::uint32_t id) {
        Member& m = *members[id - 1];
        NodeConfig c = m.node->config();
        std::uint32_t inc = 0;
        REQUIRE(!bump_incarnation(m.disk, inc));
        c.incarnation = inc;
        auto r = m.node->ring();
        m.node.reset();
        m.node = std::make_unique<Node>(c, m.disk, r);
    }

    void collect(std::uint32_t id) {
        Outbox out;
        node(id).take_output(out);
        for (auto& e : out.messages) wire.emplace_back(NodeId{id}, std::move(e));
        for (auto& r : out.replies) replies[r.token] = std::move(r);
    }
    void pump() {
        while (!wire.empty()) {
            auto [from, env] = std::move(wire.front());
            wire.pop_front();
            if (dead.count(from.value) || dead.count(env.to.value)) continue;
            node(env.to.value).step(now, from, std::move(env.msg));
            collect(env.to.value);
        }
    }
    void advance(Duration d) {
        now = now + d;
        for (std::uint32_t i = 1; i <= members.size(); ++i) {
            if (dead.count(i)) continue;
            node(i).tick(now);
            collect(i);
        }
        pump();
    }
    ClientReply call(std::uint32_t via, ClientRequest req) {
        static ClientToken next = 1;
        const ClientToken token = next++;
        node(via).submit(now, token, std::move(req));
        collect(via);
        pump();
        for (int i = 0; i < 50 && !replies.count(token); ++i) advance(Duration::millis(100));
        REQUIRE(replies.count(token) == 1);
        return replies[token];
    }
    ClientReply put(std::uint32_t via, std::string key, std::string value, VersionVector ctx = {}) {
        ClientRequest r;
        r.op = ClientOp::put;
        r.key = std::move(key);
        r.value = std::move(value);
        r.context = std::move(ctx);
        return call(via, std::move(r));
    }
    ClientReply get(std::uint32_t via, std::string key, RequestOptions opts = {}) {
        ClientRequest r;
        r.op = ClientOp::get;
        r.key = std::move(key);
        r.options = opts;
        return call(via, std::move(r));
    }
};

inline std::set<std::string> values(const ClientReply& r) {
    std::set<std::string> out;
    for (const auto& s : r.siblings) out.insert(s.value);
    return out;
}

}  // namespace shoal::test
