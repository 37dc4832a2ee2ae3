// Namespaces: stored keys carry their namespace, properties are checked, a node
// applies each namespace's semantics (lww beside dvv in one cluster), and the HTTP
// router takes /ns routes.
#include <set>
#include <string>
#include <variant>

#include <catch2/catch.hpp>

#include "core/errc.h"
#include "core/limits.h"
#include "http/api.h"
#include "node_harness.h"
#include "replica/namespaces.h"

using namespace shoal;
using namespace shoal::replica;
using namespace shoal::test;

TEST_CASE("namespaces: stored keys carry the namespace; default keys keep their bytes", "[namespace]") {
    CHECK(scoped_key("", "k") == "k");
    CHECK(scoped_key("default", "k") == "k");
    const std::string s = scoped_key("carts", "alice");
    CHECK(s == std::string("\0carts\0alice", 12));
    CHECK(namespace_of(s) == "carts");
    CHECK(client_key_of(s) == "alice");
    CHECK(namespace_of("alice") == "default");
    CHECK(client_key_of("alice") == "alice");
    // A client key may not look like a stored one; a stored key's parts are checked.
    const Limits l;
    CHECK(check_key(l, std::string("\0x", 2)) == errc::bad_request);
    CHECK_FALSE(check_stored_key(l, s));
    CHECK_FALSE(check_stored_key(l, "plain"));
    CHECK(check_stored_key(l, std::string("\0carts", 6)) == errc::bad_request);     // no end
    CHECK(check_stored_key(l, std::string("\0\0k", 3)) == errc::bad_request);       // empty name
    CHECK(check_stored_key(l, std::string("\0Carts\0k", 8)) == errc::bad_request);  // bad name
    CHECK(check_stored_key(l, std::string("\0carts\0", 7)) == errc::bad_request);   // empty key
    CHECK(namespace_of(std::string("\0carts", 6)).empty());                         // malformed: no namespace, no crash
    // At the edges: the longest name and key fit the stored-key bound exactly.
    const std::string name(k_max_namespace_bytes, 'n');
    const std::string key(l.max_key_bytes, 'k');
    CHECK(valid_namespace_name(name));
    CHECK_FALSE(valid_namespace_name(name + "n"));
    CHECK(scoped_key(name, key).size() == max_stored_key_bytes(l));
    CHECK_FALSE(check_stored_key(l, scoped_key(name, key)));
    CHECK(check_stored_key(l, scoped_key(name, key + "k")) == errc::key_too_large);
}

TEST_CASE("namespaces: properties are checked", "[namespace]") {
    NamespaceProps p;
    CHECK(props_problem(p).empty());
    p.n = 2;
    p.r = 3;
    CHECK(props_problem(p) == "r=3 exceeds n=2");
    p.r = k_quorum_all;
    CHECK(props_problem(p).empty());
    p.pw = 5;
    CHECK(props_problem(p) == "pw=5 exceeds n=2");
    p.pw = 0;
    p.ttl_s = k_max_ttl_s + 1;
    CHECK_FALSE(props_problem(p).empty());
    p.ttl_s = k_max_ttl_s;
    CHECK(props_problem(p).empty());
    p.datatype = "set";
    CHECK(props_problem(p).empty());
    p.datatype = "counter";
    CHECK(props_problem(p).empty());
    p.datatype = "hyperloglog";
    CHECK(props_problem(p) == "datatype 'hyperloglog' is not known (set, counter, map, or none for plain values)");
    p.datatype = "set";
    p.conflict = ConflictMode::lww;
    CHECK(props_problem(p) == "a datatype merges its own concurrent writes: it needs conflict=dvv, not lww");
    p.conflict = ConflictMode::dvv;
    p.datatype.clear();
    p.n = k_max_replicas + 1;
    CHECK_FALSE(props_problem(p).empty());
}

namespace {

NodeConfig one_replica() {
    NodeConfig c;
    c.n = 3;
    return c;
}

ClientReply put_in(Cluster& c, std::uint32_t via, std::string ns, std::string key, std::string value,
                   RequestOptions o = {}) {
    ClientRequest r;
    r.op = ClientOp::put;
    r.key = std::move(key);
    r.value = std::move(value);
    o.ns = std::move(ns);
    r.options = o;
    return c.call(via, std::move(r));
}

ClientReply get_in(Cluster& c, std::uint32_t via, std::string ns, std::string key) {
    RequestOptions o;
    o.ns = std::move(ns);
    return c.get(via, std::move(key), o);
}

void install(Cluster& c, const Namespaces& all) {
    for (std::uint32_t i = 1; i <= c.members.size(); ++i) c.node(i).set_namespaces(all);
}

}  // namespace

