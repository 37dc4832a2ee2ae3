// Unit tests for the HTTP API's pure half (src/http/api.h): route() and render(),
// without sockets.
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "core/errc.h"
#include "core/limits.h"
#include "http/api.h"
#include "replica/codec.h"
#include "replica/messages.h"
#include "replica/version.h"

using shoal::errc;
using shoal::Limits;
using shoal::http::Admin;
using shoal::http::KvCall;
using shoal::http::render;
using shoal::http::RequestDefaults;
using shoal::http::Request;
using shoal::http::Response;
using shoal::http::route;
using shoal::http::Routed;
using shoal::replica::ClientOp;
using shoal::replica::ClientReply;
using shoal::replica::Sibling;
using shoal::replica::VersionVector;

namespace {

Request req(std::string method, std::string target, std::string body = {}, std::string context = {}) {
    return Request{std::move(method), std::move(target), std::move(context), std::move(body)};
}

// The KvCall a request routes to; fails the test if it routes elsewhere.
shoal::replica::ClientRequest call_of(const Request& request, const Limits& limits = {},
                                      const RequestDefaults& defaults = {}) {
    Routed routed = route(request, limits, defaults);
    if (auto* r = std::get_if<Response>(&routed)) {
        INFO(request.method << " " << request.target << " -> " << r->status << " " << r->body);
        FAIL("expected a KvCall");
    }
    REQUIRE(std::holds_alternative<KvCall>(routed));
    return std::get<KvCall>(routed).request;
}

// The Response a request routes to; fails the test if it routes to a call.
Response response_of(const Request& request, const Limits& limits = {}) {
    Routed routed = route(request, limits);
    INFO(request.method << " " << request.target);
    REQUIRE(std::holds_alternative<Response>(routed));
    return std::get<Response>(routed);
}

std::optional<std::string> header(const Response& r, std::string_view name) {
    for (const auto& [k, v] : r.headers) {
        if (k == name) return v;
    }
    return std::nullopt;
}

void check_bad(const Request& request, unsigned status, const std::string& body) {
    const Response r = response_of(request);
    CHECK(r.status == status);
    CHECK(r.body == body);
}

VersionVector some_context() {
    VersionVector vv;
    vv.raise(shoal::replica::make_actor(shoal::NodeId{1}, 1), 3);
    vv.raise(shoal::replica::make_actor(shoal::NodeId{2}, 7), 5);
    return vv;
}

Sibling sibling(std::string value, std::uint64_t counter) {
    Sibling s;
    s.dot = {shoal::replica::make_actor(shoal::NodeId{1}, 1), counter};
    s.value = std::move(value);
    return s;
}

ClientReply reply_with(errc code, std::uint32_t replies = 0, std::uint32_t required = 0) {
    ClientReply r;
    r.code = code;
    r.replies = replies;
    r.required = required;
    return r;
}

}  // namespace

// ---- route: paths and keys ---------------------------------------------------------------

TEST_CASE("route: /kv/{key} is percent-decoded, slashes allowed either way", "[http]") {
    const auto a = call_of(req("GET", "/kv/cart%2Falice"));
    CHECK(a.op == ClientOp::get);
    CHECK(a.key == "cart/alice");
    const auto b = call_of(req("GET", "/kv/cart/alice"));
    CHECK(b.key == "cart/alice");
    CHECK(call_of(req("GET", "/kv/%2f%2F")).key == "//");
    CHECK(call_of(req("GET", "/kv/a+b%20c")).key == "a+b c");  // '+' is literal in a path
    CHECK(call_of(req("GET", "/kv/k%00%ff")).key == std::string("k\0\xff", 3));  // binary keys, but not a leading NUL
    CHECK(call_of(req("GET", "/kv/x?")).key == "x");
}

TEST_CASE("route: bad percent escapes are 400", "[http]") {
    for (const char* target : {"/kv/a%", "/kv/a%4", "/kv/a%zz", "/kv/a%4g", "/kv/%%41", "/kv/%G1?r=1"}) {
        INFO(target);
        check_bad(req("GET", target), 400, "invalid percent-encoding in key\n");
    }
}

