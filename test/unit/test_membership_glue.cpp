// The glue of a gossiper and a replica Node (membership/glue.h), which shoald's shell
// and the simulator both run: what reaches the Node when the view changes, what the
// gossiper hears of finished streams, and when the phi detector's suspicion passes on.
#include <catch2/catch.hpp>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/rng.h"
#include "gossip/gossiper.h"
#include "membership/glue.h"
#include "replica/node.h"
#include "store/buffered_store.h"
#include "store/memory_store.h"

namespace shoal::test {

namespace {

constexpr std::uint32_t k_q = 16;

std::shared_ptr<const ring::Ring> alone(NodeId id) {
    return std::make_shared<const ring::Ring>(k_q, std::vector<ring::Member>{{id, ""}},
                                              std::vector<NodeId>(k_q, id));
}

// Gossipers and Nodes side by side; gossip is delivered at once, in 100 ms steps.
struct Pair {
    struct Member {
        store::MemStore disk;
        store::BufferedStore buffered{disk, store::SyncMode::none};
        std::unique_ptr<health::Detector> detector;
        std::unique_ptr<gossip::Gossiper> gossiper;
        std::unique_ptr<replica::Node> node;
        membership::Glue glue;
        bool down = false;
    };
    Rng rng{7};
    Instant now{1'000'000};
    std::map<std::uint32_t, std::unique_ptr<Member>> members;

    Member& add(std::uint32_t id, std::vector<std::string> seeds, membership::GlueOptions options = {}) {
        auto m = std::make_unique<Member>();
        gossip::GossipConfig gc;
        gc.id = NodeId{id};
        gc.peer_address = "n" + std::to_string(id);
        gc.partition_count = k_q;
        gc.seeds = std::move(seeds);
        gc.interval = Duration::millis(200);
        gc.heartbeat_interval = Duration::millis(200);
        health::DetectorConfig dc;
        dc.first_estimate = dc.acceptable_pause = Duration::millis(200);
        m->detector = std::make_unique<health::Detector>(dc);
        m->gossiper = std::make_unique<gossip::Gossiper>(gc, rng, m->disk, *m->detector);
        replica::NodeConfig nc;
        nc.id = NodeId{id};
        nc.n = 2;
        m->node = std::make_unique<replica::Node>(nc, m->buffered, alone(NodeId{id}), *m->detector);
        m->glue = membership::Glue(std::move(options));
        auto& ref = *m;
        members[id] = std::move(m);
        return ref;
    }
    Member& at(std::uint32_t id) { return *members.at(id); }

