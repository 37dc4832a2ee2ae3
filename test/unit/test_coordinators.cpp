// The put and get coordinators (replica/put_coordinator.h, get_coordinator.h) alone:
// no Node, no store, no messages -- each answer goes in and the decision comes out.
#include <catch2/catch.hpp>

#include <vector>

#include "replica/get_coordinator.h"
#include "replica/put_coordinator.h"

namespace shoal::replica {
namespace {

const NodeId n1{1}, n2{2}, n3{3}, n4{4};

std::vector<Target> three_primaries() { return {Target{n1, {}, true}, Target{n2, {}, true}, Target{n3, {}, true}}; }

// A state holding `value` under a dot of `node`'s.
SiblingSet state_of(NodeId node, const std::string& value) {
    SiblingSet s;
    WriteOp op;
    op.value = value;
    op.written = Time{1'000};
    apply_write(s, op, make_actor(node, 1), ConflictMode::dvv);
    return s;
}

PutCoordinator make_put(std::vector<Target> targets, NodeId self, std::uint32_t w = 2,
                        WriteCondition condition = WriteCondition::none) {
    PutCoordinator::Spec spec;
    spec.token = 7;
    spec.key = "cart";
    spec.op.value = "apple";
    spec.targets = std::move(targets);
    spec.acks = Quorum{w, 0};
    spec.deadline = Instant{10'000};
    spec.condition = condition;
    return PutCoordinator(std::move(spec), self);
}

}  // namespace

TEST_CASE("put coordinator: the leader is this node when a primary, else the first primary", "[coordinators]") {
    CHECK(PutCoordinator::first_leader(three_primaries(), n2, WriteCondition::none) == 1);
    CHECK(PutCoordinator::first_leader(three_primaries(), n4, WriteCondition::none) == 0);  // not a target
    // A fallback does not lead while a primary is up ...
    std::vector<Target> with_fallback{Target{n1, {}, true}, Target{n2, {}, true}, Target{n4, n3, false}};
    CHECK(PutCoordinator::first_leader(with_fallback, n4, WriteCondition::none) == 0);
    // ... and leads when no primary is among the targets.
    std::vector<Target> fallbacks{Target{n3, n1, false}, Target{n4, n2, false}};
    CHECK(PutCoordinator::first_leader(fallbacks, n4, WriteCondition::none) == 1);
    // Conditional writes meet at the first primary, whoever coordinates.
    CHECK(PutCoordinator::first_leader(three_primaries(), n3, WriteCondition::if_none_match) == 0);
}

TEST_CASE("put coordinator: the leader's state goes to the others and w copies answer the client",
          "[coordinators]") {
    PutCoordinator put = make_put(three_primaries(), n1);
    REQUIRE(put.leading() != nullptr);
    CHECK(put.leading()->leader == 0);
    put.lead(0, Instant{5'000});
    // An answer from a node that is not the leader asked changes nothing.
    CHECK(put.on_leader_answer(n2, errc::ok, Dot{}, {}).kind == PutCoordinator::LeaderAnswer::stale);
    const SiblingSet state = state_of(n1, "apple");
    const Dot dot = state.siblings.at(0).dot;
    const auto answer = put.on_leader_answer(n1, errc::ok, dot, state);
    REQUIRE(answer.kind == PutCoordinator::LeaderAnswer::replicate);
    CHECK(put.leading() == nullptr);
    CHECK(put.replicating().state == state);
    // A second answer from the leader is stale.
    CHECK(put.on_leader_answer(n1, errc::ok, dot, state).kind == PutCoordinator::LeaderAnswer::stale);
    std::vector<NodeId> sent;
    put.for_each_replica([&](const Target& t) { sent.push_back(t.node); });
    CHECK(sent == std::vector<NodeId>{n2, n3});
    put.count(put.leader_target());
    CHECK_FALSE(put.met());
    // A replica that fails does not count; one that answers does.
    CHECK(put.on_replica_answer(n2, errc::store_error) == nullptr);
    CHECK(put.on_replica_answer(n2, errc::ok) == nullptr);  // failed already: stale
    const Target* t3 = put.on_replica_answer(n3, errc::ok);
    REQUIRE(t3 != nullptr);
    put.count(*t3);
    REQUIRE(put.met());
    const ClientReply reply = put.reply(Time{2'000});
    CHECK(reply.token == 7);
    CHECK(reply.code == errc::ok);
    CHECK(reply.replies == 2);
    CHECK(reply.required == 2);
    CHECK(reply.dot == dot);
    CHECK(reply.context == state.context);  // one live value: the context to write with next
}

TEST_CASE("put coordinator: no context back when the write left siblings", "[coordinators]") {
    PutCoordinator put = make_put(three_primaries(), n1, 1);
    put.lead(0, Instant{5'000});
    SiblingSet two = merge(state_of(n1, "apple"), state_of(n2, "pear"), ConflictMode::dvv);
    REQUIRE(two.siblings.size() == 2);
    const Dot dot = two.siblings.at(0).dot;
    REQUIRE(put.on_leader_answer(n1, errc::ok, dot, two).kind == PutCoordinator::LeaderAnswer::replicate);
    put.count(put.leader_target());
    REQUIRE(put.met());
    CHECK(put.reply(Time{2'000}).context.empty());
}

TEST_CASE("put coordinator: a leader that cannot take the write passes it on; a refusal is the answer",
          "[coordinators]") {
    PutCoordinator put = make_put(three_primaries(), n1);
    put.lead(0, Instant{5'000});
    const auto full = put.on_leader_answer(n1, errc::overloaded, Dot{}, {});
    CHECK(full.kind == PutCoordinator::LeaderAnswer::pass_on);
    CHECK(full.code == errc::unavailable);  // what the client hears if nobody else can lead
    REQUIRE(put.next_leader() == 1u);
    put.lead(1, Instant{6'000});
    const auto corrupt = put.on_leader_answer(n2, errc::corrupt, Dot{}, {});
    CHECK(corrupt.kind == PutCoordinator::LeaderAnswer::pass_on);
    CHECK(corrupt.code == errc::corrupt);
    CHECK(put.targets()[1].corrupt);
    REQUIRE(put.next_leader() == 2u);
    put.lead(2, Instant{7'000});
    const SiblingSet state = state_of(n3, "apple");
    REQUIRE(put.on_leader_answer(n3, errc::ok, state.siblings.at(0).dot, state).kind ==
            PutCoordinator::LeaderAnswer::replicate);
    // The damaged copy gets the state (to overwrite it); the overloaded one does not.
    std::vector<NodeId> sent;
    put.for_each_replica([&](const Target& t) { sent.push_back(t.node); });
    CHECK(sent == std::vector<NodeId>{n2});

    PutCoordinator refused = make_put(three_primaries(), n1);
    refused.lead(0, Instant{5'000});
    const auto too_many = refused.on_leader_answer(n1, errc::too_many_siblings, Dot{}, {});
    CHECK(too_many.kind == PutCoordinator::LeaderAnswer::refused);
    CHECK(too_many.code == errc::too_many_siblings);
}

TEST_CASE("put coordinator: the own copy counts once its batch is durable, once", "[coordinators]") {
    PutCoordinator put = make_put(three_primaries(), n1, 1);
    put.lead(0, Instant{5'000});
    const SiblingSet state = state_of(n1, "apple");
    REQUIRE(put.on_leader_answer(n1, errc::ok, state.siblings.at(0).dot, state).kind ==
            PutCoordinator::LeaderAnswer::replicate);
    put.await_durable(put.leader_target(), 42);
    CHECK(put.needs() == 42);
    CHECK_FALSE(put.met());
    CHECK(put.on_durable(42));
    CHECK(put.needs() == 0);
    CHECK(put.met());
    CHECK(put.acks().got == 1);
    CHECK_FALSE(put.on_durable(43));  // nothing waits any more
    CHECK(put.acks().got == 1);
}

TEST_CASE("put coordinator: a silent leader is failed once its time passes; the deadline ends the put",
          "[coordinators]") {
    PutCoordinator put = make_put(three_primaries(), n1);
    put.lead(0, Instant{5'000});
    CHECK(put.on_time(Instant{4'999}) == PutCoordinator::Due::nothing);
    CHECK(put.on_time(Instant{5'000}) == PutCoordinator::Due::leader_silent);
    CHECK(put.targets()[0].failed);
    CHECK(put.on_time(Instant{5'001}) == PutCoordinator::Due::nothing);  // failed once
    REQUIRE(put.next_leader() == 1u);
    put.lead(1, Instant{7'500});
    // A late answer of the first leader is stale: the write is another leader's now.
    CHECK(put.on_leader_answer(n1, errc::ok, Dot{}, {}).kind == PutCoordinator::LeaderAnswer::stale);
    CHECK(put.on_time(Instant{10'000}) == PutCoordinator::Due::deadline);
    CHECK(put.queue_deadline_once());
    CHECK_FALSE(put.queue_deadline_once());
}

namespace {
GetCoordinator make_get(std::vector<Target> targets, Quorum replies,
                        std::optional<RequestOptions> then_delete = std::nullopt) {
    GetCoordinator::Spec spec;
    spec.token = 9;
    spec.key = "cart";
    spec.targets = std::move(targets);
    spec.replies = replies;
    spec.deadline = Instant{10'000};
    spec.then_delete = std::move(then_delete);
    return GetCoordinator(std::move(spec));
}
std::vector<NodeId> ask_all(GetCoordinator& get, bool everyone) {
    std::vector<NodeId> asked;
    get.ask(everyone, [&](const Target& t) { asked.push_back(t.node); });
    return asked;
}
}  // namespace

TEST_CASE("get coordinator: asks itself, then just enough others for r, and one more for each failure",
          "[coordinators]") {
    GetCoordinator get = make_get(three_primaries(), Quorum{2, 0});
    REQUIRE(get.ask_self(n1) != nullptr);
    CHECK(ask_all(get, false) == std::vector<NodeId>{n2});
    CHECK(get.on_answer(n3, errc::ok, {}, ConflictMode::dvv) == GetCoordinator::Answer::stale);  // never asked
    CHECK(get.on_answer(n2, errc::store_error, {}, ConflictMode::dvv) == GetCoordinator::Answer::failed);
    CHECK(ask_all(get, false) == std::vector<NodeId>{n3});  // in place of the one that failed
    CHECK(ask_all(get, false).empty());
    CHECK(get.on_answer(n1, errc::ok, state_of(n1, "apple"), ConflictMode::dvv) == GetCoordinator::Answer::counted);
    CHECK_FALSE(get.ready());
    CHECK_FALSE(get.all_in());
    CHECK(get.on_answer(n3, errc::ok, state_of(n3, "pear"), ConflictMode::dvv) == GetCoordinator::Answer::counted);
    CHECK(get.on_answer(n3, errc::ok, {}, ConflictMode::dvv) == GetCoordinator::Answer::stale);  // twice
    REQUIRE(get.ready());
    CHECK_FALSE(get.answer().has_value());
    CHECK(get.answered());
    CHECK_FALSE(get.ready());
    const ClientReply reply = get.reply(Time{2'000});
    CHECK(reply.code == errc::ok);
    CHECK(reply.siblings.size() == 2);  // concurrent writes: both siblings
    CHECK(reply.replies == 2);
    CHECK(get.all_in());
}

TEST_CASE("get coordinator: pr asks primaries only while short of them", "[coordinators]") {
    std::vector<Target> targets{Target{n1, {}, true}, Target{n4, n2, false}, Target{n3, {}, true}};
    GetCoordinator get = make_get(targets, Quorum{2, 2});
    CHECK(ask_all(get, false) == std::vector<NodeId>{n1, n3});  // the fallback is skipped
    GetCoordinator everyone = make_get(targets, Quorum{2, 2});
    CHECK(ask_all(everyone, true) == std::vector<NodeId>{n1, n4, n3});
}

TEST_CASE("get coordinator: read repair goes to copies that differ from the merge, and damaged ones",
          "[coordinators]") {
    GetCoordinator get = make_get(three_primaries(), Quorum{2, 0});
    ask_all(get, true);
    std::vector<NodeId> none;
    get.for_each_stale_copy([&](const Target& t) { none.push_back(t.node); });
    CHECK(none.empty());  // no good answer yet: nothing to repair with
    const SiblingSet apple = state_of(n1, "apple");
    get.on_answer(n1, errc::ok, apple, ConflictMode::dvv);
    get.on_answer(n2, errc::ok, merge(apple, state_of(n2, "pear"), ConflictMode::dvv), ConflictMode::dvv);
    get.on_answer(n3, errc::corrupt, {}, ConflictMode::dvv);
    std::vector<NodeId> repaired;
    get.for_each_stale_copy([&](const Target& t) { repaired.push_back(t.node); });
    CHECK(repaired == std::vector<NodeId>{n1, n3});  // n1 lacks pear; n3's copy is damaged
    CHECK(get.targets()[2].corrupt);
}

TEST_CASE("get coordinator: a delete without a context goes on once r answered; nothing live is not_found",
          "[coordinators]") {
    RequestOptions opts;
    opts.w = 3;
    GetCoordinator del = make_get(three_primaries(), Quorum{1, 0}, opts);
    ask_all(del, false);
    del.on_answer(n1, errc::ok, state_of(n1, "apple"), ConflictMode::dvv);
    REQUIRE(del.ready());
    const std::optional<RequestOptions> then = del.answer();
    REQUIRE(then.has_value());
    CHECK(then->w == 3);

    GetCoordinator empty = make_get(three_primaries(), Quorum{1, 0});
    ask_all(empty, false);
    empty.on_answer(n1, errc::ok, {}, ConflictMode::dvv);
    REQUIRE(empty.ready());
    empty.answer();
    CHECK(empty.reply(Time{2'000}).code == errc::not_found);
    CHECK(empty.expired(Instant{10'000}));
    CHECK_FALSE(empty.expired(Instant{9'999}));
}

}  // namespace shoal::replica