TEST_CASE("route: empty key is 400, unknown path is 404", "[http]") {
    check_bad(req("GET", "/kv/"), 400, "empty key\n");
    check_bad(req("PUT", "/kv", "v"), 400, "empty key\n");
    check_bad(req("GET", "/"), 404, "no such path: /\n");
    check_bad(req("GET", "/kvx/a"), 404, "no such path: /kvx/a\n");
    check_bad(req("GET", "/cluster/"), 404, "no such path: /cluster/\n");
    check_bad(req("GET", "/nope?x=1"), 404, "no such path: /nope\n");
    // Client input echoed in a message is bounded and printable.
    const Response r = response_of(req("GET", "/\x01" + std::string(100, 'a')));
    CHECK(r.status == 404);
    CHECK(r.body == "no such path: /?" + std::string(62, 'a') + "...\n");
}

TEST_CASE("route: methods", "[http]") {
    CHECK(call_of(req("GET", "/kv/k")).op == ClientOp::get);
    const auto put = call_of(req("PUT", "/kv/k", "value"));
    CHECK(put.op == ClientOp::put);
    CHECK(put.value == "value");
    CHECK(call_of(req("DELETE", "/kv/k")).op == ClientOp::del);
    CHECK(call_of(req("HEAD", "/kv/k")).op == ClientOp::get);  // the server drops the body

    for (const char* method : {"POST", "PATCH", "get", "OPTIONS"}) {
        INFO(method);
        const Response r = response_of(req(method, "/kv/k"));
        CHECK(r.status == 405);
        CHECK(r.body == std::string("method ") + method + " not allowed on /kv/{key}\n");
        CHECK(header(r, "Allow") == "GET, HEAD, PUT, DELETE");
    }
    const Response r = response_of(req("PUT", "/health"));
    CHECK(r.status == 405);
    CHECK(header(r, "Allow") == "GET, HEAD");
}

TEST_CASE("route: GET and DELETE take no body", "[http]") {
    check_bad(req("GET", "/kv/k", "x"), 400, "GET takes no body\n");
    check_bad(req("DELETE", "/kv/k", "x"), 400, "DELETE takes no body\n");
}

TEST_CASE("route: admin paths", "[http]") {
    auto admin_of = [](const Request& r) {
        Routed routed = route(r, Limits{});
        REQUIRE(std::holds_alternative<Admin>(routed));
        return std::get<Admin>(routed);
    };
    CHECK(admin_of(req("GET", "/cluster")) == Admin::cluster);
    CHECK(admin_of(req("GET", "/metrics")) == Admin::metrics);
    CHECK(admin_of(req("GET", "/health")) == Admin::health);
    CHECK(admin_of(req("GET", "/health?")) == Admin::health);
    check_bad(req("GET", "/metrics?r=1"), 400, "/metrics takes no parameters\n");
}

// ---- route: query parameters --------------------------------------------------------------

TEST_CASE("route: read options", "[http]") {
    const auto c = call_of(req("GET", "/kv/k?r=2&pr=1&n=3&timeout_ms=500&"));
    CHECK(c.options.r == 2);
    CHECK(c.options.pr == 1);
    CHECK(c.options.n == 3);
    CHECK(c.options.timeout_ms == 500);
    CHECK(c.options.w == 0);
    CHECK(c.options.ttl_s == 0);
}

TEST_CASE("route: write options", "[http]") {
    const auto p = call_of(req("PUT", "/kv/k?w=2&pw=1&dw=2&ttl_s=60&n=3&timeout_ms=100", "v"));
    CHECK(p.options.w == 2);
    CHECK(p.options.pw == 1);
    CHECK(p.options.dw == 2);
    CHECK(p.options.ttl_s == 60);
    CHECK(p.options.n == 3);
    CHECK(p.options.timeout_ms == 100);
    const auto d = call_of(req("DELETE", "/kv/k?w=3&&pw=0"));
    CHECK(d.options.w == 3);
    CHECK(d.options.pw == 0);
}

