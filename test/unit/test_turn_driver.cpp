// The turn driver (turn/driver.h) with commits that the test holds and fails: nothing
// a turn sends or answers leaves before the batch carrying its writes (and every
// earlier batch) is durable; batches coalesce while one is out; a lost batch fails
// exactly the turns that waited on it.
#include <catch2/catch.hpp>

#include <algorithm>

#include "node_harness.h"

using namespace shoal;
using namespace shoal::test;

namespace {

ClientRequest put_request(std::string key, std::string value) {
    ClientRequest r;
    r.op = ClientOp::put;
    r.key = std::move(key);
    r.value = std::move(value);
    return r;
}

ClientRequest get_request(std::string key) {
    ClientRequest r;
    r.op = ClientOp::get;
    r.key = std::move(key);
    return r;
}

// Submits to node `via` and ends its turn; returns the token.
ClientToken submit(Cluster& c, std::uint32_t via, ClientRequest request) {
    static ClientToken next = 1'000'000;
    const ClientToken token = next++;
    c.node(via).submit(c.now, token, std::move(request));
    c.collect(via);
    return token;
}

std::size_t sent_by(const Cluster& c, std::uint32_t id) {
    return static_cast<std::size_t>(std::count_if(c.wire.begin(), c.wire.end(),
                                                  [&](const auto& m) { return m.first == NodeId{id}; }));
}

}  // namespace

TEST_CASE("turn driver: a put is answered once any W copies are durable, the coordinator's own or not", "[turn]") {
    Cluster c(3);
    c.members[0]->io.hold = true;  // node 1 coordinates and leads; its disk is slow
    const ClientToken t = submit(c, 1, put_request("k", "v"));
    REQUIRE(c.members[0]->io.held.size() == 1);  // its own copy's batch is out
    // The replicate requests vouch for nothing: they leave at once, so the replicas'
    // fsyncs run beside the leader's.
    CHECK(sent_by(c, 1) == 2);
    CHECK(c.members[0]->driver->stats().messages_early == 2);
    c.pump();  // both replicas write, sync and acknowledge: W=2 durable copies
    REQUIRE(c.replies.count(t) == 1);
    CHECK(c.replies[t].code == errc::ok);
    CHECK(c.replies[t].replies == 2);  // the leader's copy is not counted yet
    c.finish_commit(1);
    CHECK(c.members[0]->driver->idle());
}

TEST_CASE("turn driver: a put short of W durable copies waits for the coordinator's own batch", "[turn]") {
    Cluster c(3);
    c.members[0]->io.hold = true;
    c.members[1]->io.hold = true;  // a replica whose disk is slow too
    const ClientToken t = submit(c, 1, put_request("k", "v"));
    c.pump();
    // Node 3's copy is durable and acknowledged; node 2's acknowledgement waits for its
    // disk, node 1's own copy for its batch: one of W=2.
    CHECK(c.replies.count(t) == 0);
    c.finish_commit(1);  // the own copy counts as its batch turns durable
    REQUIRE(c.replies.count(t) == 1);
    CHECK(c.replies[t].code == errc::ok);
    CHECK(c.replies[t].replies == 2);
    c.finish_commit(2);
    c.pump();  // node 2's late acknowledgement finds the put finished
    CHECK(c.members[0]->driver->idle());
}

TEST_CASE("turn driver: a lost own copy fails a put that still needed it, not one already answered", "[turn]") {
    Cluster c(3);
    c.members[0]->io.hold = true;
    c.members[1]->io.hold = true;
    const ClientToken needed = submit(c, 1, put_request("k", "v"));
    c.pump();
    REQUIRE(c.replies.count(needed) == 0);
    c.finish_commit(1, make_error_code(errc::store_error));
    REQUIRE(c.replies.count(needed) == 1);
    CHECK(c.replies[needed].code == errc::store_error);
    c.finish_commit(2);
    c.pump();

    // W met by the two replicas first: the leader's later loss changes no answer.
    c.members[1]->io.hold = false;
    const ClientToken answered = submit(c, 1, put_request("k2", "v"));
    c.pump();
    REQUIRE(c.replies.count(answered) == 1);
    REQUIRE(c.replies[answered].code == errc::ok);
    c.finish_commit(1, make_error_code(errc::store_error));
    CHECK(c.replies[answered].code == errc::ok);
    c.members[0]->io.hold = false;
    RequestOptions two;
    two.r = 2;
    const ClientReply r = c.get(2, "k2", two);  // the durable copies serve it
    REQUIRE(r.code == errc::ok);
    CHECK(values(r) == std::set<std::string>{"v"});
}

