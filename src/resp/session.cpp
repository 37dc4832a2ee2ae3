// The connection commands and the dispatch; the string commands are in strings.cpp.
#include "resp/session.h"

#include "resp/protocol.h"
#include "resp/session_internal.h"

namespace shoal::resp {

namespace {}  // namespace

Session::Session(Core& core, SessionConfig config) : state_(std::make_shared<State>(core, std::move(config))) {}
Session::~Session() = default;

bool Session::resp3() const {
    return state_->resp3;
}
const std::string& Session::ns() const {
    return state_->config.databases[state_->db];
}

void Session::run(std::vector<std::string> args, std::function<void(std::string, bool)> done) {
    State& s = *state_;
    std::string out;
    if (args.empty()) return done(out, false);
    const std::string name = upper(args[0]);
    // The command's namespace: its first key's (by prefix, else the database's). The
    // keys of one MGET or MSET must be in namespaces of one kind (DEL and EXISTS take
    // any kind).
    const std::string& ns = args.size() >= 2 ? s.ns_of(args[1]) : s.ns();
    const std::string datatype = s.core.datatype(ns);
    const bool multi = name == "MGET" || name == "MSET";
    for (std::size_t i = 2; multi && i < args.size(); i += name == "MSET" ? 2 : 1) {
        const std::string& other = s.ns_of(args[i]);
        if (other != ns && s.core.datatype(other) != datatype) {
            put_error(out, "ERR the keys of one command must be in namespaces of one kind: " + args[1] + " is in " +
                               ns + ", " + args[i] + " in " + other);
            return done(out, false);
        }
    }
    // A namespace of a data type takes its type's commands, and of the string ones only
    // those that do not look inside a value; a namespace of strings takes no set commands.
    const Command* c = datatype.empty() ? nullptr : find_datatype_command(datatype, name);
    const bool passes = name == "DEL" || name == "UNLINK" || name == "EXISTS";
    const bool other_kind = is_datatype_command(name) || (!datatype.empty() && find_string_command(name) && !passes);
    if (c == nullptr && other_kind) {
        const std::string where = &ns == &s.ns() ? "database " + std::to_string(s.db) + " is namespace " + ns
                                                 : "the key's prefix names namespace " + ns;
        put_error(out, "WRONGTYPE Operation against a key holding the wrong kind of value (" + where +
                           ", which holds " + (datatype.empty() ? std::string("strings") : datatype + "s") + ")");
        return done(out, false);
    }
    if (c == nullptr) c = find_string_command(name);
    if (c == nullptr) c = find_shoal_command(name);
    if (c == nullptr) c = find_scan_command(name);  // runs alone: it sees every write sent before it
    if (c != nullptr) {
        if (!arity_ok(*c, args.size())) {
            put_error(out, "ERR wrong number of arguments for '" + lower(name) + "' command");
            return done(out, false);
        }
        const tls::Role needed = reads_only(name) ? tls::Role::readonly : tls::Role::readwrite;
        if (!s.auth_token.empty() && s.auth_generation != s.core.credentials_generation()) {
            // The tokens were reloaded: a token revoked since AUTH holds no role now.
            s.auth_generation = s.core.credentials_generation();
            const tls::Identity who = s.core.authenticate(s.auth_token);
            s.role = who.kind == tls::Identity::Kind::none ? tls::Role::none : who.role;
        }
        if (!tls::permits(s.role, needed)) {
            const bool anonymous = s.role == tls::Role::none;
            put_error(out, std::string(anonymous ? "NOAUTH " : "NOPERM ") +
                               tls::refusal(s.config.identity, s.role, needed));
            return done(out, false);
        }
        return c->run(state_, std::move(args),
                      [done = std::move(done)](std::string reply) { done(std::move(reply), false); });
    }
    const bool fixed_arity = name == "ECHO" || name == "SELECT";
    if (fixed_arity && args.size() != 2) {
        put_error(out, "ERR wrong number of arguments for '" + lower(name) + "' command");
    } else if (name == "PING") {
        if (args.size() > 2)
            put_error(out, "ERR wrong number of arguments for 'ping' command");
        else if (args.size() == 2)
            put_bulk(out, args[1]);
        else
            put_simple(out, "PONG");
    } else if (name == "AUTH") {
        if (args.size() != 2 && args.size() != 3) {
            put_error(out, "ERR wrong number of arguments for 'auth' command");
        } else if (std::string why = authenticate(s, args.size() == 3 ? &args[1] : nullptr, args.back());
                   !why.empty()) {
            put_error(out, why);
        } else {
            put_simple(out, "OK");
        }
    } else if (name == "ECHO") {
        put_bulk(out, args[1]);
    } else if (name == "QUIT") {
        put_simple(out, "OK");
        return done(out, true);
    } else if (name == "SELECT") {
        std::int64_t db = -1;
        if (!to_int64(args[1], db) || db < 0 || static_cast<std::uint64_t>(db) >= s.config.databases.size())
            put_error(out, "ERR DB index is out of range (this node serves " +
                               std::to_string(s.config.databases.size()) + ": resp_databases)");
        else {
            s.db = static_cast<std::size_t>(db);
            put_simple(out, "OK");
        }
    } else if (name == "HELLO") {
        hello(s, args, out);
    } else if (connection_command(s, name, args, out)) {
        // SHOAL.OPTIONS, WAIT, CONFIG, CLIENT, COMMAND, RESET (shoal_commands.cpp)
    } else if (name == "INFO") {
        put_bulk(out, "# Server\r\nredis_version:7.0.0\r\nshoal_namespace:" + s.ns() + "\r\n");
    } else {
        put_error(out,
                  "ERR unknown command '" + lower(args[0]).substr(0, 64) +
                      "' (this node speaks the string, set, counter and hash commands: docs/redis.md)");
    }
    done(out, false);
}

std::string authenticate(State& s, const std::string* name, const std::string& token) {
    const tls::Identity who = s.core.authenticate(token);
    // A name, when given, must be the token's (redis-cli sends "default" without one).
    const bool named_right = name == nullptr || *name == "default" || *name == who.name;
    if (who.kind == tls::Identity::Kind::none || !named_right)
        return "WRONGPASS invalid username-password pair or user is disabled.";
    s.role = who.role;
    s.auth_token = token;
    s.auth_generation = s.core.credentials_generation();
    return {};
}

std::optional<std::string> Session::concurrent_key(const std::vector<std::string>& args) const {
    if (args.size() < 2) return std::nullopt;
    const std::string name = upper(args[0]);
    const bool several_keys = name == "DEL" || name == "UNLINK" || name == "EXISTS" || name == "MGET";
    if (name == "MSET" || (several_keys && args.size() != 2)) return std::nullopt;
    const std::string datatype = state_->core.datatype(state_->ns_of(args[1]));
    const bool keyed = (!datatype.empty() && find_datatype_command(datatype, name)) || find_string_command(name) ||
                       find_hash_command(name) || find_shoal_command(name) || is_datatype_command(name);
    if (!keyed) return std::nullopt;
    return args[1];
}

bool reads_only(const std::string& upper_name) {
    for (const char* r : {"GET", "MGET", "EXISTS", "TTL", "PTTL", "STRLEN", "TYPE", "SMEMBERS", "SISMEMBER",
                          "SMISMEMBER", "SCARD", "HGET", "HMGET", "HGETALL", "HEXISTS", "HLEN", "HKEYS", "HVALS", "SHOAL.GET",
                          "SCAN"})
        if (upper_name == r) return true;
    return false;
}

void hello(State& s, const std::vector<std::string>& args, std::string& out) {
    bool resp3 = s.resp3;
    if (args.size() >= 2) {
        std::int64_t v = 0;
        if (!to_int64(args[1], v) || (v != 2 && v != 3)) {
            put_error(out, "NOPROTO unsupported protocol version");
            return;
        }
        resp3 = v == 3;
    }
    // HELLO 3 AUTH name token [SETNAME n]: authenticates first; SETNAME is not kept.
    for (std::size_t i = 2; i < args.size(); ++i) {
        if (upper(args[i]) == "AUTH" && i + 2 < args.size()) {
            if (std::string why = authenticate(s, &args[i + 1], args[i + 2]); !why.empty()) {
                put_error(out, why);
                return;
            }
            i += 2;
        }
    }
    s.resp3 = resp3;
    put_map(out, 6, resp3);
    put_bulk(out, "server");
    put_bulk(out, "shoal");
    put_bulk(out, "version");
    put_bulk(out, "7.0.0");
    put_bulk(out, "proto");
    put_integer(out, resp3 ? 3 : 2);
    put_bulk(out, "id");
    put_integer(out, 1);
    put_bulk(out, "mode");
    put_bulk(out, "standalone");
    put_bulk(out, "role");
    put_bulk(out, "master");
}

}  // namespace shoal::resp
