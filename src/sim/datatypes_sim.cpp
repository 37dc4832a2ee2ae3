// The data-type workload (--datatypes): on half of the odd keys, sets (clients add an
// item of their own, or read the set and remove one of its items with the read's
// context, or read); on a quarter, counters (increment by one, or read); on a quarter,
// maps (set one of three register fields to a value of one's own, increment the
// counter field "visits", or read). At the
// end every set key's merge over all nodes must hold each acknowledged add that no
// remove had seen, every counter (and map counter field) must count at least its
// acknowledged increments (more than were sent is reported: checkers.h,
// counter_keeps_acked), and every map field an acknowledged write set must be there
// holding a value some write sent to it.
#include <set>

#include "replica/datatypes.h"
#include "sim/simulation.h"

namespace shoal::sim {

namespace dt = replica::dt;

namespace {
// A stored key for people: its namespace and key ("dtcount/count/3").
std::string shown(const std::string& key) {
    return std::string(replica::namespace_of(key)) + "/" + std::string(replica::client_key_of(key));
}

// The set field of the map workload's keys, and the name its adds and removes are kept
// under in the history (the map's key, then "#cart": the set checker's key).
constexpr const char* k_cart_field = "cart";
constexpr std::string_view k_cart_suffix = "#cart";
// The map key of a history name made by map_cart; empty for a set's key.
std::string map_key_of(const std::string& name) {
    if (!name.ends_with(k_cart_suffix)) return {};
    return name.substr(0, name.size() - k_cart_suffix.size());
}
}  // namespace

std::string map_cart(const std::string& key) { return key + std::string(k_cart_suffix); }

bool Simulation::begin_datatype_op(SimClient& client, std::uint64_t k) {
    const bool set = k % 4 == 1, map = !set && (k / 4) % 2 == 1;
    client.ns = set ? k_sim_set_namespace : map ? k_sim_map_namespace : k_sim_counter_namespace;
    client.user_key = (set ? "set/" : map ? "map/" : "count/") + std::to_string(k);
    client.key = replica::scoped_key(client.ns, client.user_key);
    client.item = "d" + std::to_string(client.id) + "." + std::to_string(++client.seq);
    const std::uint64_t roll = rng_.below(100);
    if (set) {
        client.kind = roll < 65 ? OpKind::dt_add : roll < 85 ? OpKind::dt_remove : OpKind::read;
    } else if (map) {
        client.kind = roll < 35 ? OpKind::dt_map_set
                      : roll < 55 ? OpKind::dt_map_increment
                      : roll < 75 ? OpKind::dt_map_add
                      : roll < 88 ? OpKind::dt_map_discard
                                  : OpKind::read;
    } else {
        client.kind = roll < 80 ? OpKind::dt_increment : OpKind::read;
    }
    if (client.kind == OpKind::dt_add) client.update = dt::encode(dt::SetUpdate{{client.item}, {}, {}});
    if (client.kind == OpKind::dt_increment) client.update = dt::encode(dt::CounterUpdate{1});
    if (client.kind == OpKind::dt_map_set) {
        client.value = "f" + std::to_string(rng_.below(3));  // the field; item is its new value
        dt::MapUpdate u;
        u.set.emplace_back(client.value, client.item);
        client.update = dt::encode(dt::Update{std::move(u)});
    }
    if (client.kind == OpKind::dt_map_increment) {
        dt::MapUpdate u;
        u.increment.emplace_back("visits", 1);
        client.update = dt::encode(dt::Update{std::move(u)});
    }
    if (client.kind == OpKind::dt_map_add) {
        dt::MapUpdate u;
        u.add.emplace_back(k_cart_field, std::vector<std::string>{client.item});
        client.update = dt::encode(dt::Update{std::move(u)});
    }
    client.writing = !client.update.empty();  // adds and increments need no read
    send_attempt(client);
    return true;
}

bool Simulation::datatype_read_done(SimClient& client, const replica::ClientReply& reply) {
    const bool in_map = client.kind == OpKind::dt_map_discard;
    if (client.kind != OpKind::dt_remove && !in_map) return false;
    dt::State state;
    if (dt::merge_siblings(in_map ? dt::Type::map : dt::Type::set, reply.siblings, now_, state)) {
        result_.violations.push_back("datatype: a read of " + shown(client.key) + " did not decode");
        op_done(client, false);
        return true;
    }
    std::vector<std::string> items;
    if (!in_map) {
        items = dt::members(std::get<dt::Set>(state));
    } else if (const dt::MapField* f = dt::find_field(std::get<dt::Map>(state), k_cart_field)) {
        items = dt::members(std::get<dt::Set>(f->value));
    }
    if (items.empty()) {
        op_done(client, true);
        return true;
    }
    const std::string victim = items[rng_.below(items.size())];
    history_.dt_removes.push_back({in_map ? map_cart(client.key) : client.key, victim, reply.context});
    if (in_map) {
        dt::MapUpdate u;
        u.discard.emplace_back(k_cart_field, std::vector<std::string>{victim});
        u.context = reply.context;
        client.update = dt::encode(dt::Update{std::move(u)});
    } else {
        client.update = dt::encode(dt::SetUpdate{{}, {victim}, reply.context});
    }
    client.writing = true;
    client.attempts = 0;
    send_attempt(client);
    return true;
}

void Simulation::check_datatypes(const std::map<std::string, SiblingSet>& merged) {
    std::map<std::string, std::vector<std::string>> sets;
    const auto decoded = [&](const std::string& key, dt::Type type, dt::State& out) {
        auto it = merged.find(key);
        if (it == merged.end()) {
            out = dt::empty_state(type);
            return true;
        }
        if (!dt::merge_siblings(type, it->second.siblings, now_, out)) return true;
        result_.violations.push_back("datatype: the merged state of " + shown(key) + " does not decode");
        return false;
    };
    // Maps first: their cart fields join the sets checked below, as key#cart.
    std::set<std::string> map_keys;
    for (const auto& w : history_.map_acked) map_keys.insert(w.key);
    for (const auto& [key, h] : history_.map_counters) map_keys.insert(key);
    for (const auto& add : history_.dt_adds) map_keys.insert(map_key_of(add.key));
    map_keys.erase(std::string{});  // the adds of sets
    std::map<std::string, std::map<std::string, std::string>> maps;
    for (const auto& key : map_keys) {
        dt::State s;
        if (!decoded(key, dt::Type::map, s)) continue;
        auto& fields = maps[key];
        for (const auto& f : std::get<dt::Map>(s).fields) {
            if (const auto* r = std::get_if<dt::Register>(&f.value); r != nullptr && r->present) fields[f.name] = r->value;
        }
        const dt::MapField* cart = dt::find_field(std::get<dt::Map>(s), k_cart_field);
        sets[map_cart(key)] = cart == nullptr ? std::vector<std::string>{} : dt::members(std::get<dt::Set>(cart->value));
        const dt::MapField* visits = dt::find_field(std::get<dt::Map>(s), "visits");
        const std::int64_t count = visits == nullptr ? 0 : dt::value(std::get<dt::Counter>(visits->value));
        if (auto h = history_.map_counters.find(key); h != history_.map_counters.end()) {
            result_.dt_increments_acked += h->second.acked;
            if (!counter_keeps_acked(h->second, count)) {
                ++result_.dt_counter_violations;
                result_.violations.push_back("dt-counter: " + shown(key) + " visits = " + std::to_string(count) +
                                             ", acknowledged " + std::to_string(h->second.acked));
            }
        }
    }
    for (const auto& add : history_.dt_adds) {
        if (sets.contains(add.key)) continue;
        dt::State s;
        if (decoded(add.key, dt::Type::set, s)) sets[add.key] = dt::members(std::get<dt::Set>(s));
    }
    result_.dt_adds_acked = history_.dt_adds.size();
    for (const auto& add : find_lost_set_adds(history_, sets)) {
        ++result_.dt_lost_adds;
        ++result_.lost_acked;
        result_.violations.push_back("dt-lost-add: item " + add.item + " of set " + shown(add.key));
    }
    result_.dt_adds_acked += history_.map_acked.size();
    for (const auto& w : find_lost_map_fields(history_, maps)) {
        ++result_.dt_lost_adds;
        ++result_.lost_acked;
        result_.violations.push_back("dt-lost-field: " + w.field + " = " + w.value + " of map " + shown(w.key));
    }
    for (const auto& [key, h] : history_.counters) {
        result_.dt_increments_acked += h.acked;
        dt::State s;
        if (!decoded(key, dt::Type::counter, s)) continue;
        const std::int64_t value = dt::value(std::get<dt::Counter>(s));
        if (value > 0 && static_cast<std::uint64_t>(value) > h.attempted)
            result_.dt_overcount += static_cast<std::uint64_t>(value) - h.attempted;
        if (counter_keeps_acked(h, value)) continue;
        ++result_.dt_counter_violations;
        result_.violations.push_back("dt-counter: " + shown(key) + " = " + std::to_string(value) + ", acknowledged " +
                                     std::to_string(h.acked) + ", sent " + std::to_string(h.attempted));
    }
}

}  // namespace shoal::sim
