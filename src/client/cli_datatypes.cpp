// `shoal set|counter|map ...`: data-type keys from the command line. Each command is
// one update (or one read) through the native client; a namespace of the type is named
// with --ns. A set remove first reads the key and removes with that read's context, so
// it takes away exactly what the read saw (an add it never saw survives); so do a map's
// `discard` and `del`.
#include <algorithm>
#include <charconv>
#include <cstdio>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "client/cli.h"
#include "replica/datatypes.h"

namespace shoal::cli {

namespace {

namespace dt = replica::dt;

constexpr const char* k_set_usage =
    "usage: shoal set add KEY MEMBER... | remove KEY MEMBER... | members KEY | contains KEY MEMBER  --ns NAME\n";
constexpr const char* k_counter_usage = "usage: shoal counter incr KEY [N] | decr KEY [N] | get KEY  --ns NAME\n";
constexpr const char* k_map_usage =
    "usage: shoal map set KEY FIELD VALUE | incr KEY FIELD [N] | enable|disable KEY FIELD... | del KEY FIELD... |\n"
    "       add KEY FIELD ITEM... | discard KEY FIELD ITEM... | assign KEY FIELD VALUE | get KEY [FIELD]  --ns NAME\n"
    "       (add and discard work on a set field, assign on a multi-value register; sets,\n"
    "       multi-value registers and nested maps print as JSON)\n";

int usage(const char* text) {
    std::fputs(text, stderr);
    return k_usage;
}

// A step for incr/decr: a decimal in [1, INT64_MAX]; `text` empty means 1.
bool parse_step(const std::string& text, std::int64_t& out) {
    if (text.empty()) {
        out = 1;
        return true;
    }
    std::int64_t v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc{} || end != text.data() + text.size() || v < 1) {
        std::fprintf(stderr, "shoal: N must be 1..%lld\n", static_cast<long long>(std::numeric_limits<std::int64_t>::max()));
        return false;
    }
    out = v;
    return true;
}

// The members (or fields) a command names: at least one, at most an update's bound.
bool names_in_bounds(const std::vector<std::string>& names, const char* what) {
    if (names.empty()) return std::fprintf(stderr, "shoal: name at least one %s\n", what), false;
    if (names.size() > dt::k_max_update_elements) {
        std::fprintf(stderr, "shoal: at most %zu %ss in one update\n", dt::k_max_update_elements, what);
        return false;
    }
    return true;
}

int report_update(const client::Result& r, const char* what) {
    if (r.code != errc::ok) return exit_for(r, what);
    std::printf("ok (%u of %u required replicas acknowledged)\n", r.replies, r.required);
    return k_ok;
}

// Reads KEY as one value of `type`; prints the failure and returns its exit code, or
// k_ok with `out` filled (an empty state when nothing is stored).
int read_as(client::Client& c, const std::string& key, dt::Type type, const client::RequestOptions& o,
            client::Client::DatatypeRead& out, const char* what) {
    out = c.read_datatype(key, type, o);
    return out.result.code == errc::ok ? k_ok : exit_for(out.result, what);
}

int set_command(client::Client& c, const std::vector<std::string>& p, const client::RequestOptions& o) {
    const std::string& verb = p[1];
    if (p.size() < 3) return usage(k_set_usage);
    const std::string& key = p[2];
    const std::vector<std::string> rest(p.begin() + 3, p.end());
    if (verb == "add") {
        if (!names_in_bounds(rest, "member")) return k_usage;
        return report_update(c.update(key, dt::SetUpdate{rest, {}, {}}, o), "set add");
    }
    client::Client::DatatypeRead read;
    if (verb == "remove") {
        if (!names_in_bounds(rest, "member")) return k_usage;
        if (int rc = read_as(c, key, dt::Type::set, o, read, "set remove"); rc != k_ok) return rc;
        const auto& set = std::get<dt::Set>(read.state);
        std::vector<std::string> present;
        for (const auto& m : rest) {
            if (dt::contains(set, m)) present.push_back(m);
        }
        if (present.empty()) {
            std::fprintf(stderr, "not found (no member named is in the set)\n");
            return k_not_found;
        }
        const int rc = report_update(c.update(key, dt::SetUpdate{{}, present, read.context}, o), "set remove");
        if (rc == k_ok) std::printf("removed %zu of %zu named\n", present.size(), rest.size());
        return rc;
    }
    if (verb == "members" || verb == "contains") {
        if (rest.size() != (verb == "members" ? 0u : 1u)) return usage(k_set_usage);
        if (int rc = read_as(c, key, dt::Type::set, o, read, ("set " + verb).c_str()); rc != k_ok) return rc;
        const auto& set = std::get<dt::Set>(read.state);
        if (verb == "contains") {
            const bool in = dt::contains(set, rest[0]);
            std::puts(in ? "yes" : "no");
            return in ? k_ok : k_not_found;
        }
        const auto members = dt::members(set);
        for (const auto& m : members) std::printf("%s\n", m.c_str());
        if (members.empty()) std::fprintf(stderr, "(empty)\n");
        return members.empty() ? k_not_found : k_ok;
    }
    return usage(k_set_usage);
}

int counter_command(client::Client& c, const std::vector<std::string>& p, const client::RequestOptions& o) {
    const std::string& verb = p[1];
    if (p.size() < 3) return usage(k_counter_usage);
    const std::string& key = p[2];
    if (verb == "incr" || verb == "decr") {
        if (p.size() > 4) return usage(k_counter_usage);
        std::int64_t step = 0;
        if (!parse_step(p.size() == 4 ? p[3] : std::string(), step)) return k_usage;
        const std::int64_t delta = verb == "incr" ? step : -step;
        return report_update(c.update(key, dt::CounterUpdate{delta}, o), ("counter " + verb).c_str());
    }
    if (verb == "get") {
        if (p.size() != 3) return usage(k_counter_usage);
        client::Client::DatatypeRead read;
        if (int rc = read_as(c, key, dt::Type::counter, o, read, "counter get"); rc != k_ok) return rc;
        std::printf("%lld\n", static_cast<long long>(dt::value(std::get<dt::Counter>(read.state))));
        return k_ok;
    }
    return usage(k_counter_usage);
}

int map_command(client::Client& c, const std::vector<std::string>& p, const client::RequestOptions& o) {
    const std::string& verb = p[1];
    if (p.size() < 3) return usage(k_map_usage);
    const std::string& key = p[2];
    dt::MapUpdate update;
    if (verb == "set") {
        if (p.size() != 5) return usage(k_map_usage);
        update.set.emplace_back(p[3], p[4]);
        return report_update(c.update(key, update, o), "map set");
    }
    if (verb == "incr") {
        if (p.size() < 4 || p.size() > 5) return usage(k_map_usage);
        std::int64_t step = 0;
        if (!parse_step(p.size() == 5 ? p[4] : std::string(), step)) return k_usage;
        update.increment.emplace_back(p[3], step);
        return report_update(c.update(key, update, o), "map incr");
    }
    if (verb == "enable" || verb == "disable") {
        if (p.size() < 4) return usage(k_map_usage);
        std::vector<std::string> names(p.begin() + 3, p.end());
        if (!names_in_bounds(names, "field")) return k_usage;
        for (auto& n : names) update.flag.emplace_back(std::move(n), verb == "enable");
        return report_update(c.update(key, update, o), verb == "enable" ? "map enable" : "map disable");
    }
    if (verb == "add") {
        if (p.size() < 5) return usage(k_map_usage);
        std::vector<std::string> items(p.begin() + 4, p.end());
        if (!names_in_bounds(items, "item")) return k_usage;
        update.add.emplace_back(p[3], std::move(items));
        return report_update(c.update(key, update, o), "map add");
    }
    if (verb == "assign") {
        // Replaces the values this read saw; values assigned at the same time elsewhere stay.
        if (p.size() != 5) return usage(k_map_usage);
        client::Client::DatatypeRead read;
        if (int rc = read_as(c, key, dt::Type::map, o, read, "map assign"); rc != k_ok) return rc;
        update.assign.emplace_back(p[3], p[4]);
        update.context = read.context;
        return report_update(c.update(key, update, o), "map assign");
    }
    if (verb == "del" || verb == "discard") {
        // A set or map field goes, and a discarded item, with what this read saw of it.
        client::Client::DatatypeRead read;
        if (verb == "del") {
            update.remove.assign(p.begin() + 3, p.end());
            if (!names_in_bounds(update.remove, "field")) return k_usage;
        } else {
            if (p.size() < 5) return usage(k_map_usage);
            std::vector<std::string> items(p.begin() + 4, p.end());
            if (!names_in_bounds(items, "item")) return k_usage;
            update.discard.emplace_back(p[3], std::move(items));
        }
        const std::string what = "map " + verb;
        if (int rc = read_as(c, key, dt::Type::map, o, read, what.c_str()); rc != k_ok) return rc;
        // A register's remove needs no context (and one the key's leader has not yet
        // seen all of would be refused): it is sent for the other kinds only.
        const auto& map = std::get<dt::Map>(read.state);
        const bool observed = !update.discard.empty() ||
                              std::any_of(update.remove.begin(), update.remove.end(), [&](const std::string& name) {
                                  const dt::MapField* f = dt::find_field(map, name);
                                  return f != nullptr && !std::holds_alternative<dt::Register>(f->value);
                              });
        if (observed) update.context = read.context;
        return report_update(c.update(key, update, o), what.c_str());
    }
    if (verb == "get") {
        if (p.size() > 4) return usage(k_map_usage);
        client::Client::DatatypeRead read;
        if (int rc = read_as(c, key, dt::Type::map, o, read, "map get"); rc != k_ok) return rc;
        const auto& map = std::get<dt::Map>(read.state);
        const auto print = [](const dt::MapField& f, bool with_name) {
            if (with_name) std::printf("%s: ", f.name.c_str());
            if (const auto* r = std::get_if<dt::Register>(&f.value)) {
                std::printf("%s\n", r->value.c_str());
            } else if (const auto* flag = std::get_if<dt::Flag>(&f.value)) {
                std::printf("%s\n", flag->on() ? "on" : "off");
            } else if (const auto* counter = std::get_if<dt::Counter>(&f.value)) {
                std::printf("%lld\n", static_cast<long long>(dt::value(*counter)));
            } else {
                std::printf("%s\n", dt::to_json(f).c_str());
            }
        };
        if (p.size() == 4) {
            const dt::MapField* f = dt::find_field(map, p[3]);
            if (f == nullptr) return std::fprintf(stderr, "not found (no such field)\n"), k_not_found;
            print(*f, false);
            return k_ok;
        }
        std::size_t shown = 0;
        for (const auto& f : map.fields) {
            if (!dt::shown(f)) continue;  // a removed register, an empty set
            print(f, true);
            ++shown;
        }
        if (shown == 0) std::fprintf(stderr, "(empty)\n");
        return shown == 0 ? k_not_found : k_ok;
    }
    return usage(k_map_usage);
}

}  // namespace

int cmd_datatype(client::Client& c, const Args& a, const client::RequestOptions& o) {
    const std::string& type = a.positional[0];
    const char* text = type == "set" ? k_set_usage : type == "counter" ? k_counter_usage : k_map_usage;
    if (a.positional.size() < 3) return usage(text);  // a verb and a key at least
    if (o.ns.empty()) {
        std::fprintf(stderr, "shoal %s: name the namespace with --ns (one made with `shoal ns create NAME --datatype %s`)\n",
                     type.c_str(), type.c_str());
        return k_usage;
    }
    if (type == "set") return set_command(c, a.positional, o);
    if (type == "counter") return counter_command(c, a.positional, o);
    return map_command(c, a.positional, o);
}

}  // namespace shoal::cli