TEST_CASE("turn driver: a replica's answer from staged state waits for that state", "[turn]") {
    Cluster c(3);
    c.members[1]->io.hold = true;  // node 2: a replica whose disk is slow
    const ClientToken put = submit(c, 1, put_request("k", "v"));
    c.pump();
    // Nodes 1 and 3 made W=2; node 2's copy is staged and its acknowledgement held.
    REQUIRE(c.replies.count(put) == 1);
    CHECK(c.replies[put].code == errc::ok);
    CHECK(sent_by(c, 2) == 0);

    // A read of that key reaches node 2: its answer would show the staged copy.
    c.node(2).step(c.now, NodeId{1}, GetReq{77, "k"});
    c.collect(2);
    CHECK(sent_by(c, 2) == 0);
    c.finish_commit(2);
    REQUIRE(sent_by(c, 2) == 2);  // the acknowledgement and the answer, now durable
    bool answered = false;
    for (const auto& [from, env] : c.wire) {
        if (from != NodeId{2}) continue;
        if (const auto* resp = std::get_if<GetResp>(&env.msg)) {
            answered = resp->req == 77 && resp->state.siblings.size() == 1;
        }
    }
    CHECK(answered);
}

TEST_CASE("turn driver: a read of staged state waits for the batch it read", "[turn]") {
    Cluster c(1, one_copy());
    c.members[0]->io.hold = true;
    const ClientToken put = submit(c, 1, put_request("k", "staged"));
    const ClientToken get = submit(c, 1, get_request("k"));
    // The get wrote nothing, but it saw the put's staged write: it may not be
    // answered before that write is durable.
    CHECK(c.replies.empty());
    CHECK(c.members[0]->driver->waiting_turns() == 1);  // the get's (the put waits in the core)

    c.finish_commit(1);
    REQUIRE(c.replies.count(put) == 1);
    REQUIRE(c.replies.count(get) == 1);
    CHECK(c.replies[put].code == errc::ok);
    REQUIRE(c.replies[get].code == errc::ok);
    CHECK(values(c.replies[get]) == std::set<std::string>{"staged"});
}

TEST_CASE("turn driver: each reply of a turn waits for what it rests on, not for the whole turn", "[turn]") {
    Cluster c(1, one_copy());
    c.members[0]->io.hold = true;
    const ClientToken first = submit(c, 1, put_request("a", "1"));  // batch 1, out
    REQUIRE(c.members[0]->io.held.size() == 1);
    // One turn: a read of a key nothing staged, a read of the staged key, a new write.
    c.node(1).submit(c.now, 501, get_request("never-written"));
    c.node(1).submit(c.now, 502, get_request("a"));
    c.node(1).submit(c.now, 503, put_request("b", "2"));
    c.collect(1);
    // The first read rests on nothing: it is answered at once, though its turn staged
    // batch 2 and read batch 1.
    REQUIRE(c.replies.count(501) == 1);
    CHECK(c.replies[501].code == errc::not_found);
    CHECK(c.replies.count(502) == 0);
    CHECK(c.replies.count(503) == 0);
    CHECK(c.members[0]->driver->stats().replies_early == 1);

    c.finish_commit(1);  // batch 1: the put of "a" and the read that saw it
    CHECK(c.replies.count(first) == 1);
    REQUIRE(c.replies.count(502) == 1);
    CHECK(values(c.replies[502]) == std::set<std::string>{"1"});
    CHECK(c.replies.count(503) == 0);  // its write is in batch 2, out now
    REQUIRE(c.members[0]->io.held.size() == 1);

    c.finish_commit(1);
    REQUIRE(c.replies.count(503) == 1);
    CHECK(c.replies[503].code == errc::ok);
    CHECK(c.members[0]->driver->idle());
}

TEST_CASE("turn driver: a coordinator's read waits for the batch its own copy was read from, not a later one",
          "[turn]") {
    Cluster c(3);
    c.members[0]->io.hold = true;
    const ClientToken put = submit(c, 1, put_request("k", "v"));  // node 1's copy: batch 1, out
    c.pump();
    REQUIRE(c.replies.count(put) == 1);  // the replicas' copies made W
    RequestOptions two;
    two.r = 2;
    ClientRequest read = get_request("k");
    read.options = two;
    const ClientToken get = submit(c, 1, read);  // reads its own staged copy (batch 1)
    // Node 2's answer lands in one turn of node 1 with a new write (batch 2).
    c.node(1).submit(c.now, 701, put_request("k2", "v"));
    c.pump();
    CHECK(c.replies.count(get) == 0);
    c.finish_commit(1);
    REQUIRE(c.replies.count(get) == 1);  // batch 2 is still out: the read did not need it
    CHECK(values(c.replies[get]) == std::set<std::string>{"v"});
    CHECK(c.members[0]->io.held.size() == 1);
    c.finish_commit(1);
    CHECK(c.members[0]->driver->idle());
}

TEST_CASE("turn driver: turns coalesce into one batch while one is out, released in order", "[turn]") {
    Cluster c(1, one_copy());
    c.members[0]->io.hold = true;
    const ClientToken first = submit(c, 1, put_request("a", "1"));
    std::vector<ClientToken> later;
    for (int i = 0; i < 3; ++i) later.push_back(submit(c, 1, put_request("k" + std::to_string(i), "v")));
    REQUIRE(c.members[0]->io.held.size() == 1);  // one batch out at a time
    CHECK(c.replies.empty());

    c.finish_commit(1);
    CHECK(c.replies.count(first) == 1);
    for (ClientToken t : later) CHECK(c.replies.count(t) == 0);
    // The three turns staged meanwhile went out as one batch.
    REQUIRE(c.members[0]->io.held.size() == 1);
    CHECK(c.members[0]->io.held.front().writes.ops().size() >= 3);

    c.finish_commit(1);
    for (ClientToken t : later) {
        REQUIRE(c.replies.count(t) == 1);
        CHECK(c.replies[t].code == errc::ok);
    }
    CHECK(c.members[0]->driver->stats().commits == 2);
    CHECK(c.members[0]->driver->stats().turns_persisted == 4);
}