TEST_CASE("route: unknown, misplaced and duplicate parameters are 400 naming them", "[http]") {
    check_bad(req("GET", "/kv/k?foo=1"), 400, "unknown parameter: foo\n");
    check_bad(req("GET", "/kv/k?R=1"), 400, "unknown parameter: R\n");
    check_bad(req("GET", "/kv/k?r=1&=2"), 400, "unknown parameter: \n");
    check_bad(req("GET", "/kv/k?ttl_s=5"), 400, "parameter ttl_s does not apply to GET\n");
    check_bad(req("GET", "/kv/k?w=1"), 400, "parameter w does not apply to GET\n");
    check_bad(req("PUT", "/kv/k?r=1", "v"), 400, "parameter r does not apply to PUT\n");
    check_bad(req("DELETE", "/kv/k?ttl_s=1"), 400, "parameter ttl_s does not apply to DELETE\n");
    check_bad(req("DELETE", "/kv/k?pr=1"), 400, "parameter pr does not apply to DELETE\n");
    check_bad(req("GET", "/kv/k?r=1&r=2"), 400, "duplicate parameter: r\n");
}

TEST_CASE("route: parameter values are strict non-negative integers within bounds", "[http]") {
    for (const char* value : {"", "-1", "+1", "1x", "0x1", " 1", "1.0", "1e3", "%31"}) {
        INFO("r=" << value);
        check_bad(req("GET", std::string("/kv/k?r=") + value), 400,
                  "parameter r must be a non-negative integer, one, quorum or all\n");
    }
    check_bad(req("GET", "/kv/k?r"), 400, "parameter r must be a non-negative integer, one, quorum or all\n");
    check_bad(req("GET", "/kv/k?timeout_ms=x"), 400, "parameter timeout_ms must be a non-negative integer\n");
    check_bad(req("GET", "/kv/k?r=17"), 400, "parameter r out of range (at most 16)\n");
    check_bad(req("GET", "/kv/k?n=99999999999999999999999"), 400, "parameter n out of range (at most 16)\n");
    check_bad(req("GET", "/kv/k?timeout_ms=3600001"), 400, "parameter timeout_ms out of range (at most 3600000)\n");
    check_bad(req("PUT", "/kv/k?ttl_s=315360001", "v"), 400, "parameter ttl_s out of range (at most 315360000)\n");
    const RequestDefaults wide{16, 2, 2, 3600000};
    CHECK(call_of(req("GET", "/kv/k?r=16&n=016"), {}, wide).options.n == 16);
    CHECK(call_of(req("GET", "/kv/k?timeout_ms=3600000"), {}, wide).options.timeout_ms == 3600000);
    CHECK(call_of(req("PUT", "/kv/k?ttl_s=315360000", "v")).options.ttl_s == 315360000);
    // 0 would silently mean "the default": refused where it is not a real count.
    check_bad(req("GET", "/kv/k?r=0"), 400, "parameter r must be at least 1 (leave it out for the default)\n");
    check_bad(req("PUT", "/kv/k?w=0", "v"), 400, "parameter w must be at least 1 (leave it out for the default)\n");
    check_bad(req("GET", "/kv/k?n=0"), 400, "parameter n must be at least 1 (leave it out for the default)\n");
    CHECK(call_of(req("GET", "/kv/k?pr=0")).options.pr == 0);  // none required: a real value
}

