// Regression of the bounds issue, defect 7: after a 60 s SIGSTOP, keys written once
// held two identical siblings. The coordinator had asked a second leader when the
// first was silent, and the first applied the write too when it resumed: two dots for
// one client write. A leader now applies a put only within its apply_by.
#include <catch2/catch.hpp>

#include "../unit/node_harness.h"
#include "core/hash.h"

namespace shoal::test {

TEST_CASE("regress: a leader that resumes after the coordinator moved on does not apply the write again",
          "[regress][failover]") {
    Cluster c(4);
    // A key whose three primaries leave one node to coordinate without leading.
    std::string key;
    std::uint32_t coordinator = 0, stalled = 0;
    for (int i = 0; i < 1000 && coordinator == 0; ++i) {
        key = "cart/" + std::to_string(i);
        const auto order = c.ring->preference_order(c.ring->partition_of(hash_key(key)));
        std::set<std::uint32_t> primaries{order[0].value, order[1].value, order[2].value};
        for (std::uint32_t n = 1; n <= 4; ++n) {
            if (!primaries.count(n)) coordinator = n;
        }
        stalled = order[0].value;  // the first primary leads
    }
    REQUIRE(coordinator != 0);

    // The leader is paused: what reaches it waits, unread.
    std::deque<std::pair<NodeId, Envelope>> held;
    auto pump_holding = [&] {
        while (!c.wire.empty()) {
            auto [from, env] = std::move(c.wire.front());
            c.wire.pop_front();
            if (env.to.value == stalled) {
                held.emplace_back(from, std::move(env));
                continue;
            }
            c.node(env.to.value).step(c.now, from, std::move(env.msg));
            c.collect(env.to.value);
        }
    };
    ClientRequest put;
    put.op = ClientOp::put;
    put.key = key;
    put.value = "apple";
    c.node(coordinator).submit(c.now, 7, std::move(put));
    c.collect(coordinator);
    for (int i = 0; i < 40 && !c.replies.count(7); ++i) {
        c.now = c.now + Duration::millis(100);
        for (std::uint32_t n = 1; n <= 4; ++n) {
            if (n == stalled) continue;
            c.node(n).tick(c.now);
            c.collect(n);
        }
        pump_holding();
    }
    REQUIRE(c.replies.count(7) == 1);
    REQUIRE(c.replies.at(7).code == errc::ok);  // the next primary led it
    CHECK(c.node(coordinator).stats().leader_failovers == 1);

    // The leader resumes and reads what waited for it.
    for (auto& [from, env] : held) {
        c.node(stalled).step(c.now, from, std::move(env.msg));
        c.collect(stalled);
    }
    c.pump();
    CHECK(c.node(stalled).stats().late_leads_refused == 1);

    // Every copy, merged: one sibling for the one write.
    RequestOptions all;
    all.r = 3;
    const ClientReply got = c.get(coordinator, key, all);
    REQUIRE(got.code == errc::ok);
    CHECK(got.siblings.size() == 1);
}

}  // namespace shoal::test
