#include "replica/list_coordinator.h"

#include <algorithm>

#include "core/limits.h"

namespace shoal::replica {

bool valid_list_range(std::string_view prefix, std::string_view after, std::uint32_t limit,
                      std::size_t max_key_bytes) {
    return limit >= 1 && limit <= k_max_list_keys && prefix.size() <= max_key_bytes &&
           after.size() <= max_key_bytes && (after.empty() || after.starts_with(prefix)) &&
           !prefix.starts_with('\0') && !after.starts_with('\0');
}

bool ListCoordinator::valid(const ListResp& page) const {
    const ListReq& q = spec_.request;
    if (page.keys.size() > q.limit) return false;
    for (std::size_t i = 0; i < page.keys.size(); ++i) {
        const std::string& k = page.keys[i];
        if (!k.starts_with(q.prefix) || k <= q.after) return false;
        if (i > 0 && k <= page.keys[i - 1]) return false;
    }
    if (page.complete) return true;
    // An unfinished page must move on, and list nothing past where it stopped.
    if (page.last <= q.after || !page.last.starts_with(q.prefix)) return false;
    return page.keys.empty() || page.keys.back() <= page.last;
}

bool ListCoordinator::on_answer(NodeId from, ListResp& page) {
    Target* t = open_target(spec_.targets, from);
    if (t == nullptr || !t->asked) return false;
    if (page.code != errc::ok || !valid(page)) {
        t->failed = true;
        return true;
    }
    t->answered = true;
    pages_.push_back(std::move(page));
    return true;
}

bool ListCoordinator::hopeless() const {
    std::size_t could = pages_.size();
    for (const auto& t : spec_.targets) could += t.open() ? 1 : 0;
    return could < spec_.need;
}

ClientReply ListCoordinator::reply() {
    ClientReply r;
    r.token = spec_.token;
    r.replies = got();
    r.required = spec_.need;
    // The union is complete up to the earliest place an unfinished page stopped.
    const std::string* frontier = nullptr;
    for (const auto& p : pages_) {
        if (!p.complete && (frontier == nullptr || p.last < *frontier)) frontier = &p.last;
    }
    for (const auto& p : pages_) {
        for (const auto& k : p.keys) {
            if (frontier == nullptr || k <= *frontier) r.keys.push_back(k);
        }
    }
    std::sort(r.keys.begin(), r.keys.end());
    r.keys.erase(std::unique(r.keys.begin(), r.keys.end()), r.keys.end());
    const std::uint32_t partition = spec_.request.partition.value;
    if (r.keys.size() > spec_.request.limit) {
        r.keys.resize(spec_.request.limit);
        r.next = ListPosition{partition, r.keys.back(), false};
    } else if (frontier != nullptr) {
        r.next = ListPosition{partition, *frontier, false};
    } else {
        const bool last = partition + 1 >= spec_.partitions;
        r.next = ListPosition{last ? 0 : partition + 1, {}, last};
    }
    return r;
}

}  // namespace shoal::replica