TEST_CASE("route: quorums by name and returnbody", "[http]") {
    CHECK(call_of(req("GET", "/kv/k?r=one")).options.r == shoal::replica::k_quorum_one);
    CHECK(call_of(req("GET", "/kv/k?r=all&pr=quorum")).options.pr == shoal::replica::k_quorum_majority);
    CHECK(call_of(req("PUT", "/kv/k?w=all&pw=quorum", "v")).options.w == shoal::replica::k_quorum_all);
    CHECK(call_of(req("PUT", "/kv/k?w=all&pw=quorum", "v")).options.pw == shoal::replica::k_quorum_majority);
    check_bad(req("GET", "/kv/k?n=all"), 400, "parameter n must be a non-negative integer\n");
    check_bad(req("GET", "/kv/k?r=most"), 400, "parameter r must be a non-negative integer, one, quorum or all\n");
    CHECK(call_of(req("PUT", "/kv/k?returnbody=true", "v")).options.return_body);
    CHECK_FALSE(call_of(req("PUT", "/kv/k?returnbody=false", "v")).options.return_body);
    check_bad(req("PUT", "/kv/k?returnbody=1", "v"), 400, "parameter returnbody must be true or false\n");
    check_bad(req("GET", "/kv/k?returnbody=true"), 400, "parameter returnbody applies to PUT only\n");
}

// ---- route: limits and context ------------------------------------------------------------

TEST_CASE("route: key and value limits give 413", "[http]") {
    Limits limits;
    limits.max_key_bytes = 8;
    limits.max_value_bytes = 10;
    CHECK(call_of(req("GET", "/kv/12345678"), limits).key == "12345678");
    CHECK(call_of(req("GET", "/kv/%41%42%43%44%45%46%47%48"), limits).key == "ABCDEFGH");  // decoded size counts

    Response r = response_of(req("GET", "/kv/123456789"), limits);
    CHECK(r.status == 413);
    CHECK(r.body == "key too large: 9 bytes, limit 8\n");

    CHECK(call_of(req("PUT", "/kv/k", std::string(10, 'v')), limits).value == std::string(10, 'v'));
    CHECK(call_of(req("PUT", "/kv/k", ""), limits).value.empty());
    r = response_of(req("PUT", "/kv/k", std::string(11, 'v')), limits);
    CHECK(r.status == 413);
    CHECK(r.body == "value too large: 11 bytes, limit 10\n");

    // Default limits: 1 KiB keys.
    CHECK(response_of(req("GET", "/kv/" + std::string(1025, 'k'))).status == 413);
    CHECK(call_of(req("GET", "/kv/" + std::string(1024, 'k'))).key.size() == 1024);
}

TEST_CASE("route: X-Shoal-Context is decoded for writes, bad ones are 400", "[http]") {
    const VersionVector vv = some_context();
    const std::string token = shoal::replica::context_to_token(vv);
    CHECK(call_of(req("PUT", "/kv/k", "v", token)).context == vv);
    CHECK(call_of(req("DELETE", "/kv/k", "", token)).context == vv);
    CHECK(call_of(req("GET", "/kv/k", "", token)).context.empty());  // reads carry none
    CHECK(call_of(req("PUT", "/kv/k", "v")).context.empty());        // blind write

    for (const std::string& bad :
         {std::string("!!!"), std::string("AAAA"), token.substr(0, token.size() - 1) + "*", token + "A"}) {
        INFO(bad);
        check_bad(req("PUT", "/kv/k", "v", bad), 400, "invalid X-Shoal-Context\n");
        check_bad(req("GET", "/kv/k", "", bad), 400, "invalid X-Shoal-Context\n");
    }
}

// ---- render ---------------------------------------------------------------------------------

TEST_CASE("render: one sibling is 200 with the raw bytes and the context", "[http]") {
    ClientReply reply = reply_with(errc::ok, 2, 2);
    const std::string bytes("bin\0\xff\n", 6);
    reply.siblings.push_back(sibling(bytes, 1));
    reply.context = some_context();
    const Response r = render(ClientOp::get, reply);
    CHECK(r.status == 200);
    CHECK(r.content_type == "application/octet-stream");
    CHECK(r.body == bytes);
    CHECK(header(r, "X-Shoal-Context") == shoal::replica::context_to_token(reply.context));
    CHECK(header(r, "X-Shoal-Replies") == "2");
}

