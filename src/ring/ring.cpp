#include "ring/ring.h"

#include <algorithm>
#include <bit>
#include <set>
#include <utility>

#include "core/assert.h"

namespace shoal::ring {
namespace {

// Neighbours on each side that the claim keeps apart (N - 1 for N = 3): a partition's
// owner should differ, by node and by zone, from the owners this close to it.
constexpr std::uint32_t k_claim_window = 2;

// Placement penalties: a repeated node costs a preference list a skip and concentrates
// load, so it weighs more than a repeated zone.
constexpr int k_same_node_cost = 4;
constexpr int k_same_zone_cost = 1;
// Release bonus for leaving a hole next to another hole: the holes would likely be
// refilled by the same new owner, so spreading them out is preferred.
constexpr int k_next_to_hole_cost = 3;

constexpr std::int32_t k_free = -1;

std::vector<Member> sorted_by_id(std::span<const Member> members) {
    std::vector<Member> sorted(members.begin(), members.end());
    std::sort(sorted.begin(), sorted.end(), [](const Member& a, const Member& b) { return a.id < b.id; });
    return sorted;
}

// Preconditions shared by compute_claim and Ring: non-empty, valid, distinct ids.
void assert_members(const std::vector<Member>& sorted) {
    SHOAL_ASSERT(!sorted.empty());
    for (std::size_t i = 0; i < sorted.size(); ++i) {
        SHOAL_ASSERT(sorted[i].id.valid());
        if (i > 0) SHOAL_ASSERT_MSG(sorted[i - 1].id < sorted[i].id, "duplicate member id");
    }
}

// Index of `id` in members sorted by id, or k_free. O(log M).
std::int32_t find_member(const std::vector<Member>& sorted, NodeId id) {
    auto it = std::lower_bound(sorted.begin(), sorted.end(), id, [](const Member& m, NodeId n) { return m.id < n; });
    if (it == sorted.end() || it->id != id) return k_free;
    return static_cast<std::int32_t>(it - sorted.begin());
}

// Dense zone numbers: zones sorted by name, of_member[i] is member i's zone.
struct ZoneIndex {
    std::vector<std::uint32_t> of_member;
    std::uint32_t count = 0;
};

ZoneIndex index_zones(const std::vector<Member>& members) {
    std::vector<std::string> names;
    names.reserve(members.size());
    for (const Member& m : members) names.push_back(m.zone);
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    ZoneIndex zones;
    zones.count = static_cast<std::uint32_t>(names.size());
    zones.of_member.reserve(members.size());
    for (const Member& m : members) {
        auto it = std::lower_bound(names.begin(), names.end(), m.zone);
        zones.of_member.push_back(static_cast<std::uint32_t>(it - names.begin()));
    }
    return zones;
}

// Member indices ordered so zones interleave: the k-th of a zone's c members sits at
// fraction (2k+1)/(2c) of the sequence; ties go to the zone sorted first. Equal zones
// give plain round-robin; uneven zones are spread as evenly as their sizes allow.
std::vector<std::uint32_t> interleave_by_zone(const ZoneIndex& zones) {
    std::vector<std::vector<std::uint32_t>> by_zone(zones.count);
    for (std::uint32_t i = 0; i < zones.of_member.size(); ++i)
        by_zone[zones.of_member[i]].push_back(i);  // ascending id within a zone
    struct Slot {
        std::uint64_t num, den;
        std::uint32_t zone, member;
    };
    std::vector<Slot> slots;
    for (std::uint32_t z = 0; z < zones.count; ++z) {
        const std::uint64_t c = by_zone[z].size();
        for (std::uint64_t k = 0; k < c; ++k) slots.push_back({2 * k + 1, 2 * c, z, by_zone[z][k]});
    }
    std::sort(slots.begin(), slots.end(), [](const Slot& a, const Slot& b) {
        const std::uint64_t l = a.num * b.den, r = b.num * a.den;
        if (l != r) return l < r;
        return a.zone < b.zone;
    });
    std::vector<std::uint32_t> order;
    order.reserve(slots.size());
    for (const Slot& s : slots) order.push_back(s.member);
    return order;
}

std::vector<NodeId> fresh_claim(std::uint32_t q, const std::vector<Member>& members, const ZoneIndex& zones) {
    const std::vector<std::uint32_t> order = interleave_by_zone(zones);
    std::vector<NodeId> owners(q);
    for (std::uint32_t p = 0; p < q; ++p) owners[p] = members[order[p % order.size()]].id;
    return owners;
}

// Working state of an incremental claim; owner[p] is a member index or k_free.
struct Claim {
    std::uint32_t q;
    const ZoneIndex& zones;
    std::vector<std::int32_t> owner;
    std::vector<std::uint32_t> count;   // partitions held now, per member
    std::vector<std::uint32_t> target;  // partitions to hold, per member

