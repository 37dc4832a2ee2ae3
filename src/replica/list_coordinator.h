// One page of a key listing (SCAN) as its coordinator tracks it: the partition's
// primaries it may ask, the pages they answered, and the page it answers with. Pure:
// the Node sends the requests and reads its own copy (list_path.cpp).
//
// Why a page is a merge of r replicas' pages: a write acknowledged by w primaries is
// on at least one of any r primaries when r + w > n, so the union lists it even while
// one replica has not yet received it. Each replica's page ends somewhere of its own
// (its bound, or garbage it skipped); the union is complete only up to the earliest
// of those ends, so the page stops there and the next starts after it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/types.h"
#include "replica/messages.h"
#include "replica/target.h"

namespace shoal::replica {

// Whether a page's range is one a listing may ask for: 1..k_max_list_keys keys, a prefix
// and a position each no longer than a key, the position under the prefix, neither
// beginning with NUL (the mark of a namespace's scope). The client's request
// (Node::validate) and a peer's (Node::list_here) are held to the same rules.
bool valid_list_range(std::string_view prefix, std::string_view after, std::uint32_t limit,
                      std::size_t max_key_bytes);

class ListCoordinator {
public:
    struct Spec {
        ClientToken token = 0;
        ListReq request;              // what each target is asked (req set)
        std::uint32_t partitions = 0;  // in the ring: the listing ends after the last
        std::vector<Target> targets;   // the partition's primaries believed up, in order
        std::uint32_t need = 0;        // r
        Instant deadline;
    };
    explicit ListCoordinator(Spec spec) : spec_(std::move(spec)) {}

    ClientToken token() const { return spec_.token; }
    const ListReq& request() const { return spec_.request; }
    Instant deadline() const { return spec_.deadline; }
    std::uint32_t need() const { return spec_.need; }
    std::uint32_t got() const { return static_cast<std::uint32_t>(pages_.size()); }
    const std::vector<Target>& targets() const { return spec_.targets; }

    // Marks targets asked until need() answers could come (the ones failed replaced),
    // calling ask(target) for each newly asked one; returns how many.
    template <typename Ask>
    std::size_t ask(Ask&& ask_one) {
        std::size_t pending = 0;
        for (const auto& t : spec_.targets) pending += (t.asked && t.open()) ? 1 : 0;
        std::size_t asked = 0;
        for (auto& t : spec_.targets) {
            if (got() + pending >= spec_.need) break;
            if (t.asked) continue;
            t.asked = true;
            ++pending;
            ++asked;
            ask_one(t);
        }
        return asked;
    }

    // A target's page. False when it is not one this listing waits for (stale,
    // repeated). A page that is not a valid answer to the request (unsorted, outside
    // the range, no progress) counts as a failure, like an error code.
    bool on_answer(NodeId from, ListResp& page);

    // Enough pages (ready), or too few targets left for them (hopeless).
    bool ready() const { return got() >= spec_.need; }
    bool hopeless() const;

    // The merged page, its keys at most request().limit; call once, when ready().
    ClientReply reply();

    // What the reply rests on (this node's own page may have read staged writes).
    std::uint64_t needs() const { return needs_; }
    void rest_on(std::uint64_t seq) { needs_ = seq > needs_ ? seq : needs_; }

private:
    bool valid(const ListResp& page) const;

    Spec spec_;
    std::vector<ListResp> pages_;
    std::uint64_t needs_ = 0;
};

}  // namespace shoal::replica