TEST_CASE("render: several siblings are 300 with a JSON list", "[http]") {
    ClientReply reply = reply_with(errc::ok, 3, 2);
    const std::vector<std::string> values = {
        "f",
        "fo",
        "foo",
        "foob",
        "",                                                // base64 padding cases
        "say \"hi\"\\\n\t\x01 \xc3\xa9 \xf0\x9f\x90\x9f",  // escapes, 2- and 4-byte UTF-8
        std::string("\xff\x00", 2),
        "\xc0\xaf",
        "\xed\xa0\x80",  // invalid: byte, overlong, surrogate
        "\xf4\x90\x80\x80",
        "\xe2\x82",  // invalid: > U+10FFFF, truncated
    };
    for (std::size_t i = 0; i < values.size(); ++i) reply.siblings.push_back(sibling(values[i], i + 1));
    reply.context = some_context();
    const Response r = render(ClientOp::get, reply);
    CHECK(r.status == 300);
    CHECK(r.content_type == "application/json");
    CHECK(header(r, "X-Shoal-Context") == shoal::replica::context_to_token(reply.context));
    CHECK(header(r, "X-Shoal-Replies") == "3");

    boost::json::error_code ec;
    const boost::json::value doc = boost::json::parse(r.body, ec);
    REQUIRE_FALSE(ec);
    const boost::json::array& list = doc.at("siblings").as_array();
    REQUIRE(list.size() == values.size());
    const std::vector<std::string> base64 = {"Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "",    "c2F5ICJoaSJcCgkBIMOpIPCfkJ8=",
                                             "/wA=", "wK8=", "7aCA", "9JCAgA==", "4oI="};
    for (std::size_t i = 0; i < values.size(); ++i) {
        INFO(i);
        const boost::json::object& s = list[i].as_object();
        CHECK(s.at("value").as_string() == base64[i]);
        CHECK(s.size() == 2);  // one encoding of the value, and its time
        CHECK(s.contains("last_modified_ms"));
    }
    CHECK(r.body.starts_with("{\"siblings\":[{\"value\":\"Zg==\","));
}

TEST_CASE("render: each sibling says when it was written and, expiring, the seconds it has left", "[http]") {
    ClientReply reply = reply_with(errc::ok, 2, 2);
    reply.siblings.push_back(shoal::replica::Sibling{shoal::replica::Dot{1, 1}, false, "a", shoal::Time{5'000'000},
                                                     shoal::Time{0}});
    reply.siblings.push_back(shoal::replica::Sibling{shoal::replica::Dot{1, 2}, false, "b", shoal::Time{6'000'000},
                                                     shoal::Time{100'500'000}});
    const Response r = render(ClientOp::get, reply, shoal::Time{10'000'000});
    REQUIRE(r.status == 300);
    CHECK(r.body == "{\"siblings\":[{\"value\":\"YQ==\",\"last_modified_ms\":5000},"
                    "{\"value\":\"Yg==\",\"last_modified_ms\":6000,\"expires_in_s\":91}]}");
    reply.siblings.erase(reply.siblings.begin());
    const Response one = render(ClientOp::get, reply, shoal::Time{10'000'000});
    REQUIRE(one.status == 200);
    CHECK(header(one, "X-Shoal-Last-Modified-Ms") == "6000");
    CHECK(header(one, "X-Shoal-Expires-In-S") == "91");
}

TEST_CASE("render: the siblings JSON is 4/3 of the values and a few bytes a sibling, whatever the bytes",
          "[http][regress]") {
    // (regress: beside the base64, an escaped copy made control characters 6x their size:
    // 8 HTTP clients that never read a 61 MB body held 525 MB.)
    ClientReply reply = reply_with(errc::ok, 2, 2);
    std::size_t values = 0;
    for (int i = 0; i < 64; ++i) {
        const std::string v(1000 + i, static_cast<char>(i % 32));  // control characters
        values += v.size();
        reply.siblings.push_back(
            shoal::replica::Sibling{shoal::replica::Dot{1, static_cast<std::uint64_t>(i + 1)}, false, v, shoal::Time{1}, shoal::Time{0}});
    }
    const Response r = render(ClientOp::get, reply);
    REQUIRE(r.status == 300);
    // Per sibling: the base64 padding, {"value":"", and ,"last_modified_ms": with up to
    // 20 digits and }: 3 + 11 + 40.
    CHECK(r.body.size() <= (values + 2) * 4 / 3 + 64 * (3 + 11 + 40) + 16);
}