    std::uint32_t at(std::uint32_t p, std::int64_t delta) const {
        const std::int64_t n = q;
        return static_cast<std::uint32_t>(((static_cast<std::int64_t>(p) + delta) % n + n) % n);
    }

    // Calls f(neighbour) for each partition within k_claim_window of p, other than p.
    template <class F>
    void for_neighbours(std::uint32_t p, F&& f) const {
        for (std::int64_t d = 1; d <= k_claim_window; ++d) {
            for (std::int64_t side : {-d, d}) {
                const std::uint32_t n = at(p, side);
                if (n != p) f(n);
            }
        }
    }

    // How much nearby conflict placing member m at p would create.
    int place_cost(std::uint32_t p, std::int32_t m) const {
        int cost = 0;
        for_neighbours(p, [&](std::uint32_t n) {
            if (owner[n] == k_free) return;
            if (owner[n] == m)
                cost += k_same_node_cost;
            else if (zones.of_member[owner[n]] == zones.of_member[m])
                cost += k_same_zone_cost;
        });
        return cost;
    }

    // How good it is to free p: conflicts it resolves, minus holes it would sit beside.
    int release_gain(std::uint32_t p) const {
        int gain = 0;
        for_neighbours(p, [&](std::uint32_t n) {
            if (owner[n] == k_free) gain -= k_next_to_hole_cost;
        });
        return gain + place_cost(p, owner[p]);
    }
};

// Targets floor(Q/M) or ceil(Q/M); the ceil goes to members holding most now (then
// lowest id), which keeps the number of moves minimal.
void set_targets(Claim& c) {
    const auto m = static_cast<std::uint32_t>(c.count.size());
    std::vector<std::uint32_t> by_count(m);
    for (std::uint32_t i = 0; i < m; ++i) by_count[i] = i;
    std::stable_sort(by_count.begin(), by_count.end(),
                     [&](std::uint32_t a, std::uint32_t b) { return c.count[a] > c.count[b]; });
    c.target.assign(m, c.q / m);
    for (std::uint32_t i = 0; i < c.q % m; ++i) c.target[by_count[i]] += 1;
}

// Frees the surplus partitions of every over-target member, each time the one whose
// release helps most (ties: lowest partition). Freeing p changes only the gains of its
// neighbours, so each member keeps its candidates ordered: O(Q log Q) in all.
void release_surplus(Claim& c) {
    std::vector<int> gain(c.q, 0);
    for (std::int32_t m = 0; m < static_cast<std::int32_t>(c.count.size()); ++m) {
        if (c.count[m] <= c.target[m]) continue;
        std::set<std::pair<int, std::uint32_t>> best;  // (-gain, partition)
        for (std::uint32_t p = 0; p < c.q; ++p) {
            if (c.owner[p] != m) continue;
            gain[p] = c.release_gain(p);
            best.insert({-gain[p], p});
        }
        while (c.count[m] > c.target[m]) {
            SHOAL_ASSERT(!best.empty());
            const std::uint32_t p = best.begin()->second;
            best.erase(best.begin());
            c.owner[p] = k_free;
            c.count[m] -= 1;
            c.for_neighbours(p, [&](std::uint32_t n) {
                if (c.owner[n] != m || !best.erase({-gain[n], n})) return;
                gain[n] = c.release_gain(n);
                best.insert({-gain[n], n});
            });
        }
    }
}

// Gives each free partition, in ring order, to the under-target member that conflicts
// least with its neighbours (ties: largest deficit, then lowest id). O(free x M).
void fill_free(Claim& c) {
    const auto m = static_cast<std::int32_t>(c.count.size());
    for (std::uint32_t p = 0; p < c.q; ++p) {
        if (c.owner[p] != k_free) continue;
        std::int32_t best = k_free;
        int best_cost = 0;
        std::uint32_t best_deficit = 0;
        for (std::int32_t i = 0; i < m; ++i) {
            if (c.count[i] >= c.target[i]) continue;
            const int cost = c.place_cost(p, i);
            const std::uint32_t deficit = c.target[i] - c.count[i];
            if (best == k_free || cost < best_cost || (cost == best_cost && deficit > best_deficit)) {
                best = i, best_cost = cost, best_deficit = deficit;
            }
        }
        SHOAL_ASSERT(best != k_free);  // free partitions == total deficit
        c.owner[p] = best;
        c.count[best] += 1;
    }
}

}  // namespace

bool valid_partition_count(std::uint32_t q) {
    return q >= 1 && q <= k_max_partitions && std::has_single_bit(q);
}

// Cost: O(Q log M) to map the previous claim, O(surplus x Q) to release, O(free x M)
// to refill. Members are taken in id order, so their order in `members` is irrelevant.
std::vector<NodeId> compute_claim(std::uint32_t partition_count, std::span<const Member> members,
                                  std::span<const NodeId> previous) {
    SHOAL_ASSERT(valid_partition_count(partition_count));
    const std::vector<Member> sorted = sorted_by_id(members);
    assert_members(sorted);
    const ZoneIndex zones = index_zones(sorted);
    if (previous.size() != partition_count) return fresh_claim(partition_count, sorted, zones);

    Claim c{partition_count,
            zones,
            std::vector<std::int32_t>(partition_count, k_free),
            std::vector<std::uint32_t>(sorted.size(), 0),
            {}};
    bool kept_any = false;
    for (std::uint32_t p = 0; p < partition_count; ++p) {
        c.owner[p] = find_member(sorted, previous[p]);
        if (c.owner[p] == k_free) continue;
        c.count[c.owner[p]] += 1;
        kept_any = true;
    }
    if (!kept_any) return fresh_claim(partition_count, sorted, zones);

    set_targets(c);
    release_surplus(c);
    fill_free(c);

    std::vector<NodeId> owners(partition_count);
    for (std::uint32_t p = 0; p < partition_count; ++p) {
        SHOAL_ASSERT(c.count[c.owner[p]] == c.target[c.owner[p]]);
        owners[p] = sorted[c.owner[p]].id;
    }
    return owners;
}

namespace {

// Builds one preference row. Scratch buffers are reused across rows by the caller.
class OrderBuilder {
public:
    OrderBuilder(const std::vector<std::uint32_t>& owner_index, const ZoneIndex& zones)
        : owner_index_(owner_index),
          zones_(zones),
          owns_(zones.of_member.size(), 0),
          listed_(zones.of_member.size(), 0),
          zone_used_(zones.count, 0),
          unlisted_in_zone_(zones.count, 0) {
        for (std::uint32_t m : owner_index) owns_[m] = 1;
    }

