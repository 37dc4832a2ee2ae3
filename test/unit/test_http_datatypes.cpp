// Unit tests for the data-type half of the HTTP API (src/http/datatype_api.cpp):
// /ns/{ns}/dt/{key} routed into updates, refused with a clear status, and a read's
// siblings rendered as one merged value.
#include <string>
#include <variant>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "core/errc.h"
#include "core/limits.h"
#include "http/api.h"
#include "replica/codec.h"
#include "replica/datatypes.h"

using shoal::errc;
using shoal::Limits;
using shoal::http::KvCall;
using shoal::http::Request;
using shoal::http::Response;
using shoal::http::route;
using namespace shoal::replica;

namespace {

Namespaces namespaces() {
    NamespaceProps set, counter, map;
    set.datatype = "set";
    counter.datatype = "counter";
    map.datatype = "map";
    return {{"carts", set}, {"hits", counter}, {"plain", NamespaceProps{}}, {"profiles", map}};
}

shoal::http::Routed call(std::string method, std::string target, std::string body = "", std::string context = "") {
    static const Namespaces all = namespaces();
    Request r;
    r.method = std::move(method);
    r.target = std::move(target);
    r.body = std::move(body);
    r.context = std::move(context);
    return route(r, Limits{}, {}, &all);
}

unsigned status(const shoal::http::Routed& routed) {
    const auto* r = std::get_if<Response>(&routed);
    return r == nullptr ? 0 : r->status;
}

dt::Update update_of(const shoal::http::Routed& routed) {
    const auto* c = std::get_if<KvCall>(&routed);
    REQUIRE(c != nullptr);
    REQUIRE(c->request.op == ClientOp::put);
    dt::Update u;
    REQUIRE_FALSE(dt::decode(c->request.update, u));
    return u;
}

// What a GET renders of one sibling holding map state `s` (written with `dot`).
boost::json::object read_map(const dt::State& s, Dot dot) {
    ClientReply reply;
    reply.code = errc::ok;
    reply.siblings.resize(1);
    reply.siblings[0].dot = dot;
    reply.siblings[0].value = dt::encode(s);
    const Response r = shoal::http::render_datatype(dt::Type::map, ClientOp::get, reply);
    REQUIRE(r.status == 200);
    return boost::json::parse(r.body).as_object();
}

}  // namespace

TEST_CASE("http datatypes: updates are parsed from the body", "[http][datatypes]") {
    const auto one = update_of(call("POST", "/ns/carts/dt/alice", R"({"add":"apple"})"));
    CHECK(std::get<dt::SetUpdate>(one).add == std::vector<std::string>{"apple"});
    const auto many = update_of(call("POST", "/ns/carts/dt/alice?w=3", R"({"add":["a","b"]})"));
    CHECK(std::get<dt::SetUpdate>(many).add == std::vector<std::string>{"a", "b"});
    VersionVector ctx;
    ctx.raise(make_actor(shoal::NodeId{1}, 1), 4);
    const std::string token = context_to_token(ctx);
    const auto rm = update_of(call("POST", "/ns/carts/dt/alice", R"({"remove":"a","context":")" + token + "\"}"));
    CHECK(std::get<dt::SetUpdate>(rm).remove == std::vector<std::string>{"a"});
    CHECK(std::get<dt::SetUpdate>(rm).context == ctx);
    // A multi-value register is assigned strings.
    const auto assigned = update_of(call("POST", "/ns/profiles/dt/u1", R"({"assign":{"memo":"hi"}})"));
    CHECK(std::get<dt::MapUpdate>(assigned).assign == std::vector<std::pair<std::string, std::string>>{{"memo", "hi"}});
    CHECK(status(call("POST", "/ns/profiles/dt/u1", R"({"assign":{"memo":1}})")) == 400);
    // The context may come in the header instead.
    const auto rm2 = update_of(call("POST", "/ns/carts/dt/alice", R"({"remove":"a"})", token));
    CHECK(std::get<dt::SetUpdate>(rm2).context == ctx);
    CHECK(std::get<dt::CounterUpdate>(update_of(call("POST", "/ns/hits/dt/p", R"({"increment":7})"))).delta == 7);
    CHECK(std::get<dt::CounterUpdate>(update_of(call("POST", "/ns/hits/dt/p", R"({"decrement":2})"))).delta == -2);
    // A read and a delete are plain calls, rendered as the namespace's type.
    const auto get = call("GET", "/ns/carts/dt/alice");
    REQUIRE(std::holds_alternative<KvCall>(get));
    CHECK(std::get<KvCall>(get).datatype == dt::Type::set);
    const auto del = call("DELETE", "/ns/hits/dt/p");
    REQUIRE(std::holds_alternative<KvCall>(del));
    CHECK(std::get<KvCall>(del).request.op == ClientOp::del);
}