TEST_CASE("render: not found is 404, with the context so a writer can supersede a tombstone", "[http]") {
    ClientReply reply = reply_with(errc::not_found, 2, 2);
    Response r = render(ClientOp::get, reply);
    CHECK(r.status == 404);
    CHECK(r.body == "not found\n");
    CHECK_FALSE(header(r, "X-Shoal-Context"));
    CHECK(header(r, "X-Shoal-Replies") == "2");

    reply.context = some_context();
    r = render(ClientOp::get, reply);
    CHECK(r.status == 404);
    CHECK(header(r, "X-Shoal-Context") == shoal::replica::context_to_token(reply.context));

    // ok without a live sibling reads as absent too
    r = render(ClientOp::get, reply_with(errc::ok, 1, 1));
    CHECK(r.status == 404);
}

TEST_CASE("render: writes done are 204 with no body", "[http]") {
    for (ClientOp op : {ClientOp::put, ClientOp::del}) {
        const Response r = render(op, reply_with(errc::ok, 2, 2));
        CHECK(r.status == 204);
        CHECK(r.body.empty());
        CHECK(header(r, "X-Shoal-Replies") == "2");
    }
}

TEST_CASE("render: unavailable outcomes are 503 with the replies counted", "[http]") {
    Response r = render(ClientOp::get, reply_with(errc::quorum_not_met, 1, 2));
    CHECK(r.status == 503);
    CHECK(r.body == "quorum not met: 1 of 2 replicas replied\n");
    CHECK(header(r, "X-Shoal-Replies") == "1");

    r = render(ClientOp::put, reply_with(errc::quorum_not_met, 0, 3));
    CHECK(r.status == 503);
    CHECK(r.body == "quorum not met: 0 of 3 replicas replied\n");
    CHECK(header(r, "X-Shoal-Replies") == "0");

    r = render(ClientOp::del, reply_with(errc::timeout, 1, 2));
    CHECK(r.status == 503);
    CHECK(r.body == "timeout: 1 of 2 replicas replied\n");

    ClientReply down = reply_with(errc::unavailable, 1, 2);
    down.primaries = 3;
    down.primaries_down = 2;
    r = render(ClientOp::get, down);
    CHECK(r.status == 503);
    CHECK(r.body == "unavailable: 2 of 3 primaries known down, 1 node to ask where 2 are needed (no replica was asked)\n");

    r = render(ClientOp::put, reply_with(errc::overloaded));
    CHECK(r.status == 503);
    CHECK(r.body == "overloaded: try again later\n");
    CHECK(header(r, "Retry-After") == "1");

    r = render(ClientOp::get, reply_with(errc::shutting_down));
    CHECK(r.status == 503);
    CHECK(r.body == "shutting down\n");
}

TEST_CASE("render: client errors and store errors", "[http]") {
    struct Case {
        errc code;
        unsigned status;
        const char* body;
    };
    const Case cases[] = {
        {errc::too_many_siblings, 409, "too many siblings: read the key and write with its context to resolve them\n"},
        {errc::key_too_large, 413, "key too large\n"},
        {errc::value_too_large, 413, "value too large\n"},
        {errc::bad_request, 400,
         "bad request: options out of range (n at most the node's n; r, w at most n; pr at most r; pw, dw at most "
         "w; timeout_ms at most the node's limit), or an empty key\n"},
        {errc::bad_context, 400, "invalid X-Shoal-Context\n"},
        {errc::store_error, 500, "store error\n"},
        {errc::corrupt, 500, "corrupt stored data\n"},
    };
    for (const Case& c : cases) {
        for (ClientOp op : {ClientOp::get, ClientOp::put, ClientOp::del}) {
            INFO(shoal::errc_name(c.code) << " op " << static_cast<int>(op));
            const Response r = render(op, reply_with(c.code, 1, 2));
            CHECK(r.status == c.status);
            CHECK(r.body == c.body);
            CHECK(header(r, "X-Shoal-Replies") == "1");
        }
    }
}

