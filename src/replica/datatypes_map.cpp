// The map data type (datatypes.h): named fields, each a last-writer-wins register, a
// counter or an enable-wins flag.
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

// The field named `name`, made with the empty value of `Kind` when there is none.
template <class Kind>
Kind& field_at(Map& m, const std::string& name) {
    auto it = std::lower_bound(m.fields.begin(), m.fields.end(), name, by_name);
    if (it == m.fields.end() || it->name != name) it = m.fields.insert(it, MapField{name, Kind{}});
    return std::get<Kind>(it->value);
}

bool register_less(const Register& a, const Register& b) {
    return a.written != b.written ? a.written < b.written : a.dot < b.dot;
}

// A join of two values of one field: the higher kind wins whole (a fixed order), a
// register the greater stamp, a counter the counters' merge.
void merge_field(MapField& into, const MapField& other) {
    if (into.value.index() != other.value.index()) {
        if (other.value.index() > into.value.index()) into.value = other.value;
        return;
    }
    if (auto* c = std::get_if<Counter>(&into.value)) return merge_counters(*c, std::get<Counter>(other.value));
    if (auto* f = std::get_if<Flag>(&into.value)) {
        const Flag& o = std::get<Flag>(other.value);
        f->enables = merge_dots(f->enables, f->seen, o.enables, o.seen);
        f->seen.join(o.seen);
        return;
    }
    auto& r = std::get<Register>(into.value);
    if (register_less(r, std::get<Register>(other.value))) r = std::get<Register>(other.value);
}

// A stamp after `written` and after every stamp the field holds here, so a write the
// leader applies later wins over the ones it applied before.
Time stamp_after(const MapField* f, Time written) {
    if (f == nullptr || !std::holds_alternative<Register>(f->value)) return written;
    return std::max(written, std::get<Register>(f->value).written + Duration::micros(1));
}

}  // namespace

void merge_maps(Map& into, const Map& other) {
    std::vector<MapField> out;
    out.reserve(std::max(into.fields.size(), other.fields.size()));
    auto i = into.fields.begin();
    auto j = other.fields.begin();
    while (i != into.fields.end() || j != other.fields.end()) {
        if (j == other.fields.end() || (i != into.fields.end() && i->name < j->name)) {
            out.push_back(std::move(*i++));
        } else if (i == into.fields.end() || j->name < i->name) {
            out.push_back(*j++);
        } else {
            MapField f = std::move(*i++);
            merge_field(f, *j++);
            out.push_back(std::move(f));
        }
    }
    into.fields = std::move(out);
}

std::error_code apply_map(Map& map, const MapUpdate& u, const Dot& dot, Time written) {
    for (const auto& [name, value] : u.set) {
        MapField* f = field_of(map, name);
        if (f != nullptr && !std::holds_alternative<Register>(f->value)) return errc::wrong_type;
        const Time stamp = stamp_after(f, written);
        field_at<Register>(map, name) = Register{value, stamp, dot, true};
    }
    for (const auto& name : u.remove) {
        MapField* f = field_of(map, name);
        if (f != nullptr && !std::holds_alternative<Register>(f->value)) return errc::wrong_type;
        const Time stamp = stamp_after(f, written);
        field_at<Register>(map, name) = Register{{}, stamp, dot, false};
    }
    for (const auto& [name, delta] : u.increment) {
        MapField* f = field_of(map, name);
        if (f != nullptr && !std::holds_alternative<Counter>(f->value)) return errc::wrong_type;
        if (auto ec = apply_counter(field_at<Counter>(map, name), delta, dot.actor)) return ec;
    }
    for (const auto& [name, enable] : u.flag) {
        MapField* f = field_of(map, name);
        if (f != nullptr && !std::holds_alternative<Flag>(f->value)) return errc::wrong_type;
        Flag& flag = field_at<Flag>(map, name);
        // A disable drops every enable this state holds: it has seen them all.
        if (enable) {
            const auto at = std::lower_bound(flag.enables.begin(), flag.enables.end(), dot);
            if (at == flag.enables.end() || !(*at == dot)) flag.enables.insert(at, dot);
        } else {
            flag.enables.clear();
        }
        flag.seen.raise(dot);
    }
    return {};
}

