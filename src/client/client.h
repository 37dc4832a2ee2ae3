// Shoal's C++ client over the native protocol.
//
// Contract:
//  - A client knows a list of nodes ("host:port" of their client listeners). It
//    talks to one at a time and fails over to the next when the connection fails
//    or a request times out; a request is tried at most `max_attempts` times.
//    A retried write may be applied twice; with contexts that is harmless (the
//    second copy becomes a sibling with the same value, or supersedes nothing new).
//  - get returns every live sibling's value and an opaque context; pass that
//    context to put/del to supersede exactly what was read. No context: the write
//    becomes a sibling of whatever is there.
//  - Data types (a namespace made with datatype=set|counter, replica/datatypes.h):
//    update() sends an add, a remove (with the context of a read) or an increment;
//    read_datatype() reads the key as one merged value. An update that adds to a
//    counter (a counter's, or a map's counter fields) is sent once: should its
//    connection fail or its node fall silent after it was sent, it ends with timeout
//    (the node may or may not have applied it) instead of going to the next node,
//    where it would count twice. Other updates are retried like writes.
//  - Requests are pipelined on one connection; replies match by request id.
//  - AsyncClient runs on the caller's io_context and calls callbacks on its thread.
//    Client is the blocking wrapper, with an io_context of its own. Neither is
//    thread-safe: use one per thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/errc.h"
#include "core/types.h"
#include "replica/datatypes.h"
#include "replica/messages.h"
#include "tls/tls.h"

namespace boost::asio {
class io_context;
}

namespace shoal::client {

struct Options {
    std::vector<std::string> nodes;  // "host:port", at least one
    Duration connect_timeout = Duration::seconds(1);
    Duration request_timeout = Duration::seconds(5);  // covers every attempt of one request
    int max_attempts = 3;
    // TLS (tls.ca set): the node's certificate must come from that CA and name the host
    // dialled; tls.cert/tls.key, when set, are presented as this client's identity.
    tls::Files tls;
    // A bearer token (`shoal token`: k_min_token_bytes..k_max_token_bytes, core/limits.h),
    // sent in the hello: it names this client and its role, over any certificate. One of
    // another length fails every request (usage); one the node does not know gets each
    // request answered forbidden. Needs TLS: over plain TCP nothing is checked.
    std::string token;
};

struct Result {
    errc code = errc::ok;       // ok, not_found, quorum_not_met, timeout, unavailable, ...
    std::uint32_t replies = 0;  // replicas that answered (acks for writes)
    std::uint32_t required = 0;
    std::vector<std::string> values;  // get: one per live sibling
    std::string context;              // get: pass to the next put/del of this key
    std::string node;                 // the node that answered
    // unavailable: the key's primaries and how many the node believed down.
    std::uint32_t primaries = 0;
    std::uint32_t primaries_down = 0;
    bool ok() const { return code == errc::ok; }
};

using RequestOptions = replica::RequestOptions;
using Callback = std::function<void(Result)>;

class AsyncClient {
public:
    AsyncClient(boost::asio::io_context& io, Options options);
    ~AsyncClient();
    AsyncClient(const AsyncClient&) = delete;
    AsyncClient& operator=(const AsyncClient&) = delete;

    void get(std::string key, RequestOptions options, Callback done);
    void put(std::string key, std::string value, std::string context, RequestOptions options, Callback done);
    void del(std::string key, std::string context, RequestOptions options, Callback done);
    // A data-type update; `options.ns` names a namespace of its type.
    void update(std::string key, replica::dt::Update update, RequestOptions options, Callback done);

    // Fails every outstanding request with errc::shutting_down and closes the connection.
    void close();
    std::size_t outstanding() const;

    struct Impl;

private:
    std::shared_ptr<Impl> impl_;
};

class Client {
public:
    explicit Client(Options options);
    ~Client();
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    Result get(std::string_view key, const RequestOptions& options = {});
    Result put(std::string_view key, std::string_view value, std::string_view context = {},
               const RequestOptions& options = {});
    Result del(std::string_view key, std::string_view context = {}, const RequestOptions& options = {});
    Result update(std::string_view key, const replica::dt::Update& update, const RequestOptions& options);
    // Reads a data-type key as one value (the merge of its siblings), with the context
    // a remove must carry (SetUpdate::context, decoded from `result.context`).
    struct DatatypeRead {
        Result result;  // ok with an empty state when nothing is stored (not_found)
        replica::dt::State state;
        replica::VersionVector context;
    };
    DatatypeRead read_datatype(std::string_view key, replica::dt::Type type, const RequestOptions& options);

private:
    Result wait(const std::function<void(Callback)>& start);
    std::unique_ptr<boost::asio::io_context> io_;
    std::unique_ptr<AsyncClient> async_;
};

}  // namespace shoal::client