TEST_CASE("http datatypes: bad updates are refused with what is wrong", "[http][datatypes]") {
    CHECK(status(call("POST", "/ns/carts/dt/a", R"({"remove":"x"})")) == 412);  // no context
    CHECK(status(call("POST", "/ns/carts/dt/a", R"({"add":1})")) == 400);
    CHECK(status(call("POST", "/ns/carts/dt/a", R"({"add":["x",2]})")) == 400);
    CHECK(status(call("POST", "/ns/carts/dt/a", R"({"increment":1})")) == 400);  // not a counter
    CHECK(status(call("POST", "/ns/hits/dt/a", R"({"add":"x"})")) == 400);       // not a set
    CHECK(status(call("POST", "/ns/hits/dt/a", R"({"increment":1.5})")) == 400);
    CHECK(status(call("POST", "/ns/hits/dt/a", R"({"decrement":-9223372036854775808})")) == 400);
    CHECK(status(call("POST", "/ns/carts/dt/a", "not json")) == 400);
    CHECK(status(call("POST", "/ns/carts/dt/a", "{}")) == 400);
    CHECK(status(call("POST", "/ns/carts/dt/a", R"({"add":[]})")) == 400);
    CHECK(status(call("POST", "/ns/carts/dt/a", R"({"remove":"x","context":"!!"})")) == 400);
    CHECK(status(call("PUT", "/ns/carts/dt/a", R"({"add":"x"})")) == 405);
    CHECK(status(call("GET", "/ns/carts/dt/a", "body")) == 400);
    CHECK(status(call("POST", "/ns/carts/dt/a?returnbody=true", R"({"add":"x"})")) == 400);
    // A namespace of plain values has no data types.
    CHECK(status(call("GET", "/ns/plain/dt/a")) == 409);
    CHECK(status(call("GET", "/ns/nope/dt/a")) == 404);
    // Items are bounded like keys, at the edge.
    const Limits l;
    CHECK(std::holds_alternative<KvCall>(
        call("POST", "/ns/carts/dt/a", R"({"add":")" + std::string(l.max_key_bytes, 'x') + "\"}")));
    CHECK(status(call("POST", "/ns/carts/dt/a", R"({"add":")" + std::string(l.max_key_bytes + 1, 'x') + "\"}")) == 413);
}