void put_map(std::string& out, const Map& m) {
    put_varint(out, m.fields.size());
    for (const auto& f : m.fields) {
        put_string(out, f.name);
        if (const auto* c = std::get_if<Counter>(&f.value)) {
            out.push_back(1);
            put_counter(out, *c);
            continue;
        }
        if (const auto* flag = std::get_if<Flag>(&f.value)) {
            out.push_back(3);
            encode_vv_body(flag->seen, out);
            put_varint(out, flag->enables.size());
            for (const Dot& d : flag->enables) {
                put_varint(out, d.actor);
                put_varint(out, d.counter);
            }
            continue;
        }
        const auto& r = std::get<Register>(f.value);
        out.push_back(r.present ? 0 : 2);
        put_string(out, r.value);
        put_signed(out, r.written.us);
        put_varint(out, r.dot.actor);
        put_varint(out, r.dot.counter);
    }
}

bool get_map(ByteReader& r, Map& m) {
    std::uint64_t n = 0;
    if (!r.varint(n) || n > r.left()) return false;
    m.fields.resize(n);
    for (std::uint64_t i = 0; i < n; ++i) {
        MapField& f = m.fields[i];
        std::uint8_t kind = 0;
        if (!r.string(f.name) || (i > 0 && f.name <= m.fields[i - 1].name) || !r.byte(kind)) return false;
        if (kind == 1) {
            f.value = Counter{};
            if (!get_counter(r, std::get<Counter>(f.value))) return false;
            continue;
        }
        if (kind == 3) {
            Flag& flag = f.value.emplace<Flag>();
            std::uint64_t dots = 0;
            if (!decode_vv_body(r, flag.seen, k_max_context_entries) || !r.varint(dots) || dots * 2 > r.left())
                return false;
            flag.enables.resize(dots);
            for (std::uint64_t k = 0; k < dots; ++k) {
                Dot& d = flag.enables[k];
                if (!r.varint(d.actor) || !r.varint(d.counter)) return false;
                if (!flag.seen.covers(d) || (k > 0 && !(flag.enables[k - 1] < d))) return false;
            }
            continue;
        }
        if (kind != 0 && kind != 2) return false;
        Register reg;
        reg.present = kind == 0;
        if (!r.string(reg.value) || !r.signed_varint(reg.written.us) || !r.varint(reg.dot.actor) ||
            !r.varint(reg.dot.counter))
            return false;
        if (!reg.present && !reg.value.empty()) return false;  // canonical: a tombstone holds nothing
        f.value = std::move(reg);
    }
    return true;
}

void put_map_update(std::string& out, const MapUpdate& u) {
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
}

bool get_map_update(ByteReader& r, MapUpdate& u) {
    std::uint64_t n = 0;
    if (!r.varint(n) || n > r.left()) return false;
    u.set.resize(n);
    for (auto& [name, value] : u.set) {
        if (!r.string(name) || !r.string(value)) return false;
    }
    if (!get_strings(r, u.remove, false) || !r.varint(n) || n > r.left()) return false;
    u.increment.resize(n);
    for (auto& [name, delta] : u.increment) {
        if (!r.string(name) || !r.signed_varint(delta)) return false;
    }
    if (!r.varint(n) || n > r.left()) return false;
    u.flag.resize(n);
    for (auto& [name, enable] : u.flag) {
        std::uint8_t b = 0;
        if (!r.string(name) || !r.byte(b) || b > 1) return false;
        enable = b == 1;
    }
    return true;
}

std::error_code check_map_update(const MapUpdate& u, std::size_t max_name_bytes) {
    const std::size_t n = u.set.size() + u.remove.size() + u.increment.size() + u.flag.size();
    if (n == 0 || n > k_max_update_elements) return errc::bad_request;
    for (const auto& [name, value] : u.set)
        if (name.empty() || name.size() > max_name_bytes) return name.empty() ? errc::bad_request : errc::value_too_large;
    for (const auto& name : u.remove)
        if (name.empty() || name.size() > max_name_bytes) return name.empty() ? errc::bad_request : errc::value_too_large;
    for (const auto& [name, delta] : u.increment)
        if (name.empty() || name.size() > max_name_bytes) return name.empty() ? errc::bad_request : errc::value_too_large;
    for (const auto& [name, enable] : u.flag)
        if (name.empty() || name.size() > max_name_bytes) return name.empty() ? errc::bad_request : errc::value_too_large;
    return {};
}

}  // namespace shoal::replica::dt::detail

namespace shoal::replica::dt {

const MapField* find_field(const Map& map, std::string_view name) {
    const MapField* f = detail::field_of(map, name);
    const auto* r = f == nullptr ? nullptr : std::get_if<Register>(&f->value);
    return r != nullptr && !r->present ? nullptr : f;
}

}  // namespace shoal::replica::dt
