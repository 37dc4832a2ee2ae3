#include "net/conn_watch.h"

namespace shoal::net {

ConnWatch::Handle ConnWatch::add(bool peer, const WriteProgress* writing, std::function<void()> close) {
    ++(peer ? peers_ : clients_);
    return entries_.insert(entries_.end(), Entry{ReadProgress{}, writing, peer, std::move(close)});
}

void ConnWatch::remove(Handle h) {
    --(h->peer ? peers_ : clients_);
    entries_.erase(h);
}

std::size_t ConnWatch::unnamed() const {
    std::size_t n = 0;
    for (const auto& e : entries_) n += e.reading.greeted ? 0 : 1;
    return n;
}

std::size_t ConnWatch::sweep(const ConnTimeouts& t, std::chrono::steady_clock::time_point now,
                             const std::function<void(bool, const char*)>& closed) {
    using clock = std::chrono::steady_clock;
    const auto over = [&](clock::time_point since, Duration bound) {
        return since != clock::time_point{} && now - since > std::chrono::microseconds(bound.us);
    };
    std::size_t count = 0;
    for (auto& e : entries_) {
        const char* why = nullptr;
        if (!e.reading.greeted && over(e.reading.last_frame, t.hello)) why = "no hello in time";
        else if (over(e.reading.partial_since, t.frame)) why = "frame not finished in time";
        else if (over(e.reading.last_frame, e.peer ? t.peer_idle : t.client_idle)) why = "idle";
        else if (e.writing != nullptr && over(e.writing->busy_since, t.write)) why = "replies not taken in time";
        if (why == nullptr) continue;
        ++count;
        closed(e.peer, why);
        e.close();  // (the entry goes when its reader ends, not here)
    }
    return count;
}

}  // namespace shoal::net