    // Fills `out` (M ids) for the row starting at partition `start`. Walks the ring
    // clockwise; members owning no partition are reached, in id order, only when a full
    // walk finds no eligible owner. About O(Q + M) per row when the claim interleaves.
    void fill(std::uint32_t start, const std::vector<Member>& members, std::span<NodeId> out) {
        reset(members.size());
        const auto q = static_cast<std::uint32_t>(owner_index_.size());
        std::uint32_t pos = start;
        std::uint32_t idle_steps = 0;  // positions examined since an owner was listed
        std::size_t n = 0;
        while (n < out.size()) {
            if (open_zones_ == 0) start_round(), idle_steps = 0;
            if (idle_steps < q) {
                const std::uint32_t m = owner_index_[pos];
                pos = (pos + 1) % q;
                idle_steps += 1;
                if (!eligible(m)) continue;
                out[n++] = members[m].id;
                list(m);
                idle_steps = 0;
                continue;
            }
            const std::uint32_t m = first_eligible_non_owner();
            out[n++] = members[m].id;
            list(m);
        }
    }

private:
    bool eligible(std::uint32_t m) const { return !listed_[m] && !zone_used_[zones_.of_member[m]]; }

    void reset(std::size_t m) {
        std::fill(listed_.begin(), listed_.end(), 0);
        std::fill(unlisted_in_zone_.begin(), unlisted_in_zone_.end(), 0);
        for (std::size_t i = 0; i < m; ++i) unlisted_in_zone_[zones_.of_member[i]] += 1;
        start_round();
    }

