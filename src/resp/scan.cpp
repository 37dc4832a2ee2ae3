// SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]: one namespace's keys, page by
// page, from the core's key listing (ClientOp::list). The cursors (ScanCursors) and
// the pattern matcher are here too.
#include "resp/scan.h"

#include <algorithm>
#include <charconv>

#include "core/limits.h"
#include "resp/session_internal.h"

namespace shoal::resp {

std::uint64_t ScanCursors::open(ScanPosition p, Time now) {
    constexpr std::uint64_t k_limit = std::uint64_t{1} << 53;
    if (next_ == 0) {
        // Seconds since the epoch (< 2^32 until 2106) times 2^20: a million cursors a
        // life before they could meet an earlier life's.
        const auto seconds = static_cast<std::uint64_t>(std::max<std::int64_t>(now.us, 0) / 1'000'000);
        next_ = ((seconds & 0xffffffffULL) << 20) % k_limit + 1;
    }
    const std::uint64_t id = next_;
    next_ = next_ + 1 >= k_limit ? 1 : next_ + 1;
    if (positions_.size() >= k_max_scan_cursors) {
        positions_.erase(order_.front());
        order_.pop_front();
    }
    if (positions_.insert_or_assign(id, std::move(p)).second) order_.push_back(id);
    return id;
}

const ScanPosition* ScanCursors::find(std::uint64_t cursor) const {
    auto it = positions_.find(cursor);
    return it == positions_.end() ? nullptr : &it->second;
}

namespace {

// Matches the set at pattern[i] (just after '[') against byte c; sets `end` to the
// index after the closing ']' (or the pattern's end, when none closes it).
bool match_set(std::string_view pattern, std::size_t i, char c, std::size_t& end) {
    bool negate = false;
    if (i < pattern.size() && pattern[i] == '^') {
        negate = true;
        ++i;
    }
    bool hit = false;
    bool first = true;
    while (i < pattern.size() && (first || pattern[i] != ']')) {
        first = false;
        if (pattern[i] == '\\' && i + 1 < pattern.size()) {
            hit |= pattern[i + 1] == c;
            i += 2;
        } else if (i + 2 < pattern.size() && pattern[i + 1] == '-' && pattern[i + 2] != ']') {
            auto lo = static_cast<unsigned char>(pattern[i]), hi = static_cast<unsigned char>(pattern[i + 2]);
            if (lo > hi) std::swap(lo, hi);
            const auto b = static_cast<unsigned char>(c);
            hit |= b >= lo && b <= hi;
            i += 3;
        } else {
            hit |= pattern[i] == c;
            ++i;
        }
    }
    end = i < pattern.size() ? i + 1 : i;
    return hit != negate;
}

}  // namespace

bool glob_match(std::string_view pattern, std::string_view text) {
    // Two cursors and the last star to fall back to: O(|pattern| * |text|) at worst.
    std::size_t p = 0, t = 0;
    std::size_t star = std::string_view::npos, star_text = 0;
    while (t < text.size()) {
        if (p < pattern.size()) {
            const char c = pattern[p];
            if (c == '*') {
                star = ++p;
                star_text = t;
                continue;
            }
            std::size_t next = p + 1;
            bool ok = false;
            if (c == '?') {
                ok = true;
            } else if (c == '[') {
                ok = match_set(pattern, p + 1, text[t], next);
            } else if (c == '\\' && p + 1 < pattern.size()) {
                ok = pattern[p + 1] == text[t];
                next = p + 2;
            } else {
                ok = c == text[t];
            }
            if (ok) {
                p = next;
                ++t;
                continue;
            }
        }
        if (star == std::string_view::npos) return false;
        p = star;
        t = ++star_text;
    }
    while (p < pattern.size() && pattern[p] == '*') ++p;
    return p == pattern.size();
}

std::string literal_prefix(std::string_view pattern) {
    std::string out;
    for (std::size_t i = 0; i < pattern.size(); ++i) {
        const char c = pattern[i];
        if (c == '*' || c == '?' || c == '[') break;
        if (c == '\\') {
            if (i + 1 == pattern.size()) break;
            out.push_back(pattern[++i]);
            continue;
        }
        out.push_back(c);
    }
    return out;
}

namespace {

// The longest MATCH pattern taken: matching costs up to its length times a key's.
constexpr std::size_t k_max_match_bytes = 256;
// What one SCAN call may spend matching, counted as glob_match's worst case of
// comparisons for each key (match_cost). Past it the call returns what it has, and its
// cursor resumes after the last key matched. It covers several keys' worst at the
// default key bound (a 256-byte pattern against 1 KiB keys: about 16).
constexpr std::size_t match_cost(std::size_t pattern, std::size_t key) { return 2 * (pattern + 1) * (key + 1); }
constexpr std::size_t k_match_budget = std::size_t{1} << 23;
static_assert(k_match_budget >= 8 * match_cost(k_max_match_bytes, Limits{}.max_key_bytes));
// The most pages one SCAN call asks the core for while it has fewer than COUNT keys:
// a call's cost stays bounded, and an empty namespace is walked in few calls.
constexpr int k_pages_per_call = 8;

// What TYPE says of a namespace's keys.
std::string_view type_name(const std::string& datatype) {
    if (datatype == "set") return "set";
    if (datatype == "map") return "hash";
    return "string";
}

struct Scan {
    StatePtr s;
    ScanPosition pos;
    std::string match;  // empty: every key
    std::uint32_t count = 10;
    int pages = 0;
    std::size_t match_budget = k_match_budget;
    std::vector<std::string> keys;
    Reply done;
};

void finish(const std::shared_ptr<Scan>& scan) {
    const std::uint64_t cursor =
        scan->pos.at.done ? 0 : scan->s->core.scan_cursors().open(scan->pos, scan->s->core.now());
    std::string out;
    put_array(out, 2);
    put_bulk(out, std::to_string(cursor));
    put_array(out, scan->keys.size());
    for (const auto& k : scan->keys) put_bulk(out, k);
    scan->done(std::move(out));
}

void next_page(std::shared_ptr<Scan> scan) {
    replica::ClientRequest q;
    q.op = replica::ClientOp::list;
    q.options.ns = scan->pos.ns;
    q.list = scan->pos.at;
    q.list_prefix = scan->pos.prefix;
    q.list_limit = std::min<std::uint32_t>(scan->count, k_max_list_keys);
    ++scan->pages;
    StatePtr s = scan->s;
    submit(s, std::move(q), [scan = std::move(scan)](replica::ClientReply r) mutable {
        if (r.code != errc::ok) return scan->done(error(error_text(r.code, r)));
        for (std::size_t i = 0; i < r.keys.size(); ++i) {
            std::string& k = r.keys[i];
            if (!scan->match.empty()) {
                const std::size_t cost = match_cost(scan->match.size(), k.size());
                // Out of budget (the call's first key is always matched, so each call
                // makes progress): the next call goes on after the last key matched,
                // or where this page began.
                if (cost > scan->match_budget && scan->match_budget < k_match_budget) {
                    if (i > 0) scan->pos.at = replica::ListPosition{scan->pos.at.partition, r.keys[i - 1], false};
                    return finish(scan);
                }
                scan->match_budget -= std::min(cost, scan->match_budget);
                if (!glob_match(scan->match, k)) continue;
            }
            scan->keys.push_back(k);
        }
        scan->pos.at = std::move(r.next);
        if (scan->pos.at.done || scan->keys.size() >= scan->count || scan->pages >= k_pages_per_call)
            return finish(scan);
        next_page(std::move(scan));
    });
}

bool parse_u64(const std::string& text, std::uint64_t& out) {
    const char* end = text.data() + text.size();
    auto [p, ec] = std::from_chars(text.data(), end, out);
    return ec == std::errc{} && p == end && !text.empty();
}

void cmd_scan(StatePtr s, std::vector<std::string> a, Reply done) {
    std::uint64_t cursor = 0;
    if (!parse_u64(a[1], cursor)) return done(error("ERR invalid cursor"));
    auto scan = std::make_shared<Scan>();
    std::string type;
    for (std::size_t i = 2; i < a.size(); i += 2) {
        if (i + 1 >= a.size()) return done(error("ERR syntax error"));
        const std::string opt = upper(a[i]);
        if (opt == "MATCH") {
            if (a[i + 1].size() > k_max_match_bytes)
                return done(error("ERR MATCH pattern longer than " + std::to_string(k_max_match_bytes) + " bytes"));
            scan->match = a[i + 1] == "*" ? std::string() : a[i + 1];
        } else if (opt == "COUNT") {
            std::int64_t n = 0;
            if (!to_int64(a[i + 1], n)) return done(error("ERR value is not an integer or out of range"));
            if (n < 1) return done(error("ERR syntax error"));
            scan->count = static_cast<std::uint32_t>(std::min<std::int64_t>(n, k_max_list_keys));
        } else if (opt == "TYPE") {
            type = lower(a[i + 1]);
        } else {
            return done(error("ERR syntax error"));
        }
    }
    if (cursor == 0) {
        // The namespace walked: the one a configured prefix gives MATCH's literal start,
        // else the selected database's.
        const std::string literal = literal_prefix(scan->match);
        scan->pos.ns = s->ns_of(literal);
        scan->pos.prefix = literal;
    } else {
        const ScanPosition* known = s->core.scan_cursors().find(cursor);
        if (known == nullptr)
            return done(error("ERR invalid cursor (this node does not know it: it came from another node, or was "
                              "forgotten after " +
                              std::to_string(k_max_scan_cursors) + " newer ones; start again from 0)"));
        scan->pos = *known;
    }
    // Every key of a namespace is of its one type.
    if (!type.empty() && type != type_name(s->core.datatype(scan->pos.ns))) {
        std::string out;
        put_array(out, 2);
        put_bulk(out, "0");
        put_array(out, 0);
        return done(std::move(out));
    }
    scan->s = std::move(s);
    scan->done = std::move(done);
    next_page(std::move(scan));
}

const Command k_scan = {"SCAN", -2, cmd_scan};

}  // namespace

const Command* find_scan_command(const std::string& upper_name) {
    return upper_name == "SCAN" ? &k_scan : nullptr;
}

}  // namespace shoal::resp
