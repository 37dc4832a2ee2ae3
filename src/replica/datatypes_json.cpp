// The data types' values as JSON (datatypes.h: to_json), for the HTTP API, the CLI and
// the fields a Redis hash cannot hold.
#include <string>

#include "core/json.h"
#include "replica/datatypes.h"

namespace shoal::replica::dt {

namespace {

void put_items(std::string& out, const Set& s) {
    out += '[';
    for (std::size_t i = 0; i < s.elements.size(); ++i) {
        if (i > 0) out += ',';
        out += json_string(s.elements[i].value);
    }
    out += ']';
}

void put_field(std::string& out, const MapField& f);

void put_fields(std::string& out, const Map& m) {
    out += '{';
    bool first = true;
    for (const auto& f : m.fields) {
        if (!shown(f)) continue;
        if (!first) out += ',';
        first = false;
        out += json_string(f.name);
        out += ':';
        put_field(out, f);
    }
    out += '}';
}

void put_field(std::string& out, const MapField& f) {
    if (const auto* c = std::get_if<Counter>(&f.value)) {
        out += std::to_string(value(*c));
    } else if (const auto* flag = std::get_if<Flag>(&f.value)) {
        out += flag->on() ? "true" : "false";
    } else if (const auto* s = std::get_if<Set>(&f.value)) {
        put_items(out, *s);
    } else if (const auto* m = std::get_if<Map>(&f.value)) {
        put_fields(out, *m);
    } else if (const auto* mv = std::get_if<MultiRegister>(&f.value)) {
        // Every value kept (one, or several assigned at once), in the order of their dots.
        out += '[';
        for (std::size_t i = 0; i < mv->values.size(); ++i) {
            if (i > 0) out += ',';
            out += json_string(mv->values[i].second);
        }
        out += ']';
    } else {
        out += json_string(std::get<Register>(f.value).value);
    }
}

}  // namespace

std::string to_json(const State& state) {
    std::string out;
    if (const auto* c = std::get_if<Counter>(&state)) return std::to_string(value(*c));
    if (const auto* m = std::get_if<Map>(&state)) {
        put_fields(out, *m);
    } else {
        put_items(out, std::get<Set>(state));
    }
    return out;
}

std::string to_json(const MapField& field) {
    std::string out;
    put_field(out, field);
    return out;
}

}  // namespace shoal::replica::dt