TEST_CASE("route: membership commands are POSTs with validated parameters", "[http]") {
    using shoal::http::MembershipCall;
    const auto call = [](const std::string& target) {
        Routed routed = route(req("POST", target), Limits{});
        INFO(target);
        REQUIRE(std::holds_alternative<MembershipCall>(routed));
        return std::get<MembershipCall>(routed);
    };
    const auto join = call("/cluster/join?seed=127.0.0.1:7111&seed=127.0.0.1:7121");
    CHECK(join.op == MembershipCall::Op::join);
    CHECK(join.seeds == std::vector<std::string>{"127.0.0.1:7111", "127.0.0.1:7121"});
    const auto leave_self = call("/cluster/leave");
    CHECK(leave_self.op == MembershipCall::Op::leave);
    CHECK(leave_self.node == 0);
    CHECK(call("/cluster/leave?node=4").node == 4);
    const auto remove = call("/cluster/remove?node=4294967295");
    CHECK(remove.op == MembershipCall::Op::remove);
    CHECK(remove.node == 4294967295u);

    CHECK(response_of(req("GET", "/cluster/join?seed=a:1")).status == 405);
    CHECK(response_of(req("POST", "/cluster/join")).status == 400);             // no seed
    CHECK(response_of(req("POST", "/cluster/join?seed=")).status == 400);       // empty seed
    CHECK(response_of(req("POST", "/cluster/join?node=3")).status == 400);      // not a join parameter
    CHECK(response_of(req("POST", "/cluster/remove")).status == 400);           // remove needs a node
    CHECK(response_of(req("POST", "/cluster/remove?node=0")).status == 400);    // not an id
    CHECK(response_of(req("POST", "/cluster/remove?node=4294967296")).status == 400);
    CHECK(response_of(req("POST", "/cluster/leave?node=2&node=3")).status == 400);
    CHECK(response_of(req("POST", "/cluster/leave?node=x")).status == 400);
    CHECK(response_of(req("POST", "/cluster/leave?seed=a:1")).status == 400);
    std::string many = "/cluster/join?seed=a:1";
    for (std::size_t i = 0; i < shoal::http::k_max_seeds; ++i) many += "&seed=b:" + std::to_string(i + 2);
    CHECK(response_of(req("POST", many)).status == 400);
    CHECK(response_of(req("POST", "/cluster/join?seed=" + std::string(300, 'h') + ":1")).status == 400);
}

TEST_CASE("route: a 400 names the bound a request breaks, with the node's defaults", "[http]") {
    const RequestDefaults d{3, 2, 2, 60000};
    const auto bad = [&](const Request& r, const std::string& body) {
        const Routed routed = route(r, {}, d);
        REQUIRE(std::holds_alternative<Response>(routed));
        CHECK(std::get<Response>(routed).status == 400);
        CHECK(std::get<Response>(routed).body == body + "\n");
    };
    bad(req("GET", "/kv/k?r=4"), "r=4 exceeds n=3");
    bad(req("GET", "/kv/k?n=2&r=3"), "r=3 exceeds n=2");
    bad(req("GET", "/kv/k?n=5"), "n=5 exceeds the node's n=3");
    bad(req("GET", "/kv/k?pr=3"), "pr=3 exceeds r=2");  // r is the node's default
    bad(req("GET", "/kv/k?r=quorum&pr=all"), "pr=3 exceeds r=2");
    bad(req("PUT", "/kv/k?pw=3", "v"), "pw=3 exceeds w=2");
    bad(req("PUT", "/kv/k?w=1&dw=2", "v"), "dw=2 exceeds w=1");
    bad(req("GET", "/kv/k?timeout_ms=60001"), "timeout_ms=60001 exceeds the node's limit of 60000");
    CHECK(call_of(req("GET", "/kv/k?n=2&r=all&pr=2"), {}, d).options.n == 2);
    CHECK(call_of(req("PUT", "/kv/k?w=all&pw=all", "v"), {}, d).options.pw == shoal::replica::k_quorum_all);
}

