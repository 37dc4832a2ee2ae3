// The string commands of the Redis front end (session.h), each as reads and
// conditional writes of the core.
#include <algorithm>
#include <iterator>
#include <limits>

#include "core/limits.h"
#include "resp/protocol.h"
#include "resp/session_internal.h"

namespace shoal::resp {

namespace {

using replica::ClientOp;
using replica::ClientReply;
using replica::ClientRequest;
using replica::WriteCondition;

// Concurrent writers make a conditional write fail; it reads and tries again, at most
// this often, after a back-off that grows with the attempts (up to k_max_backoff_ms,
// jittered so that the writers racing for one key spread out instead of colliding
// again). The bound only stops a pathological livelock.
constexpr int k_max_attempts = 256;
constexpr std::int64_t k_max_backoff_ms = 32;

// A back-off for `attempt` (1, 2, ...): uniform in [0, min(2^attempt, max)] ms, from
// a cheap mix of the session and the attempt (no random source in here).
Duration backoff(const StatePtr& s, int attempt) {
    std::uint64_t x =
        reinterpret_cast<std::uintptr_t>(s.get()) ^ (static_cast<std::uint64_t>(attempt) * 0x9e3779b97f4a7c15ULL);
    x ^= x >> 31;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 29;
    const std::int64_t cap = std::min<std::int64_t>(k_max_backoff_ms, std::int64_t{1} << std::min(attempt, 6));
    return Duration::micros(static_cast<std::int64_t>(x % static_cast<std::uint64_t>(cap * 1000 + 1)));
}

std::string siblings_error(std::size_t n) {
    return error("ERR the key holds " + std::to_string(n) +
                 " concurrent values (siblings): use an lww namespace for strings, or resolve them over HTTP");
}

void read(const StatePtr& s, const std::string& key, std::function<void(Read)> done) {
    ClientRequest q;
    q.op = ClientOp::get;
    q.key = key;
    q.options.ns = s->ns_of(q.key);
    submit(s, std::move(q), [done = std::move(done)](ClientReply reply) {
        Read r;
        r.code = reply.code == errc::not_found ? errc::ok : reply.code;
        r.context = reply.context;
        r.siblings = reply.siblings.size();
        r.found = reply.code == errc::ok && !reply.siblings.empty();
        if (r.found) {
            r.value = reply.siblings.front().value;
            r.expires = reply.siblings.front().expires;
        }
        r.reply = std::move(reply);
        done(std::move(r));
    });
}

// Writes `w` over what `seen` read: only if the key is still as read (If-Match), or
// still absent (If-None-Match). `done` gets the core's code.
void write_over(const StatePtr& s, const std::string& key, const Read& seen, const Write& w,
                std::function<void(ClientReply)> done) {
    ClientRequest q;
    q.op = w.del ? ClientOp::del : ClientOp::put;
    q.key = key;
    q.value = w.value;
    q.options.ns = s->ns_of(q.key);
    q.options.expires_at = w.expires_at;
    // The read's context either way: it supersedes what the read saw, expired values
    // and tombstones included (else they would pile up beside the new value).
    q.context = seen.context;
    q.options.condition = seen.found ? WriteCondition::if_match : WriteCondition::if_none_match;
    submit(s, std::move(q), std::move(done));
}

// What a read-modify-write command makes of a read: a write and the reply once it is
// done, or a reply at once (nothing to write).
struct Decision {
    bool write = false;
    Write what;
    std::string reply;
};

// `resolves`: the write replaces whatever is there, siblings included (a plain SET);
// otherwise a key holding siblings is an error (there is no one value to modify).
void rmw(StatePtr s, std::string key, std::function<Decision(const Read&)> decide, Reply done, int attempt = 0,
         bool resolves = false) {
    read(s, key, [s, key, decide = std::move(decide), done = std::move(done), attempt, resolves](Read r) mutable {
        if (r.code != errc::ok) return done(error(error_text(r.code, r.reply)));
        if (r.siblings > 1 && !resolves) return done(siblings_error(r.siblings));
        Decision d = decide(r);
        if (!d.write) return done(std::move(d.reply));
        if (d.what.del && !r.found) return done(std::move(d.reply));  // nothing to delete
        write_over(s, key, r, d.what,
                   [s, key, decide = std::move(decide), done = std::move(done), attempt, resolves,
                    reply = std::move(d.reply)](ClientReply w) mutable {
                       if (w.code == errc::precondition_failed && attempt + 1 < k_max_attempts) {
                           auto again = [s, key, decide = std::move(decide), done = std::move(done), attempt,
                                         resolves]() mutable {
                               rmw(s, key, std::move(decide), std::move(done), attempt + 1, resolves);
                           };
                           return s->core.after(backoff(s, attempt + 1), std::move(again));
                       }
                       if (w.code == errc::precondition_failed)
                           return done(error("ERR the key kept changing under concurrent writers; try again"));
                       if (w.code != errc::ok) return done(error(error_text(w.code, w)));
                       done(std::move(reply));
                   });
    });
}

std::string bulk_or_null(const StatePtr& s, const Read& r) {
    std::string out;
    if (r.found)
        put_bulk(out, r.value);
    else
        put_null(out, s->resp3);
    return out;
}

// An expiry option's value as an absolute time: EX/PX relative, EXAT/PXAT absolute.
// False (with the error) when it is not a positive number in range.
bool expiry_of(const std::string& opt, const std::string& value, Time now, Time& out, std::string& err,
               const char* command) {
    std::int64_t v = 0;
    const bool ms = opt == "PX" || opt == "PXAT";
    const std::int64_t max = ms ? k_max_ttl_s * 1000 : k_max_ttl_s;
    const bool absolute = opt == "EXAT" || opt == "PXAT";
    // Absolute times: at most k_max_ttl_s from now, so that nothing below overflows.
    const std::int64_t max_abs = (now.us / (ms ? 1000 : 1'000'000)) + max;
    if (!to_int64(value, v) || v <= 0 || v > (absolute ? max_abs : max)) {
        err = std::string("ERR invalid expire time in '") + command + "' command";
        return false;
    }
    const std::int64_t us = ms ? v * 1000 : v * 1'000'000;
    out = absolute ? Time{us} : now + Duration::micros(us);
    return true;
}

// Stores `value` as the key's one value, replying +OK: a blind write where the
// namespace keeps the last writer's, else a write over what a read found.
void put_value(const StatePtr& s, std::string key, std::string value, Time expires, Reply done) {
    if (!s->core.last_writer_wins(s->ns_of(key))) {
        return rmw(
            s, std::move(key),
            [value = std::move(value), expires](const Read&) {
                Decision d;
                d.write = true;
                d.what.value = value;
                d.what.expires_at = expires;
                d.reply = simple("OK");
                return d;
            },
            std::move(done), 0, /*resolves=*/true);
    }
    ClientRequest q;
    q.op = ClientOp::put;
    q.key = std::move(key);
    q.value = std::move(value);
    q.options.ns = s->ns_of(q.key);
    q.options.expires_at = expires;
    submit(s, std::move(q), [done = std::move(done)](ClientReply w) {
        done(w.code == errc::ok ? simple("OK") : error(error_text(w.code, w)));
    });
}

// ---- the commands ----

void cmd_get(StatePtr s, std::vector<std::string> a, Reply done) {
    read(s, a[1], [s, done = std::move(done)](Read r) {
        if (r.code != errc::ok) return done(error(error_text(r.code, r.reply)));
        if (r.siblings > 1) return done(siblings_error(r.siblings));
        done(bulk_or_null(s, r));
    });
}

// SET key value [NX|XX] [GET] [EX s|PX ms|EXAT t|PXAT t|KEEPTTL]
void cmd_set(StatePtr s, std::vector<std::string> a, Reply done) {
    bool nx = false, xx = false, get = false, keepttl = false, expiry = false;
    Time expires;
    std::string err;
    for (std::size_t i = 3; i < a.size(); ++i) {
        const std::string opt = upper(a[i]);
        if (opt == "NX" && !xx)
            nx = true;
        else if (opt == "XX" && !nx)
            xx = true;
        else if (opt == "GET")
            get = true;
        else if (opt == "KEEPTTL" && !expiry)
            keepttl = true;
        else if ((opt == "EX" || opt == "PX" || opt == "EXAT" || opt == "PXAT") && !expiry && !keepttl &&
                 i + 1 < a.size()) {
            if (!expiry_of(opt, a[++i], s->core.now(), expires, err, "set")) return done(error(err));
            expiry = true;
        } else {
            return done(error("ERR syntax error"));
        }
    }
    const std::string key = a[1];
    std::string value = std::move(a[2]);
    if (!nx && !xx && !get && !keepttl) return put_value(s, key, std::move(value), expires, std::move(done));
    rmw(
        s, key,
        [s, nx, xx, get, keepttl, expires, value = std::move(value)](const Read& r) {
            Decision d;
            const std::string old = bulk_or_null(s, r);
            std::string none;
            put_null(none, s->resp3);
            if ((nx && r.found) || (xx && !r.found)) {
                d.reply = get ? old : none;
                return d;
            }
            d.write = true;
            d.what.value = value;
            d.what.expires_at = keepttl && r.found ? r.expires : expires;
            d.reply = get ? old : simple("OK");
            return d;
        },
        std::move(done));
}

void set_with_ttl(StatePtr s, std::vector<std::string> a, Reply done, const char* opt, const char* command) {
    Time expires;
    std::string err;
    if (!expiry_of(opt, a[2], s->core.now(), expires, err, command)) return done(error(err));
    put_value(s, std::move(a[1]), std::move(a[3]), expires, std::move(done));
}
void cmd_setex(StatePtr s, std::vector<std::string> a, Reply done) {
    set_with_ttl(s, std::move(a), std::move(done), "EX", "setex");
}
void cmd_psetex(StatePtr s, std::vector<std::string> a, Reply done) {
    set_with_ttl(s, std::move(a), std::move(done), "PX", "psetex");
}

void cmd_setnx(StatePtr s, std::vector<std::string> a, Reply done) {
    rmw(
        s, a[1],
        [value = a[2]](const Read& r) {
            Decision d;
            d.write = !r.found;
            d.what.value = value;
            d.reply = integer(r.found ? 0 : 1);
            return d;
        },
        std::move(done));
}

// GETEX key [EX s|PX ms|EXAT t|PXAT t|PERSIST]
void cmd_getex(StatePtr s, std::vector<std::string> a, Reply done) {
    Time expires;
    bool change = false;
    std::string err;
    const std::string opt = a.size() >= 3 ? upper(a[2]) : "";
    if (a.size() == 3 && opt == "PERSIST")
        change = true;
    else if (a.size() == 4 && (opt == "EX" || opt == "PX" || opt == "EXAT" || opt == "PXAT")) {
        if (!expiry_of(opt, a[3], s->core.now(), expires, err, "getex")) return done(error(err));
        change = true;
    } else if (a.size() != 2) {
        return done(error("ERR syntax error"));
    }
    rmw(
        s, a[1],
        [s, change, expires](const Read& r) {
            Decision d;
            d.reply = bulk_or_null(s, r);
            d.write = change && r.found;
            d.what.value = r.value;
            d.what.expires_at = expires;
            return d;
        },
        std::move(done));
}

void cmd_getdel(StatePtr s, std::vector<std::string> a, Reply done) {
    rmw(
        s, a[1],
        [s](const Read& r) {
            Decision d;
            d.reply = bulk_or_null(s, r);
            d.write = r.found;
            d.what.del = true;
            return d;
        },
        std::move(done));
}

// Runs `one` on each key in turn and replies with the sum of what they counted.
void each_key(StatePtr s, std::vector<std::string> keys, std::size_t i, std::int64_t sum,
              void (*one)(const StatePtr&, const std::string&, std::function<void(std::int64_t, std::string)>),
              Reply done) {
    if (i == keys.size()) return done(integer(sum));
    const std::string key = keys[i];
    one(s, key,
        [s, keys = std::move(keys), i, sum, one, done = std::move(done)](std::int64_t n, std::string err) mutable {
            if (!err.empty()) return done(std::move(err));
            each_key(s, std::move(keys), i + 1, sum + n, one, std::move(done));
        });
}

void delete_one(const StatePtr& s, const std::string& key, std::function<void(std::int64_t, std::string)> done) {
    ClientRequest q;
    q.op = ClientOp::del;  // without a context: deletes what a read finds
    q.key = key;
    q.options.ns = s->ns_of(q.key);
    submit(s, std::move(q), [done = std::move(done)](ClientReply w) {
        if (w.code == errc::not_found) return done(0, "");
        if (w.code != errc::ok) return done(0, error(error_text(w.code, w)));
        done(1, "");
    });
}

void exists_one(const StatePtr& s, const std::string& key, std::function<void(std::int64_t, std::string)> done) {
    read(s, key, [done = std::move(done)](Read r) {
        if (r.code != errc::ok) return done(0, error(error_text(r.code, r.reply)));
        done(r.found ? 1 : 0, "");
    });
}

void cmd_del(StatePtr s, std::vector<std::string> a, Reply done) {
    each_key(s, std::vector<std::string>(std::make_move_iterator(a.begin() + 1), std::make_move_iterator(a.end())), 0,
             0, delete_one, std::move(done));
}
void cmd_exists(StatePtr s, std::vector<std::string> a, Reply done) {
    each_key(s, std::vector<std::string>(std::make_move_iterator(a.begin() + 1), std::make_move_iterator(a.end())), 0,
             0, exists_one, std::move(done));
}

// EXPIRE/PEXPIRE/EXPIREAT/PEXPIREAT key t: 1 when the key exists (a time in the past
// deletes it), 0 when it does not.
void expire_with(StatePtr s, std::vector<std::string> a, Reply done, const char* opt, const char* command) {
    std::int64_t v = 0;
    if (!to_int64(a[2], v)) return done(error("ERR value is not an integer or out of range"));
    Time at;
    std::string err;
    const bool past = v <= 0;  // a time in the past (or now): the key is deleted, as in Redis
    if (!past && !expiry_of(opt, a[2], s->core.now(), at, err, command)) return done(error(err));
    const Time now = s->core.now();
    rmw(
        s, a[1],
        [past, at, now](const Read& r) {
            Decision d;
            d.reply = integer(r.found ? 1 : 0);
            d.write = r.found;
            d.what.del = past || at <= now;
            d.what.value = r.value;
            d.what.expires_at = at;
            return d;
        },
        std::move(done));
}
void cmd_expire(StatePtr s, std::vector<std::string> a, Reply done) {
    expire_with(s, std::move(a), std::move(done), "EX", "expire");
}
void cmd_pexpire(StatePtr s, std::vector<std::string> a, Reply done) {
    expire_with(s, std::move(a), std::move(done), "PX", "pexpire");
}
void cmd_expireat(StatePtr s, std::vector<std::string> a, Reply done) {
    expire_with(s, std::move(a), std::move(done), "EXAT", "expireat");
}
void cmd_pexpireat(StatePtr s, std::vector<std::string> a, Reply done) {
    expire_with(s, std::move(a), std::move(done), "PXAT", "pexpireat");
}

void cmd_persist(StatePtr s, std::vector<std::string> a, Reply done) {
    rmw(
        s, a[1],
        [](const Read& r) {
            Decision d;
            d.write = r.found && r.expires.us != 0;
            d.reply = integer(d.write ? 1 : 0);
            d.what.value = r.value;
            return d;
        },
        std::move(done));
}

void ttl_in(StatePtr s, const std::string& key, std::int64_t unit_us, Reply done) {
    read(s, key, [s, unit_us, done = std::move(done)](Read r) {
        if (r.code != errc::ok) return done(error(error_text(r.code, r.reply)));
        if (!r.found) return done(integer(-2));
        if (r.expires.us == 0) return done(integer(-1));
        // Rounded to the nearest unit, as Redis does.
        const std::int64_t left = std::max<std::int64_t>(0, (r.expires - s->core.now()).us);
        done(integer((left + unit_us / 2) / unit_us));
    });
}
void cmd_ttl(StatePtr s, std::vector<std::string> a, Reply done) {
    ttl_in(s, a[1], 1'000'000, std::move(done));
}
void cmd_pttl(StatePtr s, std::vector<std::string> a, Reply done) {
    ttl_in(s, a[1], 1'000, std::move(done));
}

void cmd_type(StatePtr s, std::vector<std::string> a, Reply done) {
    read(s, a[1], [done = std::move(done)](Read r) {
        if (r.code != errc::ok) return done(error(error_text(r.code, r.reply)));
        done(simple(r.found || r.siblings > 0 ? "string" : "none"));
    });
}

void mget_from(StatePtr s, std::vector<std::string> keys, std::size_t i, std::string out, Reply done) {
    if (i == keys.size()) return done(std::move(out));
    const std::string key = keys[i];
    read(s, key, [s, keys = std::move(keys), i, out = std::move(out), done = std::move(done)](Read r) mutable {
        // A read that failed fails the command (a nil would read as "no session"); a key
        // that cannot be read as one string reads as nil, as a wrong-type key in Redis.
        if (r.code != errc::ok) return done(error(error_text(r.code, r.reply)));
        if (r.siblings <= 1 && r.found)
            put_bulk(out, r.value);
        else
            put_null(out, s->resp3);
        mget_from(s, std::move(keys), i + 1, std::move(out), std::move(done));
    });
}
void cmd_mget(StatePtr s, std::vector<std::string> a, Reply done) {
    std::string out;
    put_array(out, a.size() - 1);
    mget_from(s, std::vector<std::string>(std::make_move_iterator(a.begin() + 1), std::make_move_iterator(a.end())), 0,
              std::move(out), std::move(done));
}

// MSET k v ...: each pair written in turn (not atomically across keys).
void mset_from(StatePtr s, std::vector<std::string> a, std::size_t i, Reply done) {
    if (i >= a.size()) return done(simple("OK"));
    std::string key = a[i], value = a[i + 1];
    put_value(s, std::move(key), std::move(value), Time{},
              [s, a = std::move(a), i, done = std::move(done)](std::string reply) mutable {
                  if (reply != "+OK\r\n") return done(std::move(reply));
                  mset_from(s, std::move(a), i + 2, std::move(done));
              });
}
void cmd_mset(StatePtr s, std::vector<std::string> a, Reply done) {
    if (a.size() % 2 != 1) return done(error("ERR wrong number of arguments for 'mset' command"));
    mset_from(s, std::move(a), 1, std::move(done));
}

void cmd_strlen(StatePtr s, std::vector<std::string> a, Reply done) {
    read(s, a[1], [done = std::move(done)](Read r) {
        if (r.code != errc::ok) return done(error(error_text(r.code, r.reply)));
        if (r.siblings > 1) return done(siblings_error(r.siblings));
        done(integer(static_cast<std::int64_t>(r.value.size())));
    });
}

void cmd_append(StatePtr s, std::vector<std::string> a, Reply done) {
    const std::size_t max = s->config.max_value_bytes;
    rmw(
        s, a[1],
        [tail = a[2], max](const Read& r) {
            Decision d;
            if (r.value.size() + tail.size() > max) {
                put_error(d.reply, "ERR the value would pass max_value_bytes (" + std::to_string(max) + ")");
                return d;
            }
            d.write = true;
            d.what.value = r.value + tail;
            d.what.expires_at = r.found ? r.expires : Time{};
            d.reply = integer(static_cast<std::int64_t>(d.what.value.size()));
            return d;
        },
        std::move(done));
}

void add_by(StatePtr s, const std::string& key, std::int64_t by, Reply done) {
    rmw(
        s, key,
        [by](const Read& r) {
            Decision d;
            std::int64_t v = 0;
            if (r.found && !to_int64(r.value, v)) {
                put_error(d.reply, "ERR value is not an integer or out of range");
                return d;
            }
            if ((by > 0 && v > std::numeric_limits<std::int64_t>::max() - by) ||
                (by < 0 && v < std::numeric_limits<std::int64_t>::min() - by)) {
                put_error(d.reply, "ERR increment or decrement would overflow");
                return d;
            }
            d.write = true;
            d.what.value = std::to_string(v + by);
            d.what.expires_at = r.found ? r.expires : Time{};
            d.reply = integer(v + by);
            return d;
        },
        std::move(done));
}
void cmd_incr(StatePtr s, std::vector<std::string> a, Reply done) {
    add_by(s, a[1], 1, std::move(done));
}
void cmd_decr(StatePtr s, std::vector<std::string> a, Reply done) {
    add_by(s, a[1], -1, std::move(done));
}
void by_arg(StatePtr s, std::vector<std::string> a, Reply done, bool negate) {
    std::int64_t by = 0;
    if (!to_int64(a[2], by) || (negate && by == std::numeric_limits<std::int64_t>::min()))
        return done(error("ERR value is not an integer or out of range"));
    add_by(s, a[1], negate ? -by : by, std::move(done));
}
void cmd_incrby(StatePtr s, std::vector<std::string> a, Reply done) {
    by_arg(s, std::move(a), std::move(done), false);
}
void cmd_decrby(StatePtr s, std::vector<std::string> a, Reply done) {
    by_arg(s, std::move(a), std::move(done), true);
}

constexpr Command k_commands[] = {
    {"APPEND", 3, cmd_append},       {"DECR", 2, cmd_decr},
    {"DECRBY", 3, cmd_decrby},       {"DEL", -2, cmd_del},
    {"EXISTS", -2, cmd_exists},      {"EXPIRE", 3, cmd_expire},
    {"EXPIREAT", 3, cmd_expireat},   {"GET", 2, cmd_get},
    {"GETDEL", 2, cmd_getdel},       {"GETEX", -2, cmd_getex},
    {"INCR", 2, cmd_incr},           {"INCRBY", 3, cmd_incrby},
    {"MGET", -2, cmd_mget},          {"MSET", -3, cmd_mset},
    {"PERSIST", 2, cmd_persist},     {"PEXPIRE", 3, cmd_pexpire},
    {"PEXPIREAT", 3, cmd_pexpireat}, {"PSETEX", 4, cmd_psetex},
    {"PTTL", 2, cmd_pttl},           {"SET", -3, cmd_set},
    {"SETEX", 4, cmd_setex},         {"SETNX", 3, cmd_setnx},
    {"STRLEN", 2, cmd_strlen},       {"TTL", 2, cmd_ttl},
    {"TYPE", 2, cmd_type},           {"UNLINK", -2, cmd_del},
};

}  // namespace

const Command* find_string_command(const std::string& upper_name) {
    for (const Command& c : k_commands)
        if (upper_name == c.name) return &c;
    return nullptr;
}

}  // namespace shoal::resp