TEST_CASE("http datatypes: a read renders the merge of its siblings", "[http][datatypes]") {
    const auto a = make_actor(shoal::NodeId{1}, 1), b = make_actor(shoal::NodeId{2}, 1);
    dt::State x = dt::empty_state(dt::Type::set), y = x;
    REQUIRE_FALSE(dt::apply(x, dt::SetUpdate{{"apple"}, {}, {}}, Dot{a, 1}));
    REQUIRE_FALSE(dt::apply(y, dt::SetUpdate{{"pear", "a \"quoted\" item"}, {}, {}}, Dot{b, 1}));
    ClientReply reply;
    reply.code = errc::ok;
    reply.siblings.resize(2);
    reply.siblings[0].dot = Dot{a, 1};
    reply.siblings[0].value = dt::encode(x);
    reply.siblings[1].dot = Dot{b, 1};
    reply.siblings[1].value = dt::encode(y);
    reply.context.raise(a, 1);
    reply.context.raise(b, 1);
    const Response r = shoal::http::render_datatype(dt::Type::set, ClientOp::get, reply);
    REQUIRE(r.status == 200);
    const auto doc = boost::json::parse(r.body).as_object();
    CHECK(doc.at("type") == "set");
    CHECK(doc.at("value") == boost::json::array{"a \"quoted\" item", "apple", "pear"});
    CHECK(doc.at("context").as_string() == context_to_token(reply.context));
    // A plain value where a set should be: 409, not a crash or a guess.
    reply.siblings[1].value = "plain";
    CHECK(shoal::http::render_datatype(dt::Type::set, ClientOp::get, reply).status == 409);
    // Nothing stored: 404; a write: 204.
    reply.siblings.clear();
    CHECK(shoal::http::render_datatype(dt::Type::set, ClientOp::get, reply).status == 404);
    const Response written = shoal::http::render_datatype(dt::Type::set, ClientOp::put, reply);
    CHECK(written.status == 204);
    // A write hands back no context: only a read's may be used to remove.
    for (const auto& [name, value] : written.headers) CHECK(name != shoal::http::k_context_header);
}

TEST_CASE("http datatypes: maps take fields set, removed, incremented, enabled and disabled", "[http][datatypes]") {
    const auto u = update_of(call("POST", "/ns/profiles/dt/u1",
                                  R"({"set":{"name":"alice","theme":"dark"},"remove":"old","increment":{"visits":2},)"
                                  R"("enable":"vip","disable":["trial"]})"));
    const auto& m = std::get<dt::MapUpdate>(u);
    CHECK(m.set == std::vector<std::pair<std::string, std::string>>{{"name", "alice"}, {"theme", "dark"}});
    CHECK(m.remove == std::vector<std::string>{"old"});
    CHECK(m.increment == std::vector<std::pair<std::string, std::int64_t>>{{"visits", 2}});
    CHECK(m.flag == std::vector<std::pair<std::string, bool>>{{"vip", true}, {"trial", false}});
    CHECK(status(call("POST", "/ns/profiles/dt/u1", R"({"enable":{"vip":true}})")) == 400);
    CHECK(status(call("POST", "/ns/profiles/dt/u1", R"({"set":{"name":1}})")) == 400);
    CHECK(status(call("POST", "/ns/profiles/dt/u1", R"({"increment":{"v":"x"}})")) == 400);
    CHECK(status(call("POST", "/ns/profiles/dt/u1", R"({"add":"x"})")) == 400);
    CHECK(status(call("POST", "/ns/profiles/dt/u1", R"({"set":{}})")) == 400);
    CHECK(status(call("POST", "/ns/profiles/dt/u1", R"({"set":{"":"v"}})")) == 400);
    // A read renders the live fields: registers as strings, counters as numbers.
    const auto a = make_actor(shoal::NodeId{1}, 1);
    dt::State s = dt::empty_state(dt::Type::map);
    REQUIRE_FALSE(dt::apply(s, m, Dot{a, 1}, shoal::Time{5}));
    REQUIRE_FALSE(dt::apply(s, dt::MapUpdate{{}, {"theme"}, {}}, Dot{a, 2}, shoal::Time{6}));
    const auto doc = read_map(s, Dot{a, 2});
    CHECK(doc.at("type") == "map");
    CHECK(doc.at("value") == boost::json::object{{"name", "alice"}, {"visits", 2}, {"vip", true}, {"trial", false}});
}

