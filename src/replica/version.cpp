#include "replica/version.h"

#include <algorithm>

#include "core/assert.h"

namespace shoal::replica {

std::uint64_t VersionVector::get(ActorId actor) const {
    auto it = std::lower_bound(entries_.begin(), entries_.end(), actor,
                               [](const Entry& e, ActorId a) { return e.first < a; });
    return it != entries_.end() && it->first == actor ? it->second : 0;
}

void VersionVector::raise(ActorId actor, std::uint64_t counter) {
    if (counter == 0) return;
    auto it = std::lower_bound(entries_.begin(), entries_.end(), actor,
                               [](const Entry& e, ActorId a) { return e.first < a; });
    if (it != entries_.end() && it->first == actor) {
        it->second = std::max(it->second, counter);
        return;
    }
    entries_.insert(it, Entry{actor, counter});
}

void VersionVector::join(const VersionVector& other) {
    if (other.entries_.empty()) return;
    if (entries_.empty()) {
        entries_ = other.entries_;
        return;
    }
    std::vector<Entry> out;
    out.reserve(entries_.size() + other.entries_.size());
    auto a = entries_.begin();
    auto b = other.entries_.begin();
    while (a != entries_.end() || b != other.entries_.end()) {
        if (b == other.entries_.end() || (a != entries_.end() && a->first < b->first)) {
            out.push_back(*a++);
        } else if (a == entries_.end() || b->first < a->first) {
            out.push_back(*b++);
        } else {
            out.push_back({a->first, std::max(a->second, b->second)});
            ++a;
            ++b;
        }
    }
    entries_ = std::move(out);
}

bool VersionVector::descends(const VersionVector& other) const {
    for (const auto& [actor, counter] : other.entries_) {
        if (get(actor) < counter) return false;
    }
    return true;
}

namespace {

bool has_dot(const std::vector<Sibling>& siblings, const Dot& dot) {
    auto it = std::lower_bound(siblings.begin(), siblings.end(), dot,
                               [](const Sibling& s, const Dot& d) { return s.dot < d; });
    return it != siblings.end() && it->dot == dot;
}

bool lww_less(const Sibling& a, const Sibling& b) {
    if (a.written != b.written) return a.written < b.written;
    return a.dot < b.dot;
}

void keep_last_writer(std::vector<Sibling>& siblings) {
    if (siblings.size() <= 1) return;
    auto best = std::max_element(siblings.begin(), siblings.end(), lww_less);
    Sibling winner = std::move(*best);
    siblings.clear();
    siblings.push_back(std::move(winner));
}

}  // namespace

SiblingSet merge(const SiblingSet& a, const SiblingSet& b, ConflictMode mode) {
    SiblingSet out;
    out.context = a.context;
    out.context.join(b.context);
    out.siblings.reserve(a.siblings.size() + b.siblings.size());
    // Both lists are sorted by dot: walk them together.
    auto ia = a.siblings.begin();
    auto ib = b.siblings.begin();
    while (ia != a.siblings.end() || ib != b.siblings.end()) {
        if (ib == b.siblings.end() || (ia != a.siblings.end() && ia->dot < ib->dot)) {
            if (!b.context.covers(ia->dot)) out.siblings.push_back(*ia);
            ++ia;
        } else if (ia == a.siblings.end() || ib->dot < ia->dot) {
            if (!a.context.covers(ib->dot)) out.siblings.push_back(*ib);
            ++ib;
        } else {
            out.siblings.push_back(*ia);  // same dot, same write: kept by both
            ++ia;
            ++ib;
        }
    }
    if (mode == ConflictMode::lww) keep_last_writer(out.siblings);
    return out;
}

std::size_t joined_size(const VersionVector& a, const VersionVector& b) {
    // Both are sorted by actor: count the union.
    std::size_t n = 0, i = 0, j = 0;
    const auto& x = a.entries();
    const auto& y = b.entries();
    while (i < x.size() || j < y.size()) {
        ++n;
        if (j == y.size() || (i < x.size() && x[i].first < y[j].first)) ++i;
        else if (i == x.size() || y[j].first < x[i].first) ++j;
        else ++i, ++j;
    }
    return n;
}

bool repeats(const Sibling& s, const WriteOp& op) {
    if (s.tombstone != op.tombstone) return false;
    return op.tombstone || (s.value == op.value && s.content_type == op.content_type && s.expires == op.expires);
}

Dot next_dot(const SiblingSet& local, const VersionVector& context, ActorId actor, std::uint64_t min_counter) {
    return Dot{actor, std::max({local.context.get(actor), context.get(actor), min_counter - (min_counter > 0)}) + 1};
}

Dot apply_write(SiblingSet& local, const WriteOp& op, ActorId actor, ConflictMode mode, std::uint64_t min_counter) {
    const Dot dot = next_dot(local, op.context, actor, min_counter);
    // Under lww a write is stamped after everything its leader holds for the key (a
    // hybrid of the coordinator's clock and the key's last stamp), so a leader never
    // lets an older stamp from a clock that runs ahead beat a write it applies later.
    Time written = op.written;
    if (mode == ConflictMode::lww) {
        for (const auto& s : local.siblings) written = std::max(written, s.written + Duration::micros(1));
    }
    std::vector<Sibling> kept;
    kept.reserve(local.siblings.size() + 1);
    // A sibling the writer had not seen survives beside the new one, unless it holds
    // the very same value: then the new write stands for both (its dot stays in the
    // context), so repeated blind writes of one value make one sibling.
    for (auto& s : local.siblings) {
        if (!op.context.covers(s.dot) && !repeats(s, op)) kept.push_back(std::move(s));
    }
    Sibling fresh{dot, op.tombstone, op.tombstone ? std::string{} : op.value, written, op.expires,
                  op.tombstone ? std::string{} : op.content_type};
    auto pos =
        std::lower_bound(kept.begin(), kept.end(), dot, [](const Sibling& s, const Dot& d) { return s.dot < d; });
    SHOAL_ASSERT(pos == kept.end() || pos->dot != dot);
    kept.insert(pos, std::move(fresh));
    local.siblings = std::move(kept);
    local.context.join(op.context);
    local.context.raise(dot);
    SHOAL_ASSERT(has_dot(local.siblings, dot));
    // Under lww only the greatest (written, dot) survives: here the new write, stamped
    // after everything held. (A stamp from a clock far ahead ratchets later stamps
    // past it: last-modified times then read in that clock's future.)
    if (mode == ConflictMode::lww) keep_last_writer(local.siblings);
    return dot;
}

std::size_t live_count(const SiblingSet& set, Time now) {
    return static_cast<std::size_t>(std::count_if(set.siblings.begin(), set.siblings.end(),
                                                  [&](const Sibling& s) { return !s.tombstone && !s.expired(now); }));
}

bool condition_holds(WriteCondition condition, const SiblingSet& stored, const VersionVector& context, Time now) {
    switch (condition) {
        case WriteCondition::none: return true;
        case WriteCondition::if_none_match: return live_count(stored, now) == 0;
        case WriteCondition::if_match:
            return std::all_of(stored.siblings.begin(), stored.siblings.end(),
                               [&](const Sibling& s) { return context.covers(s.dot); });
    }
    return false;
}

bool reads_as_absent(const SiblingSet& set, Time now) {
    return live_count(set, now) == 0;
}

void drop_expired(SiblingSet& set, Time now) {
    std::erase_if(set.siblings, [&](const Sibling& s) { return s.expired(now); });
}

}  // namespace shoal::replica
