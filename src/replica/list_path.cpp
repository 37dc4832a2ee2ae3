// Key listing (SCAN): a page of one namespace's keys in one partition, merged from r of
// its primaries (list_coordinator.h says why), and the replica's side, a bounded walk
// of its own copies. A listing walks the partitions in order; the caller carries the
// position (ClientReply::next) from page to page.
#include <algorithm>

#include "core/limits.h"
#include "replica/codec.h"
#include "replica/node.h"
#include "store/keys.h"

namespace shoal::replica {

namespace {

// The least key greater than every key that starts with `s` (empty: none is).
std::string successor(std::string s) {
    while (!s.empty() && static_cast<unsigned char>(s.back()) == 0xff) s.pop_back();
    if (!s.empty()) s.back() = static_cast<char>(static_cast<unsigned char>(s.back()) + 1);
    return s;
}

// A stored-key scope: "" (the default namespace) or NUL, a valid name, NUL.
bool valid_scope(std::string_view scope) {
    if (scope.empty()) return true;
    return scope.size() >= 3 && scope.front() == '\0' && scope.back() == '\0' &&
           valid_namespace_name(scope.substr(1, scope.size() - 2));
}

}  // namespace

void Node::start_list(Now now, ClientToken token, ClientRequest& request, const RequestOptions& opts) {
    const RequestId req = next_req_++;
    ListCoordinator::Spec spec;
    spec.token = token;
    spec.request.req = req;
    spec.request.partition = PartitionId{request.list.partition};
    spec.request.scope = scoped_key(opts.ns, "");
    spec.request.prefix = std::move(request.list_prefix);
    spec.request.after = std::move(request.list.after);
    spec.request.limit = request.list_limit;
    spec.partitions = ring_->partition_count();
    spec.need = opts.r;
    spec.deadline = now.mono + Duration::millis(opts.timeout_ms);
    // Only primaries: a fallback holds hinted copies of a few keys, not the partition.
    const auto order = ring_->preference_order(spec.request.partition);
    const std::size_t primaries = std::min<std::size_t>(opts.n, order.size());
    for (std::size_t i = 0; i < primaries; ++i) {
        if (believes_up(order[i])) spec.targets.push_back(Target{order[i], NodeId{}, true});
    }
    // This node's own copy costs no message: it goes first.
    std::stable_partition(spec.targets.begin(), spec.targets.end(),
                          [&](const Target& t) { return t.node == config_.id; });
    if (spec.targets.size() < spec.need) {
        fail_unavailable(token, spec.targets, opts.n, spec.need);
        return;
    }
    auto [it, inserted] = lists_.try_emplace(req, std::move(spec));
    SHOAL_ASSERT(inserted);
    ListCoordinator& list = it->second;
    deadlines_.push({list.deadline(), req});
    bool own = false;
    list.ask([&](const Target& t) {
        if (t.node == config_.id) {
            own = true;
        } else {
            send(t.node, list.request());
        }
    });
    if (!own) return;
    ListResp page = list_here(now, list.request());
    list.rest_on(store_.horizon());
    on_list_resp(now, config_.id, page);  // last: `list` may be gone after it
}

void Node::on_list_resp(Now now, NodeId from, ListResp& page) {
    auto it = lists_.find(page.req);
    if (it == lists_.end()) return;
    ListCoordinator& list = it->second;
    if (!list.on_answer(from, page)) return;
    if (list.ready()) {
        out_.replies.push_back(OutReply{list.reply(), list.needs()});
        lists_.erase(it);
        return;
    }
    // In place of one that failed.
    list.ask([&](const Target& t) {
        SHOAL_ASSERT(t.node != config_.id);  // asked first, if at all
        send(t.node, list.request());
    });
    if (list.hopeless()) {
        fail(list.token(), errc::quorum_not_met, list.got(), list.need());
        lists_.erase(it);
    }
    (void)now;
}

void Node::expire_list(Now now, RequestId req, ListCoordinator& list) {
    if (now.mono < list.deadline()) return;
    for (const auto& t : list.targets()) {
        if (t.asked && t.open()) missed(now.mono, t.node);
    }
    fail(list.token(), errc::quorum_not_met, list.got(), list.need());
    lists_.erase(req);
}

ListResp Node::list_here(Now now, const ListReq& m) {
    ListResp resp;
    resp.req = m.req;
    if (!valid_list_range(m.prefix, m.after, m.limit, config_.limits.max_key_bytes) || !valid_scope(m.scope) ||
        m.partition.value >= ring_->partition_count()) {
        resp.code = errc::bad_request;
        return resp;
    }
    // The range: keys of the scope that start with the prefix, after `after`. Plain
    // keys never begin with NUL, so the default namespace's start at byte 1.
    std::string lo = m.scope + m.prefix;
    if (lo.empty()) lo.push_back('\x01');
    if (!m.after.empty()) {
        std::string past = m.scope + m.after;
        past.push_back('\0');
        lo = std::max(lo, past);
    }
    const std::string hi = successor(m.scope + m.prefix);
    const store::KeyRange whole = store::data_range(m.partition);
    const std::string begin = store::data_key(m.partition, lo);
    const std::string end = hi.empty() ? whole.end : store::data_key(m.partition, hi);
    std::size_t examined = 0, bytes = 0, scanned = 0;
    bool stopped = false;
    SiblingSet state;
    const std::error_code ec = store_.scan(begin, end, [&](std::string_view stored, std::string_view value) {
        PartitionId p;
        std::string_view key;
        if (!store::parse_data_key(stored, p, key)) return true;
        const std::string_view client = key.substr(m.scope.size());
        ++examined;
        scanned += value.size();
        // A damaged copy is not listed here; another replica's page lists the key.
        if (!decode_stored(value, state) && live_count(state, now.wall) > 0) {
            resp.keys.emplace_back(client);
            bytes += client.size();
        }
        if (resp.keys.size() >= m.limit || bytes >= k_batch_bytes || examined >= k_max_list_examined ||
            scanned >= k_max_list_scanned_bytes) {
            resp.last = std::string(client);
            stopped = true;
            return false;
        }
        return true;
    });
    if (ec) {
        ++stats_.store_errors;
        resp = ListResp{};
        resp.req = m.req;
        resp.code = errc::store_error;
        return resp;
    }
    resp.complete = !stopped;
    return resp;
}

}  // namespace shoal::replica
