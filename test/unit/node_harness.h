// A hand-driven cluster of replica Nodes for unit tests: in-memory stores, one
// message queue, links that can be cut. No simulator, no randomness. Each node's
// turns go through the turn driver shoald runs, with a commit that finishes at once.
#pragma once

#include <catch2/catch.hpp>

#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "replica/node.h"
#include "store/buffered_store.h"
#include "store/memory_store.h"
#include "turn/driver.h"

namespace shoal::test {

using namespace shoal::replica;

struct Cluster {
    struct Member;
    // A member's released output goes on the cluster's wire and into its replies; its
    // batches are written to its disk at once.
    struct Io final : turn::Sink, turn::Committer {
        Cluster* cluster = nullptr;
        Member* member = nullptr;
        void send(Envelope& e) override { cluster->wire.emplace_back(member->id, std::move(e)); }
        void send(gossip::GossipEnvelope&) override {}
        void reply(ClientReply& r) override {
            cluster->reply_count[r.token] += 1;
            cluster->replies[r.token] = std::move(r);
        }
        void commit(store::StagedBatch batch) override {
            if (hold) {
                held.push_back(std::move(batch));
                return;
            }
            member->driver->committed(batch.seq, member->disk.write(batch.writes, batch.sync));
        }
        bool hold = false;                    // keep batches here until finish_commit
        std::deque<store::StagedBatch> held;  // (the driver has at most one out)
    };
    struct Member {
        NodeId id;
        store::MemStore disk;
        std::unique_ptr<store::BufferedStore> buffered;
        std::unique_ptr<health::Detector> detector;  // a fresh one each life
        std::unique_ptr<Node> node;
        Io io;
        std::unique_ptr<turn::Driver> driver;
    };
    // (Re)builds a member's node on its disk, as a start does.
    void boot(Member& m, const NodeConfig& c, std::shared_ptr<const ring::Ring> r) {
        m.driver.reset();
        m.node.reset();
        m.buffered = std::make_unique<store::BufferedStore>(m.disk, store::SyncMode::batch);
        m.detector = std::make_unique<health::Detector>();
        m.node = std::make_unique<Node>(c, *m.buffered, std::move(r), *m.detector);
        m.io.cluster = this;
        m.io.member = &m;
        m.driver = std::make_unique<turn::Driver>(*m.node, nullptr, *m.buffered, m.io, m.io);
    }
    std::vector<std::unique_ptr<Member>> members;
    std::shared_ptr<const ring::Ring> ring;
    std::set<std::uint32_t> dead;  // node values that receive nothing and send nothing
    std::deque<std::pair<NodeId, Envelope>> wire;
    std::map<ClientToken, ClientReply> replies;
    std::map<ClientToken, int> reply_count;  // a request is answered once
    Now now{Instant{1'000'000}, Time{1'000'000}};

    explicit Cluster(std::uint32_t count, NodeConfig base = {}) : Cluster(count, base, balanced(count)) {}

    // `count` nodes, ids 1..count, all routing by `r` (which may leave some of them
    // owning nothing, like a node that is joining).
    Cluster(std::uint32_t count, NodeConfig base, std::shared_ptr<const ring::Ring> r) : ring(std::move(r)) {
        for (std::uint32_t i = 1; i <= count; ++i) {
            auto m = std::make_unique<Member>();
            NodeConfig c = base;
            c.id = NodeId{i};
            m->id = c.id;
            boot(*m, c, ring);
            members.push_back(std::move(m));
        }
    }
    static std::shared_ptr<const ring::Ring> balanced(std::uint32_t count) {
        std::vector<ring::Member> ms;
        for (std::uint32_t i = 1; i <= count; ++i) ms.push_back({NodeId{i}, "z" + std::to_string(i)});
        return std::make_shared<const ring::Ring>(64, ms, ring::compute_claim(64, ms, {}));
    }
    Node& node(std::uint32_t id) { return *members[id - 1]->node; }
    health::Detector& detector(std::uint32_t id) { return *members[id - 1]->detector; }
    // A crash and restart: the node is rebuilt from its store with a new incarnation.
    void restart(std::uint32_t id) {
        Member& m = *members[id - 1];
        NodeConfig c = m.node->config();
        std::uint32_t inc = 0;
        // Above the life before even when that one's was not saved (the config's own).
        REQUIRE(!bump_incarnation(m.disk, inc, c.incarnation + 1));
        c.incarnation = inc;
        boot(m, c, m.node->ring());
    }

    // Finishes the batch node `id` holds: written to its disk, or lost with `ec`.
    void finish_commit(std::uint32_t id, std::error_code ec = {}) {
        Member& m = *members[id - 1];
        REQUIRE(m.io.held.size() == 1);
        store::StagedBatch batch = std::move(m.io.held.front());
        m.io.held.pop_front();
        if (!ec) ec = m.disk.write(batch.writes, batch.sync);
        m.driver->committed(batch.seq, ec);
    }

    // The end of node `id`'s turn: its driver persists and releases the output.
    void collect(std::uint32_t id) { members[id - 1]->driver->end_turn(); }
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

// A node config that keeps one copy of each key (n = r = w = 1): a sole node.
inline NodeConfig one_copy() {
    NodeConfig base;
    base.n = 1;
    base.r = 1;
    base.w = 1;
    return base;
}

inline std::set<std::string> values(const ClientReply& r) {
    std::set<std::string> out;
    for (const auto& s : r.siblings) out.insert(s.value);
    return out;
}

}  // namespace shoal::test