    // `through_glue`: each member ticks as shoald does (Glue::tick, which reports the
    // peers newly silent); otherwise the gossiper alone.
    void run(Duration d, bool through_glue = false) {
        const Instant end = now + d;
        while (now < end) {
            now = now + Duration::millis(100);
            for (auto& [id, m] : members) {
                if (m->down) continue;
                if (through_glue) (void)m->glue.tick(now, *m->gossiper, *m->detector);
                else m->gossiper->tick(now);
                (void)m->glue.sync(now, *m->gossiper, *m->node);
            }
            for (int pass = 0; pass < 10; ++pass) {
                bool any = false;
                for (auto& [id, m] : members) {
                    gossip::GossipOutbox out;
                    m->gossiper->take_output(out);
                    if (m->down) continue;
                    for (auto& e : out.messages) {
                        const std::uint32_t to = e.to.valid() ? e.to.value : std::stoul(e.address.substr(1));
                        if (!members.count(to) || members.at(to)->down) continue;
                        members.at(to)->gossiper->step(now, NodeId{id}, e.message);
                        any = true;
                    }
                }
                if (!any) break;
            }
        }
    }
};

}  // namespace

TEST_CASE("glue: a founded view installs its ring in the Node once, and namespaces with it", "[membership]") {
    membership::GlueOptions options;
    NamespaceProps extra;
    extra.datatype = "set";
    options.extra_namespaces.emplace("carts", extra);
    Pair p;
    auto& m = p.add(1, {}, options);
    CHECK_FALSE(m.glue.joined());

    p.run(Duration::seconds(1));
    REQUIRE(m.glue.joined());
    REQUIRE(m.gossiper->ring() != nullptr);
    CHECK(m.node->ring() == m.gossiper->ring());  // the gossiper's very ring
    CHECK(m.node->namespaces().count("carts") == 1);

    // Nothing changed: nothing is installed again.
    const membership::SyncReport quiet = m.glue.sync(p.now, *m.gossiper, *m.node);
    CHECK_FALSE(quiet.view_changed);
    CHECK_FALSE(quiet.ring_installed);

    // A namespace created in the view reaches the Node, and the view's props win over
    // the extra ones of the same name.
    NamespaceProps lww;
    lww.conflict = ConflictMode::lww;
    REQUIRE_FALSE(m.gossiper->put_namespace(p.now, "sessions", lww, true));
    NamespaceProps counter;
    counter.datatype = "counter";
    REQUIRE_FALSE(m.gossiper->put_namespace(p.now, "carts", counter, true));
    const membership::SyncReport changed = m.glue.sync(p.now, *m.gossiper, *m.node);
    CHECK(changed.view_changed);
    REQUIRE(m.node->namespaces().count("sessions") == 1);
    CHECK(m.node->namespaces().at("sessions").conflict == ConflictMode::lww);
    CHECK(m.node->namespaces().at("carts").datatype == "counter");
}

TEST_CASE("glue: a joiner's moves are reported done at once when handoff is off (the simulator's teeth)",
          "[membership]") {
    Pair p;
    p.add(1, {});
    p.run(Duration::seconds(1));
    membership::GlueOptions off;
    off.ownership_handoff = false;
    p.add(2, {"n1"});
    p.at(1).glue = membership::Glue(off);  // the owner of every slot: the sources of the moves
    std::size_t reported = 0;
    for (int i = 0; i < 100 && reported == 0; ++i) {
        p.run(Duration::millis(100));
        reported += p.at(1).glue.sync(p.now, *p.at(1).gossiper, *p.at(1).node).finished.size();
    }
    CHECK(reported > 0);  // without streaming: the Node has no plan
    CHECK(p.at(1).node->handoff_progress().empty());
    // Once the claimant switches the owners, the joiner owns slots without a byte sent.
    p.run(Duration::seconds(5));
    REQUIRE(p.at(2).gossiper->ring() != nullptr);
    std::uint32_t owned = 0;
    for (std::uint32_t s = 0; s < k_q; ++s) owned += p.at(2).gossiper->ring()->owner(PartitionId{s}) == NodeId{2};
    CHECK(owned > 0);
}

TEST_CASE("glue: the gossiper and the Node share one detector; a silent member is reported once", "[membership]") {
    Pair p;
    p.add(1, {});
    p.run(Duration::seconds(1));
    p.add(2, {"n1"});
    p.run(Duration::seconds(5));
    auto& one = p.at(1);
    REQUIRE(one.glue.joined());
    REQUIRE(one.gossiper->believes_up(NodeId{2}, p.now));
    CHECK(one.detector->known(NodeId{2}));  // the gossiper fed it node 2's heartbeats
    CHECK(one.glue.tick(p.now, *one.gossiper, *one.detector).empty());  // heard recently

    p.at(2).down = true;  // silent from now on
    p.run(Duration::seconds(5));
    // One verdict: the gossiper and the Node see node 2 down at once, with no hand-off.
    CHECK_FALSE(one.gossiper->believes_up(NodeId{2}, p.now));
    CHECK_FALSE(one.detector->up(NodeId{2}, p.now));
    // Newly silent: reported once, for the shell to dial its link again.
    const std::vector<NodeId> fell = one.glue.tick(p.now, *one.gossiper, *one.detector);
    REQUIRE(fell.size() == 1);
    CHECK(fell[0] == NodeId{2});
    CHECK(one.glue.tick(p.now, *one.gossiper, *one.detector).empty());  // already reported

    // The Node routes around it and probes it: its tick pings node 2.
    one.node->tick(Now{p.now, Time{p.now.us}});
    replica::Outbox out;
    one.node->take_output(out);
    bool pinged = false;
    for (const auto& e : out.messages) pinged |= e.to == NodeId{2} && std::holds_alternative<replica::Ping>(e.msg);
    CHECK(pinged);
    CHECK_FALSE(one.node->believes_up(NodeId{2}));
}

}  // namespace shoal::test
