// The hash commands of the Redis front end on a namespace with datatype=map (HSET HGET
// HMGET HGETALL HDEL HEXISTS HINCRBY HLEN HKEYS HVALS TYPE): a hash is a map whose
// fields are last-writer-wins registers (HSET, HDEL) or counters (HINCRBY), so
// concurrent writes of different fields all survive (replica/datatypes.h).
#include <algorithm>

#include "resp/protocol.h"
#include "resp/session_internal.h"

namespace shoal::resp {

namespace {

namespace dt = replica::dt;

const dt::Map& map_of(const StateRead& r) { return std::get<dt::Map>(r.state); }

// A field as Redis shows it: a register's bytes, a counter's decimal number, a flag's
// 1 or 0; a set or a nested map (made over HTTP or the native client), which a Redis
// hash cannot hold, as its JSON text.
std::string as_redis(const dt::MapField& f) {
    if (const auto* c = std::get_if<dt::Counter>(&f.value)) return std::to_string(dt::value(*c));
    if (const auto* flag = std::get_if<dt::Flag>(&f.value)) return flag->on() ? "1" : "0";
    if (const auto* r = std::get_if<dt::Register>(&f.value)) return r->value;
    return dt::to_json(f);
}

std::vector<const dt::MapField*> live_fields(const dt::Map& m) {
    std::vector<const dt::MapField*> out;
    for (const auto& f : m.fields) {
        if (dt::shown(f)) out.push_back(&f);
    }
    return out;
}

void read_map(const StatePtr& s, const std::string& key, std::function<void(StateRead)> done) {
    read_state(s, dt::Type::map, key, false, std::move(done));
}

void cmd_hset(StatePtr s, std::vector<std::string> a, Reply done) {
    if (a.size() % 2 != 0) return done(error("ERR wrong number of arguments for 'hset' command"));
    dt::MapUpdate u;
    for (std::size_t i = 2; i + 1 < a.size(); i += 2) u.set.emplace_back(a[i], a[i + 1]);
    read_map(s, a[1], [s, key = a[1], u = std::move(u), done = std::move(done)](StateRead before) mutable {
        if (before.code != errc::ok) return done(failed(before));
        std::vector<std::string> fresh;
        for (const auto& [field, value] : u.set)
            if (dt::find_field(map_of(before), field) == nullptr) fresh.push_back(field);
        std::sort(fresh.begin(), fresh.end());
        const auto added = static_cast<std::int64_t>(std::unique(fresh.begin(), fresh.end()) - fresh.begin());
        send_update(s, dt::Type::map, key, u, [added, done = std::move(done)](StateRead after) {
            done(after.code == errc::ok ? integer(added) : failed(after));
        });
    });
}

void cmd_hdel(StatePtr s, std::vector<std::string> a, Reply done) {
    std::vector<std::string> named(a.begin() + 2, a.end());
    read_map(s, a[1], [s, key = a[1], named = std::move(named), done = std::move(done)](StateRead before) mutable {
        if (before.code != errc::ok) return done(failed(before));
        // Only the fields the read found go; a set, map or multi-value register field
        // with what this read saw of it (as SREM would take it), so the context is sent
        // only for those.
        dt::MapUpdate u;
        bool observed = false;
        for (const auto& field : named) {
            const dt::MapField* f = dt::find_field(map_of(before), field);
            if (f == nullptr) continue;
            u.remove.push_back(field);
            observed = observed || !std::holds_alternative<dt::Register>(f->value);
        }
        std::sort(u.remove.begin(), u.remove.end());
        u.remove.erase(std::unique(u.remove.begin(), u.remove.end()), u.remove.end());
        const auto removed = static_cast<std::int64_t>(u.remove.size());
        if (removed == 0) return done(integer(0));
        if (observed) u.context = before.reply.context;
        send_update(s, dt::Type::map, key, u, [removed, done = std::move(done)](StateRead after) {
            if (after.code == errc::wrong_type)
                return done(error("ERR a counter field (HINCRBY), or a nested map holding one, cannot be removed; "
                                  "HINCRBY it back to 0"));
            done(after.code == errc::ok ? integer(removed) : failed(after));
        });
    });
}

void cmd_hincrby(StatePtr s, std::vector<std::string> a, Reply done) {
    std::int64_t by = 0;
    if (!to_int64(a[3], by)) return done(error("ERR value is not an integer or out of range"));
    dt::MapUpdate u;
    u.increment.emplace_back(a[2], by);
    send_update(s, dt::Type::map, a[1], u, [field = a[2], done = std::move(done)](StateRead r) {
        if (r.code == errc::wrong_type) return done(error("ERR hash value is not an integer"));
        if (r.code == errc::bad_request) return done(error("ERR increment or decrement would overflow"));
        if (r.code != errc::ok) return done(failed(r));
        const dt::MapField* f = dt::find_field(map_of(r), field);
        const auto* c = f == nullptr ? nullptr : std::get_if<dt::Counter>(&f->value);
        done(integer(c == nullptr ? 0 : dt::value(*c)));
    });
}

void cmd_hget(StatePtr s, std::vector<std::string> a, Reply done) {
    read_map(s, a[1], [s, field = a[2], done = std::move(done)](StateRead r) {
        if (r.code != errc::ok) return done(failed(r));
        std::string out;
        const dt::MapField* f = dt::find_field(map_of(r), field);
        if (f == nullptr)
            put_null(out, s->resp3);
        else
            put_bulk(out, as_redis(*f));
        done(std::move(out));
    });
}

void cmd_hmget(StatePtr s, std::vector<std::string> a, Reply done) {
    read_map(s, a[1], [s, a, done = std::move(done)](StateRead r) {
        if (r.code != errc::ok) return done(failed(r));
        std::string out;
        put_array(out, a.size() - 2);
        for (std::size_t i = 2; i < a.size(); ++i) {
            const dt::MapField* f = dt::find_field(map_of(r), a[i]);
            if (f == nullptr)
                put_null(out, s->resp3);
            else
                put_bulk(out, as_redis(*f));
        }
        done(std::move(out));
    });
}

// HGETALL, HKEYS, HVALS, HLEN: the live fields, as pairs, names, values or a count.
enum class Listing { all, keys, values, count };

void list_fields(StatePtr s, const std::string& key, Listing what, Reply done) {
    read_map(s, key, [s, what, done = std::move(done)](StateRead r) {
        if (r.code != errc::ok) return done(failed(r));
        const auto fields = live_fields(map_of(r));
        std::string out;
        if (what == Listing::count) return done(integer(static_cast<std::int64_t>(fields.size())));
        if (what == Listing::all)
            put_map(out, fields.size(), s->resp3);
        else
            put_array(out, fields.size());
        for (const auto* f : fields) {
            if (what != Listing::values) put_bulk(out, f->name);
            if (what != Listing::keys) put_bulk(out, as_redis(*f));
        }
        done(std::move(out));
    });
}

void cmd_hgetall(StatePtr s, std::vector<std::string> a, Reply done) { list_fields(s, a[1], Listing::all, std::move(done)); }
void cmd_hkeys(StatePtr s, std::vector<std::string> a, Reply done) { list_fields(s, a[1], Listing::keys, std::move(done)); }
void cmd_hvals(StatePtr s, std::vector<std::string> a, Reply done) { list_fields(s, a[1], Listing::values, std::move(done)); }
void cmd_hlen(StatePtr s, std::vector<std::string> a, Reply done) { list_fields(s, a[1], Listing::count, std::move(done)); }

void cmd_hexists(StatePtr s, std::vector<std::string> a, Reply done) {
    read_map(s, a[1], [field = a[2], done = std::move(done)](StateRead r) {
        done(r.code == errc::ok ? integer(dt::find_field(map_of(r), field) != nullptr ? 1 : 0) : failed(r));
    });
}

void cmd_hash_type(StatePtr s, std::vector<std::string> a, Reply done) {
    read_map(s, a[1], [done = std::move(done)](StateRead r) {
        if (r.code != errc::ok) return done(failed(r));
        done(simple(r.reply.siblings.empty() ? "none" : "hash"));
    });
}

constexpr Command k_hash_commands[] = {
    {"HSET", -4, cmd_hset},       {"HDEL", -3, cmd_hdel},   {"HINCRBY", 4, cmd_hincrby}, {"HGET", 3, cmd_hget},
    {"HMGET", -3, cmd_hmget},     {"HGETALL", 2, cmd_hgetall}, {"HKEYS", 2, cmd_hkeys},  {"HVALS", 2, cmd_hvals},
    {"HLEN", 2, cmd_hlen},        {"HEXISTS", 3, cmd_hexists}, {"TYPE", 2, cmd_hash_type},
};

}  // namespace

const Command* find_hash_command(const std::string& upper_name) {
    for (const Command& c : k_hash_commands)
        if (upper_name == c.name) return &c;
    return nullptr;
}

}  // namespace shoal::resp