    // A new round of zones: every zone that still has unlisted members is open again.
    void start_round() {
        std::fill(zone_used_.begin(), zone_used_.end(), 0);
        open_zones_ = 0;
        for (std::uint32_t u : unlisted_in_zone_) open_zones_ += u > 0 ? 1 : 0;
    }

    void list(std::uint32_t m) {
        const std::uint32_t z = zones_.of_member[m];
        listed_[m] = 1;
        zone_used_[z] = 1;
        unlisted_in_zone_[z] -= 1;
        open_zones_ -= 1;  // z was open: unused with m unlisted
    }

    // Only called after a full walk found no eligible owner while a zone is open, so an
    // eligible member exists and owns nothing.
    std::uint32_t first_eligible_non_owner() const {
        for (std::uint32_t m = 0; m < listed_.size(); ++m)
            if (!owns_[m] && eligible(m)) return m;
        SHOAL_UNREACHABLE("open zone without an eligible member");
    }

    const std::vector<std::uint32_t>& owner_index_;
    const ZoneIndex& zones_;
    std::vector<char> owns_;
    std::vector<char> listed_;
    std::vector<char> zone_used_;
    std::vector<std::uint32_t> unlisted_in_zone_;
    std::uint32_t open_zones_ = 0;
};

}  // namespace

// Cost: O(Q log M) to index owners, then one preference row per partition (see
// OrderBuilder::fill); Q x M ids of memory. Members are kept sorted by id.
Ring::Ring(std::uint32_t partition_count, std::vector<Member> members, std::vector<NodeId> owners)
    : partition_count_(partition_count), shift_(0), members_(std::move(members)), owners_(std::move(owners)) {
    SHOAL_ASSERT(valid_partition_count(partition_count_));
    std::sort(members_.begin(), members_.end(), [](const Member& a, const Member& b) { return a.id < b.id; });
    assert_members(members_);
    SHOAL_ASSERT(owners_.size() == partition_count_);
    shift_ = 64 - static_cast<unsigned>(std::countr_zero(partition_count_));

    std::vector<std::uint32_t> owner_index(partition_count_);
    for (std::uint32_t p = 0; p < partition_count_; ++p) {
        const std::int32_t m = find_member(members_, owners_[p]);
        SHOAL_ASSERT_MSG(m != k_free, "partition owner is not a member");
        owner_index[p] = static_cast<std::uint32_t>(m);
    }

    const ZoneIndex zones = index_zones(members_);
    const std::size_t width = members_.size();
    orders_.resize(static_cast<std::size_t>(partition_count_) * width);
    OrderBuilder builder(owner_index, zones);
    for (std::uint32_t p = 0; p < partition_count_; ++p)
        builder.fill(p, members_, std::span<NodeId>(orders_.data() + p * width, width));
}

PartitionId Ring::partition_of(std::uint64_t key_hash) const {
    if (shift_ >= 64) return PartitionId{0};  // Q = 1: shifting by 64 would be UB
    return PartitionId{static_cast<std::uint32_t>(key_hash >> shift_)};
}

NodeId Ring::owner(PartitionId p) const {
    SHOAL_ASSERT(p.value < partition_count_);
    return owners_[p.value];
}

std::span<const NodeId> Ring::preference_order(PartitionId p) const {
    SHOAL_ASSERT(p.value < partition_count_);
    const std::size_t width = members_.size();
    return std::span<const NodeId>(orders_.data() + p.value * width, width);
}

bool Ring::is_primary(PartitionId p, NodeId node, std::size_t n) const {
    const std::span<const NodeId> order = preference_order(p);
    const std::size_t limit = std::min(n, order.size());
    return std::find(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(limit), node) !=
           order.begin() + static_cast<std::ptrdiff_t>(limit);
}

// O(log M): members_ is sorted by id.
const std::string& Ring::zone_of(NodeId node) const {
    static const std::string k_unknown;
    const std::int32_t m = find_member(members_, node);
    if (m == k_free) return k_unknown;
    return members_[m].zone;
}

}  // namespace shoal::ring
