// The data-type commands of the Redis front end (session.h): sets on a namespace with
// datatype=set (SADD SREM SMEMBERS SISMEMBER SMISMEMBER SCARD TYPE) and counters on
// one with datatype=counter (INCR INCRBY DECR DECRBY GET TYPE), as reads and updates of
// the core's data types (replica/datatypes.h); hashes are hashes.cpp. DEL, UNLINK and
// EXISTS are the string commands'.
//
// An SREM removes what this connection last read of the key (SMEMBERS, SISMEMBER,
// SMISMEMBER or SCARD): a remove needs the context of a read that saw the member, so a
// member added since, by anyone, stays. Without such a read the SREM is refused and
// says to read first.
#include <algorithm>
#include <set>

#include "replica/datatypes.h"
#include "resp/protocol.h"
#include "resp/session_internal.h"

namespace shoal::resp {

namespace {

namespace dt = replica::dt;
using replica::ClientOp;
using replica::ClientReply;
using replica::ClientRequest;

std::string context_key(const State& s, const std::string& key) { return s.ns_of(key) + '\0' + key; }

void remember(State& s, const std::string& key, const replica::VersionVector& context) {
    if (s.read_contexts.size() >= k_max_read_contexts && !s.read_contexts.contains(context_key(s, key))) {
        // Forget half (the map's first half: arbitrary but cheap, and bounded).
        auto mid = s.read_contexts.begin();
        std::advance(mid, static_cast<std::ptrdiff_t>(s.read_contexts.size() / 2));
        s.read_contexts.erase(s.read_contexts.begin(), mid);
    }
    s.read_contexts[context_key(s, key)] = context;
}

}  // namespace

// Reads the key and merges its siblings into one state of the namespace's type;
// `record`: remember the read's context for SREM.
void read_state(const StatePtr& s, dt::Type type, const std::string& key, bool record,
                std::function<void(StateRead)> done) {
    ClientRequest q;
    q.op = ClientOp::get;
    q.key = key;
    q.options.ns = s->ns_of(q.key);
    submit(s, std::move(q), [s, type, key, record, done = std::move(done)](ClientReply reply) {
        StateRead r;
        r.code = reply.code == errc::not_found ? errc::ok : reply.code;
        if (r.code == errc::ok) {
            if (auto ec = dt::merge_siblings(type, reply.siblings, s->core.now(), r.state)) r.code = to_errc(ec);
        }
        if (r.code == errc::ok && record) remember(*s, key, reply.context);
        r.reply = std::move(reply);
        done(std::move(r));
    });
}

// Sends one update; `done` gets the state after it (the leader's, merged).
void send_update(const StatePtr& s, dt::Type type, const std::string& key, const dt::Update& update,
                 std::function<void(StateRead)> done) {
    ClientRequest q;
    q.op = ClientOp::put;
    q.key = key;
    q.update = dt::encode(update);
    q.options.ns = s->ns_of(q.key);
    q.options.return_body = true;
    submit(s, std::move(q), [s, type, done = std::move(done)](ClientReply reply) {
        StateRead r;
        r.code = reply.code;
        if (r.code == errc::ok) {
            if (auto ec = dt::merge_siblings(type, reply.siblings, s->core.now(), r.state)) r.code = to_errc(ec);
        }
        r.reply = std::move(reply);
        done(std::move(r));
    });
}

std::string failed(const StateRead& r) {
    if (r.code == errc::wrong_type) return error(k_wrongtype);
    return error(error_text(r.code, r.reply));
}

namespace {

const dt::Set& set_of(const StateRead& r) { return std::get<dt::Set>(r.state); }
std::int64_t counter_of(const StateRead& r) { return dt::value(std::get<dt::Counter>(r.state)); }

std::vector<std::string> members_given(const std::vector<std::string>& a) {
    std::vector<std::string> out(a.begin() + 2, a.end());
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

// ---- sets ----

void cmd_sadd(StatePtr s, std::vector<std::string> a, Reply done) {
    auto members = members_given(a);
    // The read only counts what is new (Redis's reply); the add needs no context.
    read_state(s, dt::Type::set, a[1], false,
               [s, key = a[1], members = std::move(members), done = std::move(done)](StateRead before) mutable {
                   if (before.code != errc::ok) return done(failed(before));
                   const auto fresh = std::count_if(members.begin(), members.end(),
                                                    [&](const std::string& m) { return !dt::contains(set_of(before), m); });
                   dt::SetUpdate add{std::move(members), {}, {}};
                   send_update(s, dt::Type::set, key, add, [fresh, done = std::move(done)](StateRead after) {
                       done(after.code == errc::ok ? integer(fresh) : failed(after));
                   });
               });
}

void cmd_srem(StatePtr s, std::vector<std::string> a, Reply done) {
    auto seen = s->read_contexts.find(context_key(*s, a[1]));
    if (seen == s->read_contexts.end()) {
        return done(error("ERR SREM removes what this connection has read of the key, and it has read nothing of "
                          "it yet: read it first (SMEMBERS, SISMEMBER, SMISMEMBER or SCARD), then SREM"));
    }
    auto members = members_given(a);
    dt::SetUpdate remove{{}, members, seen->second};
    read_state(s, dt::Type::set, a[1], false,
               [s, key = a[1], members = std::move(members), remove = std::move(remove),
                done = std::move(done)](StateRead before) mutable {
                   if (before.code != errc::ok) return done(failed(before));
                   send_update(s, dt::Type::set, key, remove,
                               [members = std::move(members), before = std::move(before),
                                done = std::move(done)](StateRead after) {
                                   if (after.code != errc::ok) return done(failed(after));
                                   // Removed: there before, gone after (an add this connection
                                   // had not read survives, and is not counted).
                                   const auto removed = std::count_if(members.begin(), members.end(), [&](auto& m) {
                                       return dt::contains(set_of(before), m) && !dt::contains(set_of(after), m);
                                   });
                                   done(integer(removed));
                               });
               });
}

void cmd_smembers(StatePtr s, std::vector<std::string> a, Reply done) {
    read_state(s, dt::Type::set, a[1], true, [done = std::move(done)](StateRead r) {
        if (r.code != errc::ok) return done(failed(r));
        std::string out;
        put_array(out, set_of(r).elements.size());
        for (const auto& e : set_of(r).elements) put_bulk(out, e.value);
        done(std::move(out));
    });
}

void cmd_sismember(StatePtr s, std::vector<std::string> a, Reply done) {
    read_state(s, dt::Type::set, a[1], true, [m = a[2], done = std::move(done)](StateRead r) {
        done(r.code == errc::ok ? integer(dt::contains(set_of(r), m) ? 1 : 0) : failed(r));
    });
}

void cmd_smismember(StatePtr s, std::vector<std::string> a, Reply done) {
    read_state(s, dt::Type::set, a[1], true, [a, done = std::move(done)](StateRead r) {
        if (r.code != errc::ok) return done(failed(r));
        std::string out;
        put_array(out, a.size() - 2);
        for (std::size_t i = 2; i < a.size(); ++i) put_integer(out, dt::contains(set_of(r), a[i]) ? 1 : 0);
        done(std::move(out));
    });
}

void cmd_scard(StatePtr s, std::vector<std::string> a, Reply done) {
    read_state(s, dt::Type::set, a[1], true, [done = std::move(done)](StateRead r) {
        done(r.code == errc::ok ? integer(static_cast<std::int64_t>(set_of(r).elements.size())) : failed(r));
    });
}

void type_reply(StatePtr s, dt::Type type, const std::string& key, Reply done) {
    read_state(s, type, key, false, [type, done = std::move(done)](StateRead r) {
        if (r.code != errc::ok) return done(failed(r));
        const bool exists = !r.reply.siblings.empty();
        done(simple(!exists ? "none" : type == dt::Type::set ? "set" : "string"));
    });
}

void cmd_set_type(StatePtr s, std::vector<std::string> a, Reply done) { type_reply(s, dt::Type::set, a[1], std::move(done)); }

// ---- counters ----

void count_by(StatePtr s, const std::string& key, std::int64_t delta, Reply done) {
    send_update(s, dt::Type::counter, key, dt::CounterUpdate{delta}, [done = std::move(done)](StateRead r) {
        if (r.code == errc::bad_request) return done(error("ERR increment or decrement would overflow"));
        done(r.code == errc::ok ? integer(counter_of(r)) : failed(r));
    });
}

void by_amount(StatePtr s, std::vector<std::string> a, Reply done, bool down) {
    std::int64_t v = 0;
    if (!to_int64(a[2], v) || (down && v == INT64_MIN)) return done(error("ERR value is not an integer or out of range"));
    count_by(s, a[1], down ? -v : v, std::move(done));
}

void cmd_counter_incr(StatePtr s, std::vector<std::string> a, Reply done) { count_by(s, a[1], 1, std::move(done)); }
void cmd_counter_decr(StatePtr s, std::vector<std::string> a, Reply done) { count_by(s, a[1], -1, std::move(done)); }
void cmd_counter_incrby(StatePtr s, std::vector<std::string> a, Reply done) { by_amount(s, std::move(a), std::move(done), false); }
void cmd_counter_decrby(StatePtr s, std::vector<std::string> a, Reply done) { by_amount(s, std::move(a), std::move(done), true); }

void cmd_counter_get(StatePtr s, std::vector<std::string> a, Reply done) {
    read_state(s, dt::Type::counter, a[1], false, [s, done = std::move(done)](StateRead r) {
        if (r.code != errc::ok) return done(failed(r));
        std::string out;
        if (r.reply.siblings.empty())
            put_null(out, s->resp3);
        else
            put_bulk(out, std::to_string(counter_of(r)));
        done(std::move(out));
    });
}

void cmd_counter_type(StatePtr s, std::vector<std::string> a, Reply done) {
    type_reply(s, dt::Type::counter, a[1], std::move(done));
}

constexpr Command k_set_commands[] = {
    {"SADD", -3, cmd_sadd},           {"SREM", -3, cmd_srem},   {"SMEMBERS", 2, cmd_smembers},
    {"SISMEMBER", 3, cmd_sismember},  {"SMISMEMBER", -3, cmd_smismember}, {"SCARD", 2, cmd_scard},
    {"TYPE", 2, cmd_set_type},
};

constexpr Command k_counter_commands[] = {
    {"INCR", 2, cmd_counter_incr},     {"DECR", 2, cmd_counter_decr}, {"INCRBY", 3, cmd_counter_incrby},
    {"DECRBY", 3, cmd_counter_decrby}, {"GET", 2, cmd_counter_get},   {"TYPE", 2, cmd_counter_type},
};

template <std::size_t N>
const Command* find_in(const Command (&table)[N], const std::string& upper_name) {
    for (const Command& c : table)
        if (upper_name == c.name) return &c;
    return nullptr;
}

}  // namespace

const Command* find_datatype_command(const std::string& datatype, const std::string& upper_name) {
    if (datatype == "set") return find_in(k_set_commands, upper_name);
    if (datatype == "counter") return find_in(k_counter_commands, upper_name);
    if (datatype == "map") return find_hash_command(upper_name);
    return nullptr;
}

bool is_datatype_command(const std::string& upper_name) {
    const Command* c = find_in(k_set_commands, upper_name);
    if (c == nullptr) c = find_hash_command(upper_name);
    return c != nullptr && upper_name != "TYPE";
}

}  // namespace shoal::resp