TEST_CASE("turn driver: a lost batch fails the turns that waited on it and nothing else", "[turn]") {
    Cluster c(1, one_copy());
    REQUIRE(c.put(1, "durable", "ok").code == errc::ok);  // released before: untouched
    c.members[0]->io.hold = true;
    const ClientToken lost = submit(c, 1, put_request("lost", "x"));
    const ClientToken after = submit(c, 1, put_request("after", "y"));  // staged behind it
    const ClientToken reader = submit(c, 1, get_request("lost"));       // read the lost write

    c.finish_commit(1, make_error_code(errc::store_error));
    for (ClientToken t : {lost, after, reader}) {
        REQUIRE(c.replies.count(t) == 1);
        CHECK(c.replies[t].code == errc::store_error);
    }
    CHECK(c.members[0]->io.held.empty());  // what was staged behind it is gone too
    CHECK(c.members[0]->driver->idle());
    CHECK(c.members[0]->driver->stats().commit_errors == 1);
    // The get's reply waited in the driver; the puts waited in the core for their own
    // copies, and the core failed them.
    CHECK(c.members[0]->driver->stats().replies_failed == 1);

    c.members[0]->io.hold = false;
    CHECK(c.get(1, "lost").code == errc::not_found);
    CHECK(c.get(1, "after").code == errc::not_found);
    const ClientReply kept = c.get(1, "durable");
    REQUIRE(kept.code == errc::ok);
    CHECK(values(kept) == std::set<std::string>{"ok"});
    REQUIRE(c.put(1, "lost", "again").code == errc::ok);  // the node serves on
    CHECK(values(c.get(1, "lost")) == std::set<std::string>{"again"});
}

TEST_CASE("turn driver: saturated past its staged-bytes bound until a commit catches up", "[turn]") {
    store::MemStore disk;
    store::BufferedStore buffered(disk, store::SyncMode::batch);
    NodeConfig config = one_copy();
    config.id = NodeId{1};
    health::Detector detector;
    Node node(config, buffered, Cluster::balanced(1), detector);
    struct Held final : turn::Sink, turn::Committer {
        std::vector<store::StagedBatch> batches;
        std::vector<ClientReply> replies;
        void send(Envelope&) override {}
        void send(gossip::GossipEnvelope&) override {}
        void reply(ClientReply& r) override { replies.push_back(r); }
        void commit(store::StagedBatch b) override { batches.push_back(std::move(b)); }
    } io;
    turn::Driver driver(node, nullptr, buffered, io, io, turn::DriverLimits{4096, 1000});
    Now now{Instant{1'000'000}, Time{1'000'000}};
    ClientToken token = 1;
    while (!driver.saturated()) {
        REQUIRE(token < 100);
        node.submit(now, token, put_request("k" + std::to_string(token), std::string(1000, 'x')));
        ++token;
        driver.end_turn();
    }
    CHECK(driver.staged_bytes() >= 4096);
    CHECK(token > 4);  // a few 1 KB writes fill 4 KiB, not the first one
    REQUIRE(io.batches.size() == 1);
    REQUIRE_FALSE(disk.write(io.batches[0].writes, true));
    driver.committed(io.batches[0].seq, {});
    CHECK_FALSE(driver.saturated());  // the first batch's bytes are off the count
}

TEST_CASE("turn driver: after a lost batch the leader takes a new actor, so its vectors never claim lost dots",
          "[turn]") {
    // Regression (found by the simulator's lost-ack checker): a leader's replicate
    // requests leave before its own batch is durable. When that batch is lost, the
    // replicas still hold the write under the leader's actor; a later write led under
    // the same actor would carry a vector covering that dot without the sibling, and
    // merges would drop the replicas' copies.
    Cluster c(3);
    c.members[0]->io.hold = true;
    const ActorId before = c.node(1).actor();
    const ClientToken first = submit(c, 1, put_request("k", "first"));
    c.pump();  // the replicas store "first" under node 1's actor: W=2 durable, answered
    REQUIRE(c.replies.count(first) == 1);
    CHECK(c.replies[first].code == errc::ok);
    c.finish_commit(1, make_error_code(errc::store_error));
    CHECK(c.node(1).actor() != before);

    c.members[0]->io.hold = false;
    REQUIRE(c.put(1, "k", "second").code == errc::ok);  // blind: a sibling of what is there
    c.advance(Duration::millis(100));
    RequestOptions all;
    all.r = 3;
    const ClientReply r = c.get(2, "k", all);
    REQUIRE(r.code == errc::ok);
    CHECK(values(r) == std::set<std::string>{"first", "second"});
}
