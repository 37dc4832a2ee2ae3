#include "sim/checkers.h"

#include <algorithm>

namespace shoal::sim {

std::set<std::string> parse_items(const std::string& value) {
    std::set<std::string> items;
    std::size_t start = 0;
    while (start < value.size()) {
        std::size_t end = value.find(',', start);
        if (end == std::string::npos) end = value.size();
        if (end > start) items.emplace(value.substr(start, end - start));
        start = end + 1;
    }
    return items;
}

std::string format_items(const std::set<std::string>& items) {
    std::string out;
    for (const auto& item : items) {
        if (!out.empty()) out.push_back(',');
        out += item;
    }
    return out;
}

namespace {

bool item_present(const SiblingSet& state, const std::string& item) {
    for (const auto& s : state.siblings) {
        if (s.tombstone) continue;
        if (parse_items(s.value).count(item) != 0) return true;
    }
    return false;
}

bool deleted_by(const History& history, const AckedAdd& add) {
    for (const auto& d : history.deletes) {
        if (d.key == add.key && d.context.covers(add.dot)) return true;
    }
    return false;
}

}  // namespace

std::vector<AckedAdd> find_lost_adds(const History& history, const std::map<std::string, SiblingSet>& final_state) {
    std::vector<AckedAdd> lost;
    static const SiblingSet empty;
    for (const auto& add : history.acked_adds) {
        auto it = final_state.find(add.key);
        const SiblingSet& state = it == final_state.end() ? empty : it->second;
        if (item_present(state, add.item) || deleted_by(history, add)) continue;
        lost.push_back(add);
    }
    return lost;
}

std::vector<std::pair<Dot, Dot>> find_dominated(const std::string& key, const SiblingSet& set, const History& history) {
    std::vector<std::pair<Dot, Dot>> found;
    for (const auto& newer : set.siblings) {
        auto ctx = history.writer_context.find({key, newer.dot});
        if (ctx == history.writer_context.end()) continue;
        for (const auto& older : set.siblings) {
            if (older.dot != newer.dot && ctx->second.covers(older.dot)) found.emplace_back(older.dot, newer.dot);
        }
    }
    return found;
}

bool available_enough(const Availability& a, double min_ratio) {
    return a.ratio() >= min_ratio;
}

std::vector<Dot> find_resurrected(const std::string& key, const SiblingSet& state, const History& history) {
    std::vector<Dot> found;
    auto it = history.acked_deletes.find(key);
    if (it == history.acked_deletes.end()) return found;
    for (const auto& s : state.siblings) {
        if (!s.tombstone && it->second.covers(s.dot)) found.push_back(s.dot);
    }
    return found;
}

bool replicas_agree(const std::vector<const SiblingSet*>& replicas) {
    static const SiblingSet empty;
    const SiblingSet* first = nullptr;
    for (const SiblingSet* r : replicas) {
        const SiblingSet& s = r ? *r : empty;
        if (first == nullptr) {
            first = &s;
        } else if (!(s == *first)) {
            return false;
        }
    }
    return true;
}

std::vector<AckedAdd> find_lost_set_adds(const History& history,
                                         const std::map<std::string, std::vector<std::string>>& final_sets) {
    std::vector<AckedAdd> lost;
    for (const auto& add : history.dt_adds) {
        auto it = final_sets.find(add.key);
        if (it != final_sets.end() && std::binary_search(it->second.begin(), it->second.end(), add.item)) continue;
        const bool removed = std::any_of(history.dt_removes.begin(), history.dt_removes.end(), [&](const DtRemove& r) {
            return r.key == add.key && r.item == add.item && r.context.covers(add.dot);
        });
        if (!removed) lost.push_back(add);
    }
    return lost;
}

bool counter_keeps_acked(const CounterHistory& h, std::int64_t value) {
    return value >= 0 && static_cast<std::uint64_t>(value) >= h.acked;
}

std::vector<MapFieldWrite> find_lost_map_fields(const History& history,
                                                const std::map<std::string, std::map<std::string, std::string>>& final_maps) {
    std::vector<MapFieldWrite> lost;
    for (const auto& w : history.map_acked) {
        auto m = final_maps.find(w.key);
        const auto f = m == final_maps.end() ? nullptr : [&]() -> const std::string* {
            auto it = m->second.find(w.field);
            return it == m->second.end() ? nullptr : &it->second;
        }();
        auto sent = history.map_values.find({w.key, w.field});
        if (f == nullptr || sent == history.map_values.end() || !sent->second.contains(*f)) lost.push_back(w);
    }
    return lost;
}

}  // namespace shoal::sim
