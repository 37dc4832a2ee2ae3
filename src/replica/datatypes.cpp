#include "replica/datatypes.h"

#include <algorithm>
#include <limits>

#include "core/byte_codec.h"
#include "core/errc.h"
#include "core/limits.h"
#include "replica/codec.h"
#include "replica/datatypes_internal.h"

namespace shoal::replica::dt {

namespace {

using namespace detail;

template <class... F>
struct overloaded : F... {
    using F::operator()...;
};
template <class... F>
overloaded(F...) -> overloaded<F...>;

bool by_value(const Element& e, std::string_view v) { return e.value < v; }

// The element holding `value` in a set (const or not), or the elements' end.
template <class S>
auto find_element(S& set, std::string_view value) {
    auto it = std::lower_bound(set.elements.begin(), set.elements.end(), value, by_value);
    return it != set.elements.end() && it->value == value ? it : set.elements.end();
}

// Drops the dots of `element` that `context` has seen; erases the element when none
// is left.
void drop_seen_dots(Set& set, std::string_view element, const VersionVector& context) {
    auto it = find_element(set, element);
    if (it == set.elements.end()) return;
    std::erase_if(it->dots, [&](const Dot& d) { return context.covers(d); });
    if (it->dots.empty()) set.elements.erase(it);
}

// Drops the dots of every element that `context` has seen.
void drop_all_seen_dots(Set& set, const VersionVector& context) {
    std::erase_if(set.elements, [&](Element& e) {
        std::erase_if(e.dots, [&](const Dot& d) { return context.covers(d); });
        return e.dots.empty();
    });
}

bool deferred_less(const DeferredRemove& a, const DeferredRemove& b) {
    return a.context.entries() < b.context.entries();
}

// Adds a remove to wait for `context`, joined with one waiting for the same context
// (no elements: every element, which absorbs any list).
void defer(Set& set, const VersionVector& context, const std::vector<std::string>& elements) {
    auto it = std::lower_bound(set.deferred.begin(), set.deferred.end(), DeferredRemove{context, {}}, deferred_less);
    if (it == set.deferred.end() || it->context != context) {
        set.deferred.insert(it, DeferredRemove{context, elements});
        return;
    }
    if (it->elements.empty() || elements.empty()) {
        it->elements.clear();
        return;
    }
    std::vector<std::string> joined;
    std::set_union(it->elements.begin(), it->elements.end(), elements.begin(), elements.end(),
                   std::back_inserter(joined));
    it->elements = std::move(joined);
}

}  // namespace

namespace detail {
std::vector<Dot> merge_dots(const std::vector<Dot>& a, const VersionVector& a_seen, const std::vector<Dot>& b,
                            const VersionVector& b_seen) {
    // A dot both hold stays; a dot one side holds stays unless the other has seen it
    // (and so removed it).
    std::vector<Dot> out;
    auto i = a.begin();
    auto j = b.begin();
    while (i != a.end() || j != b.end()) {
        if (j == b.end() || (i != a.end() && *i < *j)) {
            if (!b_seen.covers(*i)) out.push_back(*i);
            ++i;
        } else if (i == a.end() || *j < *i) {
            if (!a_seen.covers(*j)) out.push_back(*j);
            ++j;
        } else {
            out.push_back(*i);
            ++i;
            ++j;
        }
    }
    return out;
}

void settle_deferred(Set& set, const VersionVector& seen) {
    // A remove applies to what the set holds now; it stays only while its context has
    // not been seen whole (a dot it names may still arrive).
    std::erase_if(set.deferred, [&](const DeferredRemove& d) {
        if (d.elements.empty()) {
            drop_all_seen_dots(set, d.context);
        } else {
            for (const auto& e : d.elements) drop_seen_dots(set, e, d.context);
        }
        return seen.descends(d.context);
    });
}

void merge_set_items(Set& into, const VersionVector& into_seen, const Set& other, const VersionVector& other_seen) {
    std::vector<Element> out;
    out.reserve(std::max(into.elements.size(), other.elements.size()));
    auto i = into.elements.begin();
    auto j = other.elements.begin();
    static const std::vector<Dot> none;
    while (i != into.elements.end() || j != other.elements.end()) {
        const bool take_i = j == other.elements.end() || (i != into.elements.end() && i->value <= j->value);
        const bool take_j = i == into.elements.end() || (j != other.elements.end() && j->value <= i->value);
        Element e{take_i ? i->value : j->value,
                  merge_dots(take_i ? i->dots : none, into_seen, take_j ? j->dots : none, other_seen)};
        if (!e.dots.empty()) out.push_back(std::move(e));
        if (take_i) ++i;
        if (take_j) ++j;
    }
    into.elements = std::move(out);
    for (const auto& d : other.deferred) defer(into, d.context, d.elements);
}

std::error_code apply_set_ops(Set& set, const VersionVector& seen, const std::vector<std::string>& add,
                              const std::vector<std::string>& remove, bool remove_all, const VersionVector& context,
                              const Dot& dot) {
    if ((remove_all || !remove.empty()) && context.empty()) return errc::precondition_failed;
    std::vector<std::string> removes;
    if (!remove_all) {
        removes = remove;
        std::sort(removes.begin(), removes.end());
        removes.erase(std::unique(removes.begin(), removes.end()), removes.end());
    }
    if ((remove_all || !removes.empty()) && !seen.descends(context)) {
        // Some of what the remover saw has not arrived here: the remove waits for it.
        const bool joins_one = std::any_of(set.deferred.begin(), set.deferred.end(),
                                           [&](const DeferredRemove& d) { return d.context == context; });
        if (!joins_one && set.deferred.size() >= k_max_deferred_removes) return errc::overloaded;
        defer(set, context, removes);
    }
    if (remove_all) drop_all_seen_dots(set, context);
    for (const auto& e : removes) drop_seen_dots(set, e, context);
    // An add replaces the element's dots (all seen here) with the write's own.
    for (const auto& e : add) {
        auto it = std::lower_bound(set.elements.begin(), set.elements.end(), e, by_value);
        if (it == set.elements.end() || it->value != e) it = set.elements.insert(it, Element{e, {}});
        it->dots.assign(1, dot);
    }
    return {};
}

void put_dots(std::string& out, const std::vector<Dot>& dots) {
    put_varint(out, dots.size());
    for (const Dot& d : dots) {
        put_varint(out, d.actor);
        put_varint(out, d.counter);
    }
}

bool get_dots(ByteReader& r, std::vector<Dot>& dots, const VersionVector& seen, bool nonempty) {
    std::uint64_t n = 0;
    if (!r.varint(n) || (nonempty && n == 0) || n > r.left() / 2) return false;
    dots.resize(n);
    for (std::uint64_t k = 0; k < n; ++k) {
        if (!r.varint(dots[k].actor) || !r.varint(dots[k].counter)) return false;
        if (!seen.covers(dots[k]) || (k > 0 && !(dots[k - 1] < dots[k]))) return false;
    }
    return true;
}

void put_set_items(std::string& out, const Set& s) {
    put_varint(out, s.elements.size());
    for (const auto& e : s.elements) {
        put_string(out, e.value);
        put_dots(out, e.dots);
    }
    put_varint(out, s.deferred.size());
    for (const auto& d : s.deferred) {
        encode_vv_body(d.context, out);
        put_strings(out, d.elements);
    }
}

bool get_set_items(ByteReader& r, Set& set, const VersionVector& seen, bool field) {
    std::uint64_t n = 0;
    if (!r.varint(n) || n > r.left()) return false;
    set.elements.resize(n);
    for (std::uint64_t i = 0; i < n; ++i) {
        Element& e = set.elements[i];
        if (!r.string(e.value) || (i > 0 && e.value <= set.elements[i - 1].value)) return false;
        if (!get_dots(r, e.dots, seen, true)) return false;
    }
    if (!r.varint(n) || n > k_max_deferred_removes) return false;
    set.deferred.resize(n);
    for (std::uint64_t i = 0; i < n; ++i) {
        DeferredRemove& d = set.deferred[i];
        if (!decode_vv_body(r, d.context, k_max_context_entries) || !get_strings(r, d.elements, true)) return false;
        // Canonical: a waiting remove's context is not yet seen, and "every item" only
        // in a map's field.
        if ((!field && d.elements.empty()) || seen.descends(d.context)) return false;
        if (i > 0 && !deferred_less(set.deferred[i - 1], d)) return false;
    }
    return true;
}
}  // namespace detail

namespace {

void merge_sets(Set& into, const Set& other) {
    merge_set_items(into, into.context, other, other.context);
    into.context.join(other.context);
    settle_deferred(into, into.context);
}

std::error_code apply_set(Set& set, const SetUpdate& u, const Dot& dot) {
    if (auto ec = apply_set_ops(set, set.context, u.add, u.remove, false, u.context, dot)) return ec;
    set.context.raise(dot);
    settle_deferred(set, set.context);
    return {};
}

std::uint64_t total(const Counter& c, bool increments) {
    std::uint64_t sum = 0;
    for (const auto& e : c.entries) {
        const std::uint64_t v = increments ? e.increments : e.decrements;
        sum = v > std::numeric_limits<std::uint64_t>::max() - sum ? std::numeric_limits<std::uint64_t>::max() : sum + v;
    }
    return sum;
}

// ---- encoding ----------------------------------------------------------------------

bool get_set(ByteReader& r, Set& set) {
    return decode_vv_body(r, set.context, k_max_context_entries) && get_set_items(r, set, set.context, false);
}

bool get_type(ByteReader& r, Type& type, std::uint8_t& format) {
    std::uint8_t t = 0;
    if (!r.byte(t) || !r.byte(format)) return false;
    if (t < static_cast<std::uint8_t>(Type::set) || t > static_cast<std::uint8_t>(Type::map)) return false;
    type = static_cast<Type>(t);
    return format == k_format || (type == Type::map && format == k_map_format);
}

}  // namespace

namespace detail {

void merge_counters(Counter& into, const Counter& other) {
    std::vector<Counter::Entry> out;
    auto i = into.entries.begin();
    auto j = other.entries.begin();
    while (i != into.entries.end() || j != other.entries.end()) {
        if (j == other.entries.end() || (i != into.entries.end() && i->actor < j->actor)) {
            out.push_back(*i++);
        } else if (i == into.entries.end() || j->actor < i->actor) {
            out.push_back(*j++);
        } else {
            out.push_back({i->actor, std::max(i->increments, j->increments), std::max(i->decrements, j->decrements)});
            ++i;
            ++j;
        }
    }
    into.entries = std::move(out);
}

std::error_code apply_counter(Counter& c, std::int64_t delta, ActorId actor) {
    constexpr auto max = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
    const bool up = delta >= 0;
    // |INT64_MIN| is one more than INT64_MAX: take it as unsigned.
    const std::uint64_t amount = up ? static_cast<std::uint64_t>(delta) : 0 - static_cast<std::uint64_t>(delta);
    const std::uint64_t sum = total(c, up);
    if (amount > max || sum > max - amount) return errc::bad_request;  // the totals stay within INT64
    auto it = std::lower_bound(c.entries.begin(), c.entries.end(), actor,
                               [](const Counter::Entry& e, ActorId a) { return e.actor < a; });
    if (it == c.entries.end() || it->actor != actor) it = c.entries.insert(it, Counter::Entry{actor, 0, 0});
    (up ? it->increments : it->decrements) += amount;
    return {};
}

void put_counter(std::string& out, const Counter& c) {
    put_varint(out, c.entries.size());
    for (const auto& e : c.entries) {
        put_varint(out, e.actor);
        put_varint(out, e.increments);
        put_varint(out, e.decrements);
    }
}

bool get_counter(ByteReader& r, Counter& c) {
    std::uint64_t n = 0;
    if (!r.varint(n) || n > r.left() / 3) return false;
    c.entries.resize(n);
    for (std::uint64_t i = 0; i < n; ++i) {
        auto& e = c.entries[i];
        if (!r.varint(e.actor) || !r.varint(e.increments) || !r.varint(e.decrements)) return false;
        if (i > 0 && e.actor <= c.entries[i - 1].actor) return false;
    }
    return true;
}

void put_strings(std::string& out, const std::vector<std::string>& v) {
    put_varint(out, v.size());
    for (const auto& s : v) put_string(out, s);
}

bool get_strings(ByteReader& r, std::vector<std::string>& out, bool sorted) {
    std::uint64_t n = 0;
    if (!r.varint(n) || n > r.left()) return false;
    out.resize(n);
    for (std::uint64_t i = 0; i < n; ++i) {
        if (!r.string(out[i])) return false;
        if (sorted && i > 0 && out[i] <= out[i - 1]) return false;
    }
    return true;
}

}  // namespace detail

std::optional<Type> type_by_name(std::string_view name) {
    if (name == "set") return Type::set;
    if (name == "counter") return Type::counter;
    if (name == "map") return Type::map;
    return std::nullopt;
}

std::string_view type_name(Type type) {
    return type == Type::set ? "set" : type == Type::counter ? "counter" : "map";
}

Type type_of(const State& state) { return static_cast<Type>(state.index() + 1); }
Type type_of(const Update& update) { return static_cast<Type>(update.index() + 1); }

State empty_state(Type type) {
    if (type == Type::set) return Set{};
    if (type == Type::counter) return Counter{};
    return Map{};
}

namespace {
// apply() on `state` itself, which is left half-changed on error.
std::error_code apply_in_place(State& state, const Update& update, const Dot& dot, Time written) {
    if (type_of(state) != type_of(update)) return errc::wrong_type;
    return std::visit(
        overloaded{[&](Set& s) { return apply_set(s, std::get<SetUpdate>(update), dot); },
                   [&](Counter& c) { return apply_counter(c, std::get<CounterUpdate>(update).delta, dot.actor); },
                   [&](Map& m) { return apply_map(m, std::get<MapUpdate>(update), dot, written); }},
        state);
}
}  // namespace

std::error_code apply(State& state, const Update& update, const Dot& dot, Time written) {
    State next = state;
    const std::error_code ec = apply_in_place(next, update, dot, written);
    if (!ec) state = std::move(next);
    return ec;
}

std::error_code merge(State& into, const State& other) {
    if (type_of(into) != type_of(other)) return errc::wrong_type;
    if (&into == &other) return {};  // idempotent; and the merges below move out of `into`
    std::visit(overloaded{[&](Set& s) { merge_sets(s, std::get<Set>(other)); },
                          [&](Counter& c) { merge_counters(c, std::get<Counter>(other)); },
                          [&](Map& m) { merge_maps(m, std::get<Map>(other)); }},
               into);
    return {};
}

std::error_code merge_siblings(Type type, const std::vector<Sibling>& siblings, Time now, State& out) {
    out = empty_state(type);
    bool first = true;  // the empty state merged with one is that one: no merge needed
    for (const auto& s : siblings) {
        if (s.tombstone || s.expired(now)) continue;
        State one;
        if (auto ec = decode(s.value, one)) return ec;
        if (first && type_of(one) == type) {
            out = std::move(one);
        } else if (auto ec = merge(out, one)) {
            return ec;
        }
        first = false;
    }
    return {};
}

std::error_code next_value(const Update& update, const std::vector<Sibling>& siblings, const VersionVector& clock,
                           const Dot& dot, Time written, Time now, std::string& out) {
    State state;
    if (auto ec = merge_siblings(type_of(update), siblings, now, state)) return ec;
    observe(state, clock);
    if (auto ec = apply_in_place(state, update, dot, written)) return ec;  // a scratch state
    out = encode(state);
    return {};
}

std::vector<std::string> members(const Set& set) {
    std::vector<std::string> out;
    out.reserve(set.elements.size());
    for (const auto& e : set.elements) out.push_back(e.value);
    return out;
}

bool contains(const Set& set, std::string_view value) { return find_element(set, value) != set.elements.end(); }

std::int64_t value(const Counter& counter) {
    // apply() keeps each total within INT64; merged concurrent totals may pass it, and
    // then the value saturates.
    constexpr auto max = std::numeric_limits<std::int64_t>::max();
    const std::uint64_t up = std::min<std::uint64_t>(total(counter, true), max);
    const std::uint64_t down = std::min<std::uint64_t>(total(counter, false), max);
    return up >= down ? static_cast<std::int64_t>(up - down) : -static_cast<std::int64_t>(down - up);
}

std::string encode(const State& state) {
    std::string out;
    out.push_back(static_cast<char>(type_of(state)));
    out.push_back(static_cast<char>(type_of(state) == Type::map ? k_map_format : k_format));
    std::visit(overloaded{[&](const Set& s) {
                              encode_vv_body(s.context, out);
                              put_set_items(out, s);
                          },
                          [&](const Counter& c) { put_counter(out, c); },
                          [&](const Map& m) { put_map(out, m); }},
               state);
    return out;
}

std::error_code decode(std::string_view bytes, State& out) {
    ByteReader r(bytes);
    Type type{};
    std::uint8_t format = 0;
    if (!get_type(r, type, format)) return errc::wrong_type;  // a plain value, or another format
    out = empty_state(type);
    const bool ok = std::visit(overloaded{[&](Set& s) { return get_set(r, s); },
                                          [&](Counter& c) { return get_counter(r, c); },
                                          [&](Map& m) { return get_map(r, m, format); }},
                               out);
    return ok && r.done() ? std::error_code{} : make_error_code(errc::corrupt);
}

std::string encode(const Update& update) {
    std::string out;
    out.push_back(static_cast<char>(type_of(update)));
    out.push_back(static_cast<char>(type_of(update) == Type::map ? k_map_format : k_format));
    std::visit(overloaded{[&](const SetUpdate& u) {
                              put_strings(out, u.add);
                              put_strings(out, u.remove);
                              encode_vv_body(u.context, out);
                          },
                          [&](const CounterUpdate& u) { put_signed(out, u.delta); },
                          [&](const MapUpdate& u) { put_map_update(out, u); }},
               update);
    return out;
}

std::error_code decode(std::string_view bytes, Update& out) {
    ByteReader r(bytes);
    Type type{};
    std::uint8_t format = 0;
    if (!get_type(r, type, format)) return errc::bad_request;
    bool ok = false;
    if (type == Type::set) {
        SetUpdate u;
        ok = get_strings(r, u.add, false) && get_strings(r, u.remove, false) &&
             decode_vv_body(r, u.context, k_max_client_context_entries);
        out = std::move(u);
    } else if (type == Type::counter) {
        CounterUpdate u;
        ok = r.signed_varint(u.delta);
        out = u;
    } else {
        MapUpdate u;
        ok = format == k_map_format && get_map_update(r, u);
        out = std::move(u);
    }
    return ok && r.done() ? std::error_code{} : make_error_code(errc::bad_request);
}

std::error_code check_update(const Update& update, std::size_t max_element_bytes) {
    if (const auto* m = std::get_if<MapUpdate>(&update)) return check_map_update(*m, max_element_bytes);
    const auto* set = std::get_if<SetUpdate>(&update);
    if (set == nullptr) return {};
    if (set->add.size() + set->remove.size() > k_max_update_elements) return errc::bad_request;
    if (set->add.empty() && set->remove.empty()) return errc::bad_request;
    if (set->context.entries().size() > k_max_client_context_entries) return errc::bad_context;
    for (const auto* list : {&set->add, &set->remove}) {
        for (const auto& e : *list) {
            if (e.size() > max_element_bytes) return errc::value_too_large;
        }
    }
    return {};
}

void observe(State& state, const VersionVector& clock) {
    if (auto* s = std::get_if<Set>(&state)) {
        s->context.join(clock);
        settle_deferred(*s, s->context);
    } else if (auto* m = std::get_if<Map>(&state)) {
        observe_map(*m, clock);
    }
}

bool repeatable(const Update& update) {
    if (const auto* c = std::get_if<CounterUpdate>(&update)) return c->delta == 0;
    if (const auto* m = std::get_if<MapUpdate>(&update)) return !increments(*m);
    return true;
}

}  // namespace shoal::replica::dt
