// The socket half shared by the HTTP and RESP drivers: connect (with failover across
// the node list and a short back-off), queue requests, write them coalesced, read
// replies in order, fail requests past their deadline. A protocol supplies the parser.
// Replies come back in request order (HTTP/1.1 and RESP both promise that).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "driver.h"

namespace shoal::bench {

class StreamConnection : public Connection {
public:
    enum class Parse { need_more, done, bad };

    StreamConnection(boost::asio::io_context& io, const ConnectionOptions& o, std::size_t max_in_flight);
    ~StreamConnection() override;

    std::size_t outstanding() const override;
    void close() override;

protected:
    // Queues one encoded request.
    void submit(std::string bytes, Callback done);
    // Requests every connection sends first (before any submitted), drawing one reply
    // each; `required[i]`: the i-th must be ok, else the connection is given up.
    void set_prelude(std::string bytes, std::vector<bool> required);
    // Parses one reply from the front of `in`; on done sets `used` (bytes consumed) and
    // `out`; `close_after` when the server will close the connection after it.
    virtual Parse parse(std::string_view in, std::size_t& used, Reply& out, bool& close_after) = 0;
    const ConnectionOptions& options() const { return options_; }
    const std::string& current_node() const;

private:
    struct State;
    std::shared_ptr<State> state_;
    ConnectionOptions options_;
};

}  // namespace shoal::bench