TEST_CASE("namespaces: an lww namespace and a dvv one in one cluster", "[namespace][node]") {
    Cluster c(3, one_replica());
    NamespaceProps lww;
    lww.conflict = ConflictMode::lww;
    install(c, {{"sessions", lww}, {"carts", NamespaceProps{}}});
    // Blind writes through different coordinators: siblings in carts, one value in sessions.
    for (std::uint32_t via = 1; via <= 3; ++via) {
        REQUIRE(put_in(c, via, "sessions", "k", "s" + std::to_string(via)).code == errc::ok);
        c.advance(Duration::millis(1));
        REQUIRE(put_in(c, via, "carts", "k", "c" + std::to_string(via)).code == errc::ok);
        c.advance(Duration::millis(1));
    }
    for (std::uint32_t via = 1; via <= 3; ++via) {
        const ClientReply s = get_in(c, via, "sessions", "k");
        REQUIRE(s.code == errc::ok);
        CHECK(values(s) == std::set<std::string>{"s3"});  // the last writer
        const ClientReply k = get_in(c, via, "carts", "k");
        REQUIRE(k.code == errc::ok);
        CHECK(values(k) == std::set<std::string>{"c1", "c2", "c3"});
    }
    // The same client key in the default namespace is another key.
    CHECK(c.get(1, "k").code == errc::not_found);
    REQUIRE(c.put(1, "k", "d").code == errc::ok);
    CHECK(values(get_in(c, 2, "carts", "k")).size() == 3);
    // A namespace nobody created is refused before any replica is asked.
    CHECK(put_in(c, 1, "nope", "k", "v").code == errc::no_namespace);
    CHECK(get_in(c, 1, "nope", "k").code == errc::no_namespace);
}

TEST_CASE("namespaces: their properties are the requests' defaults", "[namespace][node]") {
    Cluster c(3, one_replica());
    NamespaceProps p;
    p.w = k_quorum_all;
    p.ttl_s = 60;
    p.max_siblings = 2;
    install(c, {{"strict", p}});
    const ClientReply w = put_in(c, 1, "strict", "k", "a");
    REQUIRE(w.code == errc::ok);
    CHECK(w.required == 3);  // w=all of n=3
    // The namespace's ttl: gone after 60 s.
    CHECK(get_in(c, 2, "strict", "k").code == errc::ok);
    c.advance(Duration::seconds(61));
    CHECK(get_in(c, 2, "strict", "k").code == errc::not_found);
    // max_siblings=2: a third concurrent value is refused.
    RequestOptions forever;
    forever.ttl_s = k_max_ttl_s;
    REQUIRE(put_in(c, 1, "strict", "s", "1", forever).code == errc::ok);
    REQUIRE(put_in(c, 1, "strict", "s", "2", forever).code == errc::ok);
    CHECK(put_in(c, 1, "strict", "s", "3", forever).code == errc::too_many_siblings);
    // n above the namespace's n is refused by the core too.
    NamespaceProps two;
    two.n = 2;
    install(c, {{"two", two}});
    RequestOptions three;
    three.n = 3;
    CHECK(put_in(c, 1, "two", "k", "v", three).code == errc::bad_request);
    const ClientReply ok = put_in(c, 1, "two", "k", "v");
    REQUIRE(ok.code == errc::ok);
    CHECK(ok.required == 2);  // w defaults to the node's 2, within n=2
}

TEST_CASE("lww: a leader stamps a write after the stamps it holds, whatever the clocks say", "[namespace][version]") {
    SiblingSet s;
    WriteOp ahead;
    ahead.value = "from a clock 30 s ahead";
    ahead.written = Time{30'000'000};
    apply_write(s, ahead, make_actor(NodeId{1}, 1), ConflictMode::lww);
    WriteOp later;
    later.value = "applied later";
    later.written = Time{1'000'000};  // the coordinator's clock is behind
    apply_write(s, later, make_actor(NodeId{2}, 1), ConflictMode::lww);
    REQUIRE(s.siblings.size() == 1);
    CHECK(s.siblings[0].value == "applied later");
    CHECK(s.siblings[0].written == Time{30'000'001});
    // dvv keeps the coordinator's stamp.
    SiblingSet d;
    apply_write(d, ahead, make_actor(NodeId{1}, 1), ConflictMode::dvv);
    apply_write(d, later, make_actor(NodeId{2}, 1), ConflictMode::dvv);
    CHECK(d.siblings.size() == 2);
    CHECK(d.siblings[1].written == Time{1'000'000});
}

