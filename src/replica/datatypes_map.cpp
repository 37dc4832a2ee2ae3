// The map data type (datatypes.h): named fields, each a last-writer-wins register, a
// counter, an enable-wins flag, an add-wins set, a multi-value register or a nested
// map, under one causal context (the outermost map's `seen`).
#include <algorithm>

#include "core/errc.h"
#include "core/limits.h"
#include "replica/codec.h"
#include "replica/datatypes_internal.h"

namespace shoal::replica::dt::detail {

namespace {

bool by_name(const MapField& f, std::string_view name) { return f.name < name; }

// The field named `name` of a map (const or not), removed registers included; nullptr
// when there is none.
template <class M>
auto field_of(M& m, std::string_view name) -> decltype(&m.fields.front()) {
    auto it = std::lower_bound(m.fields.begin(), m.fields.end(), name, by_name);
    return it != m.fields.end() && it->name == name ? &*it : nullptr;
}

bool removed_register(const MapField& f) {
    const auto* r = std::get_if<Register>(&f.value);
    return r != nullptr && !r->present;
}

// `f` is absent, of the kind `Kind`, or a removed register (which any other kind
// replaces: it outranks a register in the merge too).
template <class Kind>
bool absent_or(const MapField* f) {
    return f == nullptr || std::holds_alternative<Kind>(f->value) || removed_register(*f);
}

// The field named `name`, made with the empty value of `Kind` when there is none (or
// only a removed register, for another kind).
template <class Kind>
Kind& field_at(Map& m, const std::string& name) {
    auto it = std::lower_bound(m.fields.begin(), m.fields.end(), name, by_name);
    if (it == m.fields.end() || it->name != name) it = m.fields.insert(it, MapField{name, Kind{}});
    if (!std::holds_alternative<Kind>(it->value)) it->value = Kind{};
    return std::get<Kind>(it->value);
}

bool register_less(const Register& a, const Register& b) {
    return a.written != b.written ? a.written < b.written : a.dot < b.dot;
}

// A field of the same name and kind as `f`, empty.
MapField empty_like(const MapField& f) {
    MapField e{f.name, {}};
    std::visit([&](const auto& v) { e.value = std::decay_t<decltype(v)>{}; }, f.value);
    return e;
}

void merge_fields(Map& into, const Map& other, const VersionVector& into_seen, const VersionVector& other_seen);

// The observed-remove join of two multi-value registers' values (as merge_dots).
void merge_values(MultiRegister& into, const MultiRegister& other, const VersionVector& into_seen,
                  const VersionVector& other_seen) {
    std::vector<std::pair<Dot, std::string>> out;
    auto i = into.values.begin();
    auto j = other.values.begin();
    while (i != into.values.end() || j != other.values.end()) {
        if (j == other.values.end() || (i != into.values.end() && i->first < j->first)) {
            if (!other_seen.covers(i->first)) out.push_back(std::move(*i));
            ++i;
        } else if (i == into.values.end() || j->first < i->first) {
            if (!into_seen.covers(j->first)) out.push_back(*j);
            ++j;
        } else {
            out.push_back(std::move(*i));
            ++i;
            ++j;
        }
    }
    into.values = std::move(out);
}

// Drops the values `context` saw (every value when it is empty: the leader's state has
// seen all it holds).
void drop_values(MultiRegister& mv, const VersionVector& context) {
    std::erase_if(mv.values, [&](const auto& v) { return context.empty() || context.covers(v.first); });
}

// A join of two values of one field: the higher kind wins whole (a fixed order), a
// register the greater stamp, a counter the counters' merge, a flag's and a set's dots
// the observed-remove join under each side's context, a map its fields'.
void merge_field(MapField& into, const MapField& other, const VersionVector& into_seen,
                 const VersionVector& other_seen) {
    if (into.value.index() != other.value.index()) {
        // The lower kind counts as the higher one's empty value, seen under its side's
        // context: what that side has seen and lacks stays removed, whichever way round.
        if (other.value.index() > into.value.index()) {
            MapField joined = empty_like(other);
            merge_field(joined, other, into_seen, other_seen);
            into.value = std::move(joined.value);
        } else {
            merge_field(into, empty_like(into), into_seen, other_seen);
        }
        return;
    }
    if (auto* c = std::get_if<Counter>(&into.value)) return merge_counters(*c, std::get<Counter>(other.value));
    if (auto* f = std::get_if<Flag>(&into.value)) {
        const Flag& o = std::get<Flag>(other.value);
        f->enables = merge_dots(f->enables, f->seen, o.enables, o.seen);
        f->seen.join(o.seen);
        return;
    }
    if (auto* s = std::get_if<Set>(&into.value))
        return merge_set_items(*s, into_seen, std::get<Set>(other.value), other_seen);
    if (auto* m = std::get_if<Map>(&into.value))
        return merge_fields(*m, std::get<Map>(other.value), into_seen, other_seen);
    if (auto* mv = std::get_if<MultiRegister>(&into.value))
        return merge_values(*mv, std::get<MultiRegister>(other.value), into_seen, other_seen);
    auto& r = std::get<Register>(into.value);
    if (register_less(r, std::get<Register>(other.value))) r = std::get<Register>(other.value);
}

void merge_fields(Map& into, const Map& other, const VersionVector& into_seen, const VersionVector& other_seen) {
    std::vector<MapField> out;
    out.reserve(std::max(into.fields.size(), other.fields.size()));
    auto i = into.fields.begin();
    auto j = other.fields.begin();
    // A field one side lacks is joined with its empty value, so a set item the other
    // side has seen (and so removed) goes.
    while (i != into.fields.end() || j != other.fields.end()) {
        if (j == other.fields.end() || (i != into.fields.end() && i->name < j->name)) {
            MapField f = std::move(*i++);
            merge_field(f, empty_like(f), into_seen, other_seen);
            out.push_back(std::move(f));
        } else if (i == into.fields.end() || j->name < i->name) {
            MapField f = empty_like(*j);
            merge_field(f, *j++, into_seen, other_seen);
            out.push_back(std::move(f));
        } else {
            MapField f = std::move(*i++);
            merge_field(f, *j++, into_seen, other_seen);
            out.push_back(std::move(f));
        }
    }
    into.fields = std::move(out);
}

// Applies every set field's waiting removes under `seen`, at every depth.
void settle_fields(Map& m, const VersionVector& seen) {
    for (auto& f : m.fields) {
        if (auto* s = std::get_if<Set>(&f.value)) settle_deferred(*s, seen);
        if (auto* nested = std::get_if<Map>(&f.value)) settle_fields(*nested, seen);
    }
}

// A stamp after `written` and after every stamp the field holds here, so a write the
// leader applies later wins over the ones it applied before.
Time stamp_after(const MapField* f, Time written) {
    if (f == nullptr || !std::holds_alternative<Register>(f->value)) return written;
    return std::max(written, std::get<Register>(f->value).written + Duration::micros(1));
}

// What one update is applied under: its dot and stamp, the writer's context, the
// map's context before it, and the depth of the fields being updated.
struct Write {
    const Dot& dot;
    Time written;
    const VersionVector& context;
    const VersionVector& seen;
    std::size_t depth;
};

void disable(Flag& flag, const Dot& dot) {
    // A disable drops every enable this state holds: it has seen them all.
    flag.enables.clear();
    flag.seen.raise(dot);
}

std::error_code remove_field(Map& map, const std::string& name, const Write& w);

// Removes every field of a nested map (a counter among them refuses the remove).
std::error_code remove_fields(Map& map, const Write& w) {
    for (const auto& f : map.fields) {
        if (std::holds_alternative<Counter>(f.value)) return errc::wrong_type;
    }
    std::vector<std::string> names;
    for (const auto& f : map.fields) names.push_back(f.name);
    for (const auto& name : names) {
        if (auto ec = remove_field(map, name, w)) return ec;
    }
    return {};
}

std::error_code remove_field(Map& map, const std::string& name, const Write& w) {
    MapField* f = field_of(map, name);
    // A remove decided on a read that saw more than this leader has: a set field's
    // waits in the set for what it saw. Any other is refused until the leader catches
    // up: the field may be absent here, or another kind than the reader saw (which
    // would win the merge whole), or a nested map whose fields are not all here.
    if (!w.seen.descends(w.context) && !(f != nullptr && std::holds_alternative<Set>(f->value)))
        return errc::overloaded;
    if (f == nullptr || std::holds_alternative<Register>(f->value)) {
        const Time stamp = stamp_after(f, w.written);
        field_at<Register>(map, name) = Register{{}, stamp, w.dot, false};
        return {};
    }
    if (auto* flag = std::get_if<Flag>(&f->value)) {
        disable(*flag, w.dot);
        return {};
    }
    if (auto* s = std::get_if<Set>(&f->value)) return apply_set_ops(*s, w.seen, {}, {}, true, w.context, w.dot);
    if (auto* mv = std::get_if<MultiRegister>(&f->value)) {
        drop_values(*mv, w.context);
        return {};
    }
    if (auto* nested = std::get_if<Map>(&f->value)) {
        if (w.context.empty()) return errc::precondition_failed;
        return remove_fields(*nested, w);
    }
    return errc::wrong_type;  // a counter
}

std::error_code apply_fields(Map& map, const MapUpdate& u, const Write& w) {
    for (const auto& [name, value] : u.set) {
        MapField* f = field_of(map, name);
        if (!absent_or<Register>(f)) return errc::wrong_type;
        const Time stamp = stamp_after(f, w.written);
        field_at<Register>(map, name) = Register{value, stamp, w.dot, true};
    }
    for (const auto& name : u.remove) {
        if (auto ec = remove_field(map, name, w)) return ec;
    }
    for (const auto& [name, delta] : u.increment) {
        if (!absent_or<Counter>(field_of(map, name))) return errc::wrong_type;
        if (auto ec = apply_counter(field_at<Counter>(map, name), delta, w.dot.actor)) return ec;
    }
    for (const auto& [name, enable] : u.flag) {
        if (!absent_or<Flag>(field_of(map, name))) return errc::wrong_type;
        Flag& flag = field_at<Flag>(map, name);
        if (!enable) {
            disable(flag, w.dot);
            continue;
        }
        const auto at = std::lower_bound(flag.enables.begin(), flag.enables.end(), w.dot);
        if (at == flag.enables.end() || !(*at == w.dot)) flag.enables.insert(at, w.dot);
        flag.seen.raise(w.dot);
    }
    for (const auto* list : {&u.add, &u.discard}) {
        const bool adding = list == &u.add;
        for (const auto& [name, items] : *list) {
            if (!absent_or<Set>(field_of(map, name))) return errc::wrong_type;
            static const std::vector<std::string> none;
            Set& s = field_at<Set>(map, name);
            const auto& adds = adding ? items : none;
            const auto& removes = adding ? none : items;
            if (auto ec = apply_set_ops(s, w.seen, adds, removes, false, w.context, w.dot)) return ec;
        }
    }
    for (const auto& [name, value] : u.assign) {
        if (!absent_or<MultiRegister>(field_of(map, name))) return errc::wrong_type;
        // Values the writer saw that have not arrived here would survive it: refused
        // until the leader has caught up.
        if (!w.seen.descends(w.context)) return errc::overloaded;
        MultiRegister& mv = field_at<MultiRegister>(map, name);
        drop_values(mv, w.context);
        const auto at = std::lower_bound(mv.values.begin(), mv.values.end(), w.dot,
                                         [](const auto& v, const Dot& d) { return v.first < d; });
        mv.values.emplace(at, w.dot, value);
    }
    for (const auto& nested : u.update) {
        if (!absent_or<Map>(field_of(map, nested.name))) return errc::wrong_type;
        if (w.depth >= k_max_map_depth) return errc::bad_request;
        const Write deeper{w.dot, w.written, w.context, w.seen, w.depth + 1};
        if (auto ec = apply_fields(field_at<Map>(map, nested.name), nested.update, deeper)) return ec;
    }
    return {};
}

// ---- encoding ----------------------------------------------------------------------

// A field's kind byte.
enum FieldKind : std::uint8_t {
    k_register = 0,
    k_counter = 1,
    k_removed = 2,
    k_flag = 3,
    k_set = 4,
    k_map = 5,
    k_multi = 6,
};

void put_fields(std::string& out, const Map& m) {
    put_varint(out, m.fields.size());
    for (const auto& f : m.fields) {
        put_string(out, f.name);
        if (const auto* c = std::get_if<Counter>(&f.value)) {
            out.push_back(k_counter);
            put_counter(out, *c);
        } else if (const auto* flag = std::get_if<Flag>(&f.value)) {
            out.push_back(k_flag);
            encode_vv_body(flag->seen, out);
            put_dots(out, flag->enables);
        } else if (const auto* s = std::get_if<Set>(&f.value)) {
            out.push_back(k_set);
            put_set_items(out, *s);
        } else if (const auto* nested = std::get_if<Map>(&f.value)) {
            out.push_back(k_map);
            put_fields(out, *nested);
        } else if (const auto* mv = std::get_if<MultiRegister>(&f.value)) {
            out.push_back(k_multi);
            put_varint(out, mv->values.size());
            for (const auto& [dot, value] : mv->values) {
                put_varint(out, dot.actor);
                put_varint(out, dot.counter);
                put_string(out, value);
            }
        } else {
            const auto& r = std::get<Register>(f.value);
            out.push_back(r.present ? k_register : k_removed);
            put_string(out, r.value);
            put_signed(out, r.written.us);
            put_varint(out, r.dot.actor);
            put_varint(out, r.dot.counter);
        }
    }
}

// The fields of a map at `depth` (1: the outermost), under the outermost's `seen`;
// `v2`: the kinds of format 2 (sets, maps, multi-value registers) may appear.
bool get_fields(ByteReader& r, Map& m, const VersionVector& seen, std::size_t depth, bool v2) {
    std::uint64_t n = 0;
    // A field takes 4 bytes at the least (its name's length and a byte of it, its kind,
    // its value's first byte): the count cannot ask for more than the input holds.
    if (!r.varint(n) || n > r.left() / 4) return false;
    m.fields.resize(n);
    for (std::uint64_t i = 0; i < n; ++i) {
        MapField& f = m.fields[i];
        std::uint8_t kind = 0;
        if (!r.string(f.name) || (i > 0 && f.name <= m.fields[i - 1].name) || !r.byte(kind)) return false;
        if (kind == k_counter) {
            f.value = Counter{};
            if (!get_counter(r, std::get<Counter>(f.value))) return false;
        } else if (kind == k_flag) {
            Flag& flag = f.value.emplace<Flag>();
            if (!decode_vv_body(r, flag.seen, k_max_context_entries) || !get_dots(r, flag.enables, flag.seen, false))
                return false;
        } else if (kind == k_set && v2) {
            if (!get_set_items(r, f.value.emplace<Set>(), seen, true)) return false;
        } else if (kind == k_map && v2 && depth < k_max_map_depth) {
            if (!get_fields(r, f.value.emplace<Map>(), seen, depth + 1, v2)) return false;
        } else if (kind == k_multi && v2) {
            auto& values = f.value.emplace<MultiRegister>().values;
            std::uint64_t count = 0;
            if (!r.varint(count) || count > r.left() / 3) return false;
            values.resize(count);
            for (std::uint64_t k = 0; k < count; ++k) {
                auto& [dot, value] = values[k];
                if (!r.varint(dot.actor) || !r.varint(dot.counter) || !r.string(value)) return false;
                if (!seen.covers(dot) || (k > 0 && !(values[k - 1].first < dot))) return false;
            }
        } else if (kind == k_register || kind == k_removed) {
            Register reg;
            reg.present = kind == k_register;
            if (!r.string(reg.value) || !r.signed_varint(reg.written.us) || !r.varint(reg.dot.actor) ||
                !r.varint(reg.dot.counter))
                return false;
            if (!reg.present && !reg.value.empty()) return false;  // canonical: a tombstone holds nothing
            f.value = std::move(reg);
        } else {
            return false;
        }
    }
    return true;
}

// A count of an update's entries: within what check_update lets through (so a decode
// allocates no more than a valid update needs) and within the input.
bool update_count_ok(std::uint64_t n, const ByteReader& r) { return n <= k_max_update_elements && n <= r.left(); }
bool update_count(ByteReader& r, std::uint64_t& n) { return r.varint(n) && update_count_ok(n, r); }

void put_named_lists(std::string& out, const std::vector<std::pair<std::string, std::vector<std::string>>>& lists) {
    put_varint(out, lists.size());
    for (const auto& [name, items] : lists) {
        put_string(out, name);
        put_strings(out, items);
    }
}

bool get_named_lists(ByteReader& r, std::vector<std::pair<std::string, std::vector<std::string>>>& lists) {
    std::uint64_t n = 0;
    if (!update_count(r, n)) return false;
    lists.resize(n);
    for (auto& [name, items] : lists) {
        if (!r.string(name) || !get_strings(r, items, false)) return false;
    }
    return true;
}

void put_update(std::string& out, const MapUpdate& u, bool outermost) {
    put_varint(out, u.set.size());
    for (const auto& [name, value] : u.set) {
        put_string(out, name);
        put_string(out, value);
    }
    put_strings(out, u.remove);
    put_varint(out, u.increment.size());
    for (const auto& [name, delta] : u.increment) {
        put_string(out, name);
        put_signed(out, delta);
    }
    put_varint(out, u.flag.size());
    for (const auto& [name, enable] : u.flag) {
        put_string(out, name);
        out.push_back(enable ? 1 : 0);
    }
    put_named_lists(out, u.add);
    put_named_lists(out, u.discard);
    put_varint(out, u.update.size());
    for (const auto& nested : u.update) {
        put_string(out, nested.name);
        put_update(out, nested.update, false);
    }
    put_varint(out, u.assign.size());
    for (const auto& [name, value] : u.assign) {
        put_string(out, name);
        put_string(out, value);
    }
    if (outermost) encode_vv_body(u.context, out);
}

bool get_update(ByteReader& r, MapUpdate& u, std::size_t depth) {
    std::uint64_t n = 0;
    if (!update_count(r, n)) return false;
    u.set.resize(n);
    for (auto& [name, value] : u.set) {
        if (!r.string(name) || !r.string(value)) return false;
    }
    if (!get_strings(r, u.remove, false) || !update_count(r, n)) return false;
    u.increment.resize(n);
    for (auto& [name, delta] : u.increment) {
        if (!r.string(name) || !r.signed_varint(delta)) return false;
    }
    if (!update_count(r, n)) return false;
    u.flag.resize(n);
    for (auto& [name, enable] : u.flag) {
        std::uint8_t b = 0;
        if (!r.string(name) || !r.byte(b) || b > 1) return false;
        enable = b == 1;
    }
    if (!get_named_lists(r, u.add) || !get_named_lists(r, u.discard) || !update_count(r, n)) return false;
    if (n > 0 && depth >= k_max_map_depth) return false;
    u.update.resize(n);
    for (auto& nested : u.update) {
        if (!r.string(nested.name) || !get_update(r, nested.update, depth + 1)) return false;
    }
    if (!update_count(r, n)) return false;
    u.assign.resize(n);
    for (auto& [name, value] : u.assign) {
        if (!r.string(name) || !r.string(value)) return false;
    }
    return depth > 1 || decode_vv_body(r, u.context, k_max_client_context_entries);
}

// The names and items one update (at `depth`) names, counted into `n`; the first
// limit it breaks.
std::error_code check_fields(const MapUpdate& u, std::size_t max_name_bytes, std::size_t depth, std::size_t& n) {
    if (depth > k_max_map_depth) return errc::bad_request;
    const auto name_ok = [&](const std::string& name) -> std::error_code {
        ++n;
        if (name.empty()) return errc::bad_request;
        return name.size() > max_name_bytes ? errc::value_too_large : std::error_code{};
    };
    const std::size_t before = n;
    for (const auto& [name, value] : u.set)
        if (auto ec = name_ok(name)) return ec;
    for (const auto& name : u.remove)
        if (auto ec = name_ok(name)) return ec;
    for (const auto& [name, delta] : u.increment)
        if (auto ec = name_ok(name)) return ec;
    for (const auto& [name, enable] : u.flag)
        if (auto ec = name_ok(name)) return ec;
    for (const auto& [name, value] : u.assign)
        if (auto ec = name_ok(name)) return ec;
    for (const auto* list : {&u.add, &u.discard}) {
        for (const auto& [name, items] : *list) {
            if (auto ec = name_ok(name)) return ec;
            if (items.empty()) return errc::bad_request;
            for (const auto& item : items) {
                if (auto ec = name_ok(item); ec == errc::value_too_large) return ec;
            }
        }
    }
    for (const auto& nested : u.update) {
        if (auto ec = name_ok(nested.name)) return ec;
        if (!nested.update.context.empty()) return errc::bad_request;  // the outermost update's only
        if (auto ec = check_fields(nested.update, max_name_bytes, depth + 1, n)) return ec;
    }
    if (n == before) return errc::bad_request;  // an update of nothing
    return n > k_max_update_elements ? errc::bad_request : std::error_code{};
}

}  // namespace

void merge_maps(Map& into, const Map& other) {
    merge_fields(into, other, into.seen, other.seen);
    into.seen.join(other.seen);
    settle_fields(into, into.seen);
}

std::error_code apply_map(Map& map, const MapUpdate& u, const Dot& dot, Time written) {
    if (auto ec = apply_fields(map, u, Write{dot, written, u.context, map.seen, 1})) return ec;
    map.seen.raise(dot);
    settle_fields(map, map.seen);
    return {};
}

void put_map(std::string& out, const Map& m) {
    encode_vv_body(m.seen, out);
    put_fields(out, m);
}

bool get_map(ByteReader& r, Map& m, std::uint8_t format) {
    const bool v2 = format == k_map_format;
    if (v2 && !decode_vv_body(r, m.seen, k_max_context_entries)) return false;
    return get_fields(r, m, m.seen, 1, v2);
}

void put_map_update(std::string& out, const MapUpdate& u) { put_update(out, u, true); }

bool get_map_update(ByteReader& r, MapUpdate& u) { return get_update(r, u, 1); }

std::error_code check_map_update(const MapUpdate& u, std::size_t max_name_bytes) {
    if (u.context.entries().size() > k_max_client_context_entries) return errc::bad_context;
    std::size_t n = 0;
    return check_fields(u, max_name_bytes, 1, n);
}

bool increments(const MapUpdate& u) {
    if (!u.increment.empty()) return true;
    return std::any_of(u.update.begin(), u.update.end(), [](const NestedMapUpdate& n) { return increments(n.update); });
}

void observe_map(Map& m, const VersionVector& clock) {
    m.seen.join(clock);
    settle_fields(m, m.seen);
}

}  // namespace shoal::replica::dt::detail

namespace shoal::replica::dt {

bool shown(const MapField& field) {
    if (const auto* r = std::get_if<Register>(&field.value)) return r->present;
    if (const auto* s = std::get_if<Set>(&field.value)) return !s->elements.empty();
    if (const auto* mv = std::get_if<MultiRegister>(&field.value)) return !mv->values.empty();
    if (const auto* m = std::get_if<Map>(&field.value))
        return std::any_of(m->fields.begin(), m->fields.end(), [](const MapField& f) { return shown(f); });
    return true;  // counters and flags read as a number and on/off
}

const MapField* find_field(const Map& map, std::string_view name) {
    const MapField* f = detail::field_of(map, name);
    return f != nullptr && shown(*f) ? f : nullptr;
}

}  // namespace shoal::replica::dt