TEST_CASE("route: conditional writes from If-None-Match and If-Match", "[http]") {
    using shoal::replica::WriteCondition;
    Request create = req("PUT", "/kv/k", "v");
    create.if_none_match = "*";
    CHECK(call_of(create).options.condition == WriteCondition::if_none_match);
    create.if_none_match = "\"abc\"";
    check_bad(create, 400, "If-None-Match takes only *: create if nothing is stored\n");

    shoal::replica::VersionVector vv;
    vv.raise(shoal::replica::ActorId{7}, 3);
    const std::string token = shoal::replica::context_to_token(vv);
    Request match = req("PUT", "/kv/k", "v");
    match.if_match = "\"" + token + "\"";
    const auto call = call_of(match);
    CHECK(call.options.condition == WriteCondition::if_match);
    CHECK(call.context == vv);
    match.if_match = "junk";
    check_bad(match, 400, "If-Match takes the X-Shoal-Context of a read\n");
    match.if_match = token;
    match.if_none_match = "*";
    check_bad(match, 400, "If-Match and If-None-Match exclude each other\n");

    Request del = req("DELETE", "/kv/k");
    del.if_none_match = "*";
    check_bad(del, 400, "If-None-Match: * applies to PUT only\n");
    Request get = req("GET", "/kv/k");
    get.if_none_match = "*";  // no entity tags on reads: ignored
    CHECK(call_of(get).options.condition == WriteCondition::none);
}

TEST_CASE("render: a failed condition is 412", "[http]") {
    const Response r = render(ClientOp::put, reply_with(errc::precondition_failed));
    CHECK(r.status == 412);
}

TEST_CASE("route and render: a PUT's Content-Type is stored and given back", "[http]") {
    Request put = req("PUT", "/kv/doc", "{}");
    put.content_type = "application/json; charset=utf-8";
    CHECK(call_of(put).content_type == "application/json; charset=utf-8");
    put.content_type = std::string(shoal::k_max_content_type_bytes, 't');
    CHECK(call_of(put).content_type.size() == shoal::k_max_content_type_bytes);
    for (std::string bad : {std::string(shoal::k_max_content_type_bytes + 1, 't'), std::string("text/\"x\""),
                            std::string("a\\b"), std::string("t\x01")}) {
        put.content_type = bad;
        const Routed r = route(put, Limits{});
        REQUIRE(std::holds_alternative<Response>(r));
        CHECK(std::get<Response>(r).status == 400);
    }
    ClientReply one;
    one.siblings.push_back(Sibling{{1, 1}, false, "{}", shoal::Time{5000}, shoal::Time{0}, "application/json"});
    CHECK(render(ClientOp::get, one).content_type == "application/json");
    one.siblings[0].content_type.clear();
    CHECK(render(ClientOp::get, one).content_type == "application/octet-stream");
    one.siblings.push_back(Sibling{{1, 2}, false, "x", shoal::Time{6000}, shoal::Time{0}, "text/plain"});
    const Response several = render(ClientOp::get, one);
    REQUIRE(several.status == 300);
    const auto doc = boost::json::parse(several.body);
    const auto& list = doc.at("siblings").as_array();
    CHECK_FALSE(list[0].as_object().contains("content_type"));
    CHECK(list[1].at("content_type").as_string() == "text/plain");
}
