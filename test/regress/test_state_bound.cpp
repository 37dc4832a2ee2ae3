// Regressions of the bounds issue, defects 1 and 2, on the core: a key's state that
// outgrew a peer frame, and client contexts that made a leader store a state no node
// could decode (or wrap its counters). Every message the nodes exchange here is
// encoded and decoded as shoald would, and checked against the frame bound.
#include <catch2/catch.hpp>

#include <string>

#include "../unit/node_harness.h"
#include "core/errc.h"
#include "core/limits.h"
#include "replica/codec.h"
#include "wire/wire.h"

namespace shoal::test {
namespace {

// Delivers every queued message through the wire codec: each must encode within the
// bound of the cluster's limits and decode again; counts how many did.
struct WireCheck {
    std::size_t bound = max_frame_bytes(Limits{});
    std::size_t messages = 0, largest = 0;

    void pump(Cluster& c) {
        while (!c.wire.empty()) {
            auto [from, env] = std::move(c.wire.front());
            c.wire.pop_front();
            std::string bytes;
            wire::encode_peer(env.msg, bytes);
            ++messages;
            largest = std::max(largest, bytes.size());
            REQUIRE(bytes.size() <= bound);
            wire::FrameReader reader(bound);
            reader.feed(bytes);
            wire::Frame frame;
            std::error_code why;
            REQUIRE(reader.next(frame, why) == wire::FrameReader::Status::frame);
            REQUIRE(frame.kind == wire::Frame::Kind::peer);
            c.node(env.to.value).step(c.now, from, std::move(frame.peer));
            c.collect(env.to.value);
        }
    }
    // Submits on `via`, then runs the cluster until the reply is in.
    ClientReply call(Cluster& c, std::uint32_t via, ClientRequest req) {
        static ClientToken next = 1'000'000;
        const ClientToken token = next++;
        c.node(via).submit(c.now, token, std::move(req));
        c.collect(via);
        pump(c);
        for (int i = 0; i < 50 && !c.replies.count(token); ++i) {
            c.now = c.now + Duration::millis(100);
            for (std::uint32_t n = 1; n <= c.members.size(); ++n) {
                c.node(n).tick(c.now);
                c.collect(n);
            }
            pump(c);
        }
        REQUIRE(c.replies.count(token) == 1);
        return c.replies[token];
    }
};

ClientRequest put_request(std::string key, std::string value, VersionVector ctx = {}) {
    ClientRequest r;
    r.op = ClientOp::put;
    r.key = std::move(key);
    r.value = std::move(value);
    r.context = std::move(ctx);
    return r;
}

ClientRequest get_request(std::string key, std::uint32_t r_quorum) {
    ClientRequest r;
    r.op = ClientOp::get;
    r.key = std::move(key);
    r.options.r = r_quorum;
    return r;
}

}  // namespace

TEST_CASE("regress: two blind 600 KiB writes of one key fit every frame; reads at r=3 succeed; a third is refused",
          "[regress][bounds]") {
    Cluster c(3);
    WireCheck w;
    const std::string a(600 * 1024, 'a'), b(600 * 1024, 'b');
    // Concurrent: both coordinators lead their own write before either replicates.
    c.node(1).submit(c.now, 1, put_request("big", a));
    c.node(2).submit(c.now, 2, put_request("big", b));
    c.collect(1);
    c.collect(2);
    w.pump(c);
    REQUIRE(c.replies.at(1).code == errc::ok);
    REQUIRE(c.replies.at(2).code == errc::ok);

    // Every node answers a read that needs all three copies: two siblings, 1.2 MiB.
    VersionVector seen;
    for (std::uint32_t via = 1; via <= 3; ++via) {
        const ClientReply got = w.call(c, via, get_request("big", 3));
        REQUIRE(got.code == errc::ok);
        CHECK(values(got) == std::set<std::string>{a, b});
        seen = got.context;
    }
    CHECK(w.largest > 2 * 600 * 1024);  // the frames did carry both values

    // A third blind write would make the state 2.1 MiB, over max_state_bytes (2 MiB):
    // refused with its own error, and nothing changes.
    const std::string big(900 * 1024, 'c');
    CHECK(w.call(c, 1, put_request("big", big)).code == errc::state_too_large);
    CHECK(c.node(1).stats().states_refused == 1);
    CHECK(values(w.call(c, 3, get_request("big", 3))) == std::set<std::string>{a, b});

    // With the context it replaces both siblings, and fits.
    CHECK(w.call(c, 1, put_request("big", big, seen)).code == errc::ok);
    CHECK(values(w.call(c, 2, get_request("big", 3))) == std::set<std::string>{big});
    CHECK(w.messages > 0);
}

TEST_CASE("regress: a merge past the carried bound is refused by the replica, and no frame passes the bound",
          "[regress][bounds]") {
    // Small limits make the arithmetic visible: state 64 KiB, carried 128 KiB.
    NodeConfig base;
    base.limits.max_value_bytes = 30 * 1024;
    base.limits.max_state_bytes = 64 * 1024;
    Cluster c(3, base);
    WireCheck w;
    w.bound = max_frame_bytes(base.limits);
    // Five concurrent blind writes through the three leaders and again: each leader
    // admits what fits its own copy; merged copies stop at the carried bound.
    const std::uint32_t vias[] = {1, 2, 3, 1, 2, 3};
    for (std::size_t i = 0; i < std::size(vias); ++i) {
        c.node(vias[i]).submit(c.now, 100 + i, put_request("k", std::string(30 * 1024, static_cast<char>('a' + i))));
        c.collect(vias[i]);
    }
    w.pump(c);
    std::uint64_t refused = 0;
    for (std::uint32_t n = 1; n <= 3; ++n) refused += c.node(n).stats().states_refused;
    CHECK(refused > 0);
    // Every node still serves the key (its own copy within the bounds).
    for (std::uint32_t via = 1; via <= 3; ++via) {
        const ClientReply got = w.call(c, via, get_request("k", 1));
        CHECK(got.code == errc::ok);
    }
}

TEST_CASE("regress: a context naming the leader's own counter beyond what it issued is refused (no wrap)",
          "[regress][bounds]") {
    Cluster c(3);
    WireCheck w;
    REQUIRE(w.call(c, 1, put_request("k", "v1")).code == errc::ok);
    const ClientReply first = w.call(c, 1, get_request("k", 3));
    REQUIRE(first.code == errc::ok);
    // The leader is node 1 (a primary coordinating leads): forge its actor's counter.
    VersionVector forged = first.context;
    forged.raise(c.node(1).actor(), k_max_counter - 1);
    CHECK(w.call(c, 1, put_request("k", "v2", forged)).code == errc::bad_context);
    // The key is untouched and every copy still decodes.
    CHECK(values(w.call(c, 2, get_request("k", 3))) == std::set<std::string>{"v1"});
    // A legitimate context still works, and the next dot follows the last one issued.
    const ClientReply ok = w.call(c, 1, put_request("k", "v3", first.context));
    REQUIRE(ok.code == errc::ok);
    CHECK(ok.dot.counter < 10);
}

TEST_CASE("regress: contexts with thousands of actors never make a state that does not decode",
          "[regress][bounds]") {
    Cluster c(3);
    WireCheck w;
    auto fake = [](ActorId from, std::size_t count) {
        VersionVector vv;
        for (std::size_t i = 0; i < count; ++i) vv.raise(from + i, 1);
        return vv;
    };
    // Over the client limit: refused before anything is stored.
    CHECK(w.call(c, 1, put_request("k", "v", fake(1'000'000, k_max_client_context_entries + 1))).code ==
          errc::bad_context);
    // At the limit: accepted (the joined context fits what a stored state may name).
    CHECK(w.call(c, 1, put_request("k", "v", fake(1'000'000, k_max_client_context_entries))).code == errc::ok);
    // Another full set of different actors would pass the stored bound: refused.
    CHECK(w.call(c, 1, put_request("k", "w", fake(9'000'000, k_max_client_context_entries))).code ==
          errc::bad_context);
    // Every node reads the key; every message above decoded (WireCheck).
    for (std::uint32_t via = 1; via <= 3; ++via) {
        const ClientReply got = w.call(c, via, get_request("k", 3));
        CHECK(got.code == errc::ok);
        CHECK(got.context.entries().size() <= k_max_context_entries);
    }
}

TEST_CASE("regress: context tokens at the limits", "[regress][bounds]") {
    VersionVector vv, out;
    for (std::size_t i = 0; i < k_max_client_context_entries; ++i) vv.raise(i + 1, k_max_counter - 1);
    CHECK_FALSE(replica::context_from_token(replica::context_to_token(vv), out));
    CHECK(out == vv);
    vv.raise(k_max_client_context_entries + 1, 1);
    CHECK(replica::context_from_token(replica::context_to_token(vv), out) == errc::bad_context);
    VersionVector wraps;
    wraps.raise(7, k_max_counter);
    CHECK(replica::context_from_token(replica::context_to_token(wraps), out) == errc::bad_context);
}

}  // namespace shoal::test
