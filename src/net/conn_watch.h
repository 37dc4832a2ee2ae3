// ConnWatch: the inbound connections of a node's peer and client ports, while their
// readers run, and the sweep that closes the ones past their ConnTimeouts -- silent
// since they connected, a frame begun and never finished, idle, or replies the client
// does not take. The shell sweeps once a second; time is passed in.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <list>

#include "core/types.h"
#include "net/peer_link.h"  // ReadProgress, WriteProgress; ConnTimeouts (net/shell.h)

namespace shoal::net {

class ConnWatch {
public:
    struct Entry {
        ReadProgress reading;          // the connection's reader keeps it current
        const WriteProgress* writing;  // client connections: their replies (else null)
        bool peer;
        std::function<void()> close;   // closes the connection: its reader then ends
    };
    using Handle = std::list<Entry>::iterator;

    // From accept to the end of the connection's reader: the limits count it at once.
    Handle add(bool peer, const WriteProgress* writing, std::function<void()> close);
    void remove(Handle h);
    // Connections on the peer port, or on the client port.
    std::size_t count(bool peer) const { return peer ? peers_ : clients_; }
    // Connections whose first frame (their hello) has not come yet.
    std::size_t unnamed() const;
    // Closes every connection past a bound at `now` and says why through `closed`
    // (once per connection closed); returns how many it closed.
    std::size_t sweep(const ConnTimeouts& t, std::chrono::steady_clock::time_point now,
                      const std::function<void(bool peer, const char* why)>& closed);

private:
    std::list<Entry> entries_;
    std::size_t peers_ = 0, clients_ = 0;
};

}  // namespace shoal::net