TEST_CASE("http datatypes: maps take set fields and nested maps, at most k_max_map_depth deep", "[http][datatypes]") {
    const auto a = make_actor(shoal::NodeId{1}, 1);
    VersionVector read;
    read.raise(Dot{a, 3});
    const std::string ctx = context_to_token(read);
    const auto u = update_of(call("POST", "/ns/profiles/dt/u1",
                                  R"({"add":{"cart":["apple","pear"],"tags":"new"},"discard":{"cart":"fig"},)"
                                  R"("update":{"address":{"set":{"city":"Lyon"},"update":{"geo":{"add":{"pins":"x"}}}}},)"
                                  R"("context":")" + ctx + R"("})"));
    const auto& m = std::get<dt::MapUpdate>(u);
    using Lists = std::vector<std::pair<std::string, std::vector<std::string>>>;
    CHECK(m.add == Lists{{"cart", {"apple", "pear"}}, {"tags", {"new"}}});
    CHECK(m.discard == Lists{{"cart", {"fig"}}});
    CHECK(m.context == read);
    REQUIRE(m.update.size() == 1);
    CHECK(m.update[0].name == "address");
    CHECK(m.update[0].update.set == std::vector<std::pair<std::string, std::string>>{{"city", "Lyon"}});
    REQUIRE(m.update[0].update.update.size() == 1);
    CHECK(m.update[0].update.update[0].update.add == Lists{{"pins", {"x"}}});
    // A multi-value register is assigned strings.
    const auto assigned = update_of(call("POST", "/ns/profiles/dt/u1", R"({"assign":{"memo":"hi"}})"));
    CHECK(std::get<dt::MapUpdate>(assigned).assign == std::vector<std::pair<std::string, std::string>>{{"memo", "hi"}});
    CHECK(status(call("POST", "/ns/profiles/dt/u1", R"({"assign":{"memo":1}})")) == 400);
    // The context may come in the header instead.
    const auto h = update_of(call("POST", "/ns/profiles/dt/u1", R"({"discard":{"cart":"fig"}})", ctx));
    CHECK(std::get<dt::MapUpdate>(h).context == read);
    // A discard without a context: 412; a context inside a nested update: 400.
    CHECK(status(call("POST", "/ns/profiles/dt/u1", R"({"discard":{"cart":"fig"}})")) == 412);
    CHECK(status(call("POST", "/ns/profiles/dt/u1", R"({"update":{"m":{"context":"x","set":{"a":"b"}}}})")) == 400);
    CHECK(status(call("POST", "/ns/profiles/dt/u1", R"({"add":{"cart":[]}})")) == 400);
    CHECK(status(call("POST", "/ns/profiles/dt/u1", R"({"add":{"cart":[1]}})")) == 400);
    CHECK(status(call("POST", "/ns/profiles/dt/u1", R"({"update":{"m":{}}})")) == 400);
    // Depth: fields at k_max_map_depth are accepted, one deeper refused.
    std::string deepest = R"({"add":{"c":"x"}})";
    for (std::size_t d = 1; d < dt::k_max_map_depth; ++d) deepest = R"({"update":{"m":)" + deepest + "}}";
    CHECK(status(call("POST", "/ns/profiles/dt/u1", deepest)) == 0);
    CHECK(status(call("POST", "/ns/profiles/dt/u1", R"({"update":{"m":)" + deepest + "}}")) == 400);
    // A read renders sets as arrays and nested maps as objects; empty ones are left out.
    dt::State s = dt::empty_state(dt::Type::map);
    dt::MapUpdate w;
    w.add.emplace_back("cart", std::vector<std::string>{"apple", "pe\"ar"});
    w.add.emplace_back("gone", std::vector<std::string>{"x"});
    w.update.push_back(dt::NestedMapUpdate{"address", {}});
    w.update[0].update.set.emplace_back("city", "Lyon");
    REQUIRE_FALSE(dt::apply(s, w, Dot{a, 1}, shoal::Time{5}));
    dt::MapUpdate drop;
    drop.remove.push_back("gone");
    drop.context = std::get<dt::Map>(s).seen;
    REQUIRE_FALSE(dt::apply(s, drop, Dot{a, 2}, shoal::Time{6}));
    const auto doc = read_map(s, Dot{a, 2});
    CHECK(doc.at("value") == boost::json::object{{"address", boost::json::object{{"city", "Lyon"}}},
                                                 {"cart", boost::json::array{"apple", "pe\"ar"}}});
}
