#include "gossip/view.h"

#include <algorithm>
#include <iterator>
#include <tuple>
#include <utility>

#include "core/assert.h"
#include "core/byte_codec.h"
#include "core/errc.h"
#include "core/hash.h"
#include "store/keys.h"

namespace shoal::gossip {

namespace {

// Format 1 had no namespaces, format 2 no cluster id; both still decode (a view saved
// by an older node).
constexpr std::uint8_t k_format_version = 3;
constexpr std::uint8_t k_format_without_cluster_id = 2;
constexpr std::uint8_t k_format_without_namespaces = 1;
constexpr std::uint64_t k_digest_seed = 0x6f7373697067ull;  // "gossip"
constexpr std::string_view k_view_name = "gossip.view";

// The payload order of a member record: version first, then every payload field, so
// two records with the same version still have one deterministic winner.
auto payload_key(const MemberRecord& m) {
    return std::tie(m.version, m.incarnation, m.peer_address, m.client_address, m.http_address, m.zone);
}

auto claim_key(const PartitionClaim& c) {
    return std::make_tuple(c.version, c.owner.value, c.next.value, c.handoff_done);
}

void encode_props(const NamespaceProps& p, std::string& out) {
    for (std::uint32_t v : {p.n, p.r, p.w, p.pr, p.pw, p.max_siblings}) put_varint(out, v);
    out.push_back(static_cast<char>(p.conflict));
    put_varint(out, static_cast<std::uint64_t>(p.ttl_s));
    put_string(out, p.datatype);
}

bool decode_props(ByteReader& r, NamespaceProps& p) {
    std::uint8_t conflict = 0;
    std::uint64_t ttl = 0;
    for (std::uint32_t* v : {&p.n, &p.r, &p.w, &p.pr, &p.pw, &p.max_siblings})
        if (!r.u32(*v)) return false;
    if (!r.byte(conflict) || conflict > static_cast<std::uint8_t>(ConflictMode::lww)) return false;
    p.conflict = static_cast<ConflictMode>(conflict);
    if (!r.varint(ttl) || ttl > static_cast<std::uint64_t>(k_max_ttl_s)) return false;
    p.ttl_s = static_cast<std::int64_t>(ttl);
    return r.string(p.datatype, k_max_namespace_bytes) && props_problem(p).empty();
}

// The merge order of a namespace record: version, writer, then its properties'
// encoding, so equal versions from two writers still have one winner.
auto namespace_key(const NamespaceRecord& n) {
    std::string props;
    encode_props(n.props, props);
    return std::make_tuple(n.version, n.set_by.value, std::move(props));
}

bool merge_member(MemberRecord& into, const MemberRecord& from) {
    SHOAL_ASSERT(into.id == from.id);
    bool changed = false;
    if (payload_key(into) < payload_key(from)) {
        const MemberStatus status = into.status;
        into = from;
        into.status = status;
        changed = true;
    }
    if (into.status < from.status) {
        into.status = from.status;
        changed = true;
    }
    return changed;
}

// ---- byte helpers ----

using Reader = ByteReader;

void encode_member(const MemberRecord& m, std::string& out) {
    put_varint(out, m.id.value);
    put_varint(out, m.version);
    put_varint(out, m.incarnation);
    out.push_back(static_cast<char>(m.status));
    put_string(out, m.peer_address);
    put_string(out, m.client_address);
    put_string(out, m.http_address);
    put_string(out, m.zone);
}

// Every partition's (owner, next, version, done), in partition order: the view's
// encoding and the ruled digest share it.
void encode_claim(const std::vector<PartitionClaim>& claim, std::string& out) {
    for (const PartitionClaim& c : claim) {
        put_varint(out, c.owner.value);
        put_varint(out, c.next.value);
        put_varint(out, c.version);
        out.push_back(c.handoff_done ? 1 : 0);
    }
}

bool decode_member(Reader& r, MemberRecord& m) {
    std::uint8_t status = 0;
    if (!r.u32(m.id.value) || !m.id.valid()) return false;
    if (!r.varint(m.version) || !r.u32(m.incarnation)) return false;
    if (!r.byte(status) || status > k_max_status) return false;
    m.status = static_cast<MemberStatus>(status);
    return r.string(m.peer_address, k_max_address_bytes) && r.string(m.client_address, k_max_address_bytes) &&
           r.string(m.http_address, k_max_address_bytes) && r.string(m.zone, k_max_zone_bytes);
}

bool decode_claim(Reader& r, const ClusterView& view, PartitionClaim& c) {
    std::uint8_t done = 0;
    if (!r.u32(c.owner.value) || !r.u32(c.next.value) || !r.varint(c.version) || !r.byte(done) || done > 1) {
        return false;
    }
    c.handoff_done = done == 1;
    if (c.owner.valid() && !view.members.contains(c.owner)) return false;
    if (c.next.valid() && (!c.owner.valid() || c.next == c.owner || !view.members.contains(c.next))) return false;
    return !c.handoff_done || c.next.valid();
}

}  // namespace

std::string_view status_name(MemberStatus status) {
    switch (status) {
        case MemberStatus::joining: return "joining";
        case MemberStatus::valid: return "valid";
        case MemberStatus::leaving: return "leaving";
        case MemberStatus::exiting: return "exiting";
        case MemberStatus::removed: return "removed";
    }
    SHOAL_UNREACHABLE("bad member status");
}

ClusterView ClusterView::empty(std::uint32_t partition_count) {
    SHOAL_ASSERT(ring::valid_partition_count(partition_count));
    ClusterView v;
    v.partition_count = partition_count;
    v.claim.assign(partition_count, PartitionClaim{});
    return v;
}

// Cost: O(M log M + Q).
bool merge_into(ClusterView& into, const ClusterView& from) {
    SHOAL_ASSERT(into.partition_count == from.partition_count);
    SHOAL_ASSERT(into.claim.size() == from.claim.size());
    bool changed = false;
    if (into.cluster_id < from.cluster_id) {  // an unset id (0) takes the other; set ones are equal
        into.cluster_id = from.cluster_id;
        changed = true;
    }
    for (const auto& [id, record] : from.members) {
        auto [it, inserted] = into.members.try_emplace(id, record);
        if (inserted) {
            changed = true;
            continue;
        }
        changed |= merge_member(it->second, record);
    }
    for (std::size_t p = 0; p < into.claim.size(); ++p) {
        if (claim_key(into.claim[p]) < claim_key(from.claim[p])) {
            into.claim[p] = from.claim[p];
            changed = true;
        }
    }
    // Concurrent creations on several nodes can pass the bound together: every node then
    // keeps the same k_max_namespaces smallest names (still a join: the smallest k of a
    // union is associative, commutative and idempotent).
    const bool may_overflow = into.namespaces.size() + from.namespaces.size() > k_max_namespaces;
    const auto before = may_overflow ? into.namespaces : decltype(into.namespaces){};
    bool namespaces_changed = false;
    for (const auto& [name, record] : from.namespaces) {
        auto [it, inserted] = into.namespaces.try_emplace(name, record);
        if (!inserted && namespace_key(it->second) < namespace_key(record)) {
            it->second = record;
            inserted = true;
        }
        namespaces_changed |= inserted;
    }
    while (into.namespaces.size() > k_max_namespaces) into.namespaces.erase(std::prev(into.namespaces.end()));
    if (may_overflow) namespaces_changed = into.namespaces != before;
    return changed || namespaces_changed;
}

ClusterView merged(const ClusterView& a, const ClusterView& b) {
    ClusterView out = a;
    merge_into(out, b);
    return out;
}

void encode(const ClusterView& view, std::string& out) {
    SHOAL_ASSERT(view.claim.size() == view.partition_count);
    out.push_back(static_cast<char>(k_format_version));
    put_varint(out, view.cluster_id);
    put_varint(out, view.partition_count);
    put_varint(out, view.members.size());
    for (const auto& [id, m] : view.members) encode_member(m, out);
    encode_claim(view.claim, out);
    put_varint(out, view.namespaces.size());
    for (const auto& [name, n] : view.namespaces) {
        put_string(out, name);
        put_varint(out, n.version);
        put_varint(out, n.set_by.value);
        encode_props(n.props, out);
    }
}

// Cost: O(bytes + M log M + Q log M). Allocation is bounded by the input size.
std::error_code decode(std::string_view bytes, ClusterView& out) {
    Reader r(bytes);
    std::uint8_t format = 0;
    std::uint32_t q = 0;
    std::uint64_t count = 0;
    if (!r.byte(format) || format < k_format_without_namespaces || format > k_format_version) return errc::corrupt;
    std::uint64_t cluster_id = 0;
    if (format >= k_format_version && !r.varint(cluster_id)) return errc::corrupt;
    if (!r.u32(q) || !ring::valid_partition_count(q)) return errc::corrupt;
    // A member takes at least 8 bytes, a partition at least 4.
    if (!r.varint(count) || count > k_max_members || count * 8 > r.left()) return errc::corrupt;
    ClusterView view = ClusterView::empty(q);
    view.cluster_id = cluster_id;
    NodeId last;
    for (std::uint64_t i = 0; i < count; ++i) {
        MemberRecord m;
        if (!decode_member(r, m)) return errc::corrupt;
        if (i > 0 && !(last < m.id)) return errc::corrupt;  // canonical: ascending ids
        last = m.id;
        view.members.emplace_hint(view.members.end(), m.id, std::move(m));
    }
    if (static_cast<std::uint64_t>(q) * 4 > r.left()) return errc::corrupt;
    for (PartitionClaim& c : view.claim) {
        if (!decode_claim(r, view, c)) return errc::corrupt;
    }
    if (format >= k_format_without_cluster_id) {
        // A namespace takes at least 12 bytes.
        if (!r.varint(count) || count > k_max_namespaces || count * 12 > r.left()) return errc::corrupt;
        for (std::uint64_t i = 0; i < count; ++i) {
            std::string name;
            NamespaceRecord n;
            if (!r.string(name, k_max_namespace_bytes) || !valid_namespace_name(name)) return errc::corrupt;
            if (!view.namespaces.empty() && !(view.namespaces.rbegin()->first < name)) return errc::corrupt;
            if (!r.varint(n.version) || !r.u32(n.set_by.value) || !decode_props(r, n.props)) return errc::corrupt;
            view.namespaces.emplace_hint(view.namespaces.end(), std::move(name), std::move(n));
        }
    }
    if (!r.done()) return errc::corrupt;
    out = std::move(view);
    return {};
}

std::uint64_t digest(const ClusterView& view) {
    std::string bytes;
    encode(view, bytes);
    return hash_bytes(bytes, k_digest_seed);
}

std::uint64_t ruled_digest(const ClusterView& view) {
    std::string bytes;
    for (const auto& [id, m] : view.members) {
        put_varint(bytes, id.value);
        bytes.push_back(static_cast<char>(m.status));
    }
    encode_claim(view.claim, bytes);
    return hash_bytes(bytes, k_digest_seed) | 1;  // never 0: 0 means "not the claimant"
}

std::error_code save_view(store::Store& store, const ClusterView& view, bool sync) {
    std::string bytes;
    encode(view, bytes);
    store::WriteBatch batch;
    batch.put(store::meta_key(k_view_name), bytes);
    return store.write(batch, sync);
}

std::error_code load_view(store::Store& store, std::optional<ClusterView>& out) {
    out.reset();
    std::optional<std::string> bytes;
    if (auto ec = store.get(store::meta_key(k_view_name), bytes)) return ec;
    if (!bytes) return {};
    ClusterView view;
    if (auto ec = decode(*bytes, view)) return ec;
    out = std::move(view);
    return {};
}

Namespaces namespaces_of(const ClusterView& view) {
    Namespaces out;
    for (const auto& [name, n] : view.namespaces) out.emplace_hint(out.end(), name, n.props);
    return out;
}

const MemberRecord* find_member(const ClusterView& view, NodeId id) {
    auto it = view.members.find(id);
    return it == view.members.end() ? nullptr : &it->second;
}

MemberStatus status_of(const ClusterView& view, NodeId id) {
    const MemberRecord* m = find_member(view, id);
    return m ? m->status : MemberStatus::joining;
}

bool founded(const ClusterView& view) {
    return !view.claim.empty() &&
           std::all_of(view.claim.begin(), view.claim.end(), [](const PartitionClaim& c) { return c.owner.valid(); });
}

bool is_active(MemberStatus status) {
    return status == MemberStatus::joining || status == MemberStatus::valid || status == MemberStatus::leaving;
}

NodeId claimant(const ClusterView& view) {
    for (const auto& [id, m] : view.members)
        if (m.status == MemberStatus::valid) return id;  // std::map: ascending ids
    return NodeId{};
}

// Cost: O(M + Q) plus the Ring's own construction (Q x M).
namespace {
std::shared_ptr<const ring::Ring> ring_of(const ClusterView& view, bool target) {
    if (!founded(view)) return nullptr;
    std::vector<ring::Member> members;
    std::vector<NodeId> owners;
    owners.reserve(view.claim.size());
    for (const PartitionClaim& c : view.claim) owners.push_back(target && c.moving() ? c.next : c.owner);
    for (const auto& [id, m] : view.members) {
        const bool owns = std::find(owners.begin(), owners.end(), id) != owners.end();
        if (is_active(m.status) || owns) members.push_back({id, m.zone});
    }
    return std::make_shared<const ring::Ring>(view.partition_count, std::move(members), std::move(owners));
}
}  // namespace

std::shared_ptr<const ring::Ring> make_ring(const ClusterView& view) { return ring_of(view, false); }
std::shared_ptr<const ring::Ring> make_target_ring(const ClusterView& view) { return ring_of(view, true); }

std::vector<ring::Move> moves(const ClusterView& view) {
    std::vector<ring::Move> out;
    for (std::uint32_t p = 0; p < view.claim.size(); ++p) {
        const PartitionClaim& c = view.claim[p];
        if (c.moving()) out.push_back({PartitionId{p}, c.owner, c.next, c.handoff_done});
    }
    return out;
}

std::map<NodeId, std::uint32_t> ownership_counts(const ClusterView& view) {
    std::map<NodeId, std::uint32_t> counts;
    for (const PartitionClaim& c : view.claim)
        if (c.owner.valid()) counts[c.owner] += 1;
    return counts;
}

}  // namespace shoal::gossip