namespace {

http::Routed route_of(const std::string& method, const std::string& target, const Namespaces* all = nullptr) {
    http::Request r;
    r.method = method;
    r.target = target;
    return http::route(r, Limits{}, http::RequestDefaults{}, all);
}

unsigned status_of(const http::Routed& r) {
    const auto* resp = std::get_if<http::Response>(&r);
    return resp ? resp->status : 0;
}

}  // namespace

TEST_CASE("http: /ns routes", "[namespace][http]") {
    using Op = http::NamespaceCall::Op;
    const auto call = [](const http::Routed& r) {
        const auto* c = std::get_if<http::NamespaceCall>(&r);
        REQUIRE(c != nullptr);
        return *c;
    };
    CHECK(call(route_of("GET", "/ns")).op == Op::list);
    CHECK(call(route_of("GET", "/ns/carts")).op == Op::show);
    const http::NamespaceCall create = call(route_of("POST", "/ns/sessions?conflict=lww&ttl_s=1800&r=quorum&n=3"));
    CHECK(create.op == Op::create);
    CHECK(create.name == "sessions");
    CHECK(create.props.conflict == ConflictMode::lww);
    CHECK(create.props.ttl_s == 1800);
    CHECK(create.props.r == k_quorum_majority);
    CHECK(create.props.n == 3);
    // set keeps what it does not name.
    const http::NamespaceCall set = call(route_of("PUT", "/ns/sessions?ttl_s=60"));
    NamespaceProps before;
    before.conflict = ConflictMode::lww;
    before.n = 2;
    const NamespaceProps after = http::apply_props(set, before);
    CHECK(after.conflict == ConflictMode::lww);
    CHECK(after.n == 2);
    CHECK(after.ttl_s == 60);
    // Refusals, each naming what is wrong.
    CHECK(status_of(route_of("PUT", "/ns/sessions")) == 400);  // nothing to change
    CHECK(status_of(route_of("POST", "/ns/sessions?conflict=maybe")) == 400);
    CHECK(status_of(route_of("POST", "/ns/sessions?ttl_s=-1")) == 400);
    CHECK(status_of(route_of("POST", "/ns/sessions?n=17")) == 400);
    CHECK(status_of(route_of("POST", "/ns/sessions?colour=red")) == 400);
    CHECK(status_of(route_of("POST", "/ns/sessions?n=1&n=2")) == 400);
    CHECK(status_of(route_of("POST", "/ns/Sessions")) == 400);
    CHECK(status_of(route_of("POST", "/ns/" + std::string(k_max_namespace_bytes + 1, 'a'))) == 400);
    CHECK(status_of(route_of("DELETE", "/ns/sessions")) == 405);
    CHECK(status_of(route_of("POST", "/ns")) == 405);
    CHECK(status_of(route_of("GET", "/ns/sessions/other")) == 404);
}

TEST_CASE("http: /ns/{ns}/kv/{key} names the namespace, with its defaults checked", "[namespace][http]") {
    NamespaceProps small;
    small.n = 2;
    const Namespaces all{{"small", small}};
    const auto kv = [](const http::Routed& r) {
        const auto* c = std::get_if<http::KvCall>(&r);
        REQUIRE(c != nullptr);
        return c->request;
    };
    const ClientRequest q = kv(route_of("GET", "/ns/small/kv/cart%2Falice", &all));
    CHECK(q.options.ns == "small");
    CHECK(q.key == "cart/alice");
    CHECK(kv(route_of("PUT", "/kv/k", &all)).options.ns.empty());
    // r=3 is within the node's n=3 but not the namespace's n=2.
    const http::Routed over = route_of("GET", "/ns/small/kv/k?r=3", &all);
    REQUIRE(status_of(over) == 400);
    CHECK(std::get<http::Response>(over).body == "r=3 exceeds n=2\n");
    const http::Routed wide = route_of("GET", "/ns/small/kv/k?n=3", &all);
    REQUIRE(status_of(wide) == 400);
    CHECK(std::get<http::Response>(wide).body == "n=3 exceeds the namespace's n=2\n");
    CHECK(status_of(route_of("GET", "/ns/missing/kv/k", &all)) == 404);
    CHECK(status_of(route_of("GET", "/ns/default/kv/k", &all)) == 0);  // default always exists
    CHECK(status_of(route_of("GET", "/kv/%00k", &all)) == 400);        // a key may not begin with NUL
}
