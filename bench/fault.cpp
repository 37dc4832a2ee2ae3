#include "fault.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>

#include "core/assert.h"

namespace shoal::bench {

std::string_view fault_action_name(FaultAction a) {
    switch (a) {
        case FaultAction::kill: return "kill";
        case FaultAction::stop: return "stop";
        case FaultAction::cont: return "cont";
        case FaultAction::restart: return "restart";
    }
    SHOAL_UNREACHABLE("bad FaultAction");
}

std::string_view fault_phase_name(FaultPhase p) {
    switch (p) {
        case FaultPhase::before: return "before";
        case FaultPhase::during: return "during";
        case FaultPhase::after: return "after";
    }
    SHOAL_UNREACHABLE("bad FaultPhase");
}

namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
    std::vector<std::string_view> out;
    for (;;) {
        const auto p = s.find(sep);
        out.push_back(s.substr(0, p));
        if (p == std::string_view::npos) return out;
        s.remove_prefix(p + 1);
    }
}

std::vector<std::string_view> words(std::string_view s) {
    std::vector<std::string_view> out;
    for (auto w : split(s, ' ')) {
        w = trim(w);
        if (!w.empty()) out.push_back(w);
    }
    return out;
}

std::optional<FaultAction> parse_action(std::string_view w) {
    if (w == "kill") return FaultAction::kill;
    if (w == "stop") return FaultAction::stop;
    if (w == "cont") return FaultAction::cont;
    if (w == "restart") return FaultAction::restart;
    return std::nullopt;
}

std::optional<int> parse_node(std::string_view w) {
    if (!w.empty() && w.front() == 'n') w.remove_prefix(1);
    int id = 0;
    const auto r = std::from_chars(w.data(), w.data() + w.size(), id);
    if (r.ec != std::errc{} || r.ptr != w.data() + w.size() || w.empty() || id < 1 || id > 64) return std::nullopt;
    return id;
}

}  // namespace

std::optional<std::int64_t> parse_duration_ms(std::string_view t) {
    t = trim(t);
    std::size_t i = 0;
    while (i < t.size() && (std::isdigit(static_cast<unsigned char>(t[i])) || t[i] == '.')) ++i;
    if (i == 0) return std::nullopt;
    const std::string number(t.substr(0, i));
    char* end = nullptr;
    const double v = std::strtod(number.c_str(), &end);
    if (end != number.c_str() + number.size() || v < 0) return std::nullopt;
    const std::string_view unit = t.substr(i);
    double ms = 0;
    if (unit == "s")
        ms = v * 1000;
    else if (unit == "ms")
        ms = v;
    else if (unit == "us")
        ms = v / 1000;
    else if (unit == "m")
        ms = v * 60000;
    else
        return std::nullopt;
    if (ms > 1e12) return std::nullopt;
    return static_cast<std::int64_t>(ms);
}

FaultParse parse_faults(std::string_view text) {
    FaultParse out;
    for (auto item : split(text, ';')) {
        item = trim(item);
        if (item.empty()) continue;
        const auto w = words(item);
        const std::string where = "in fault '" + std::string(item) + "': ";
        if (w.size() != 3) {
            out.error = where + "expected 'at=TIME ACTION NODE'";
            return out;
        }
        if (w[0].substr(0, 3) != "at=") {
            out.error = where + "expected it to start with at=TIME";
            return out;
        }
        const auto at = parse_duration_ms(w[0].substr(3));
        if (!at) {
            out.error = where + "bad time '" + std::string(w[0].substr(3)) + "' (e.g. 10s, 500ms, 1.5s, 2m)";
            return out;
        }
        const auto action = parse_action(w[1]);
        if (!action) {
            out.error = where + "unknown action '" + std::string(w[1]) + "' (kill, stop, cont, restart)";
            return out;
        }
        const auto node = parse_node(w[2]);
        if (!node) {
            out.error = where + "bad node '" + std::string(w[2]) + "' (e.g. n2)";
            return out;
        }
        out.events.push_back(FaultEvent{*at, *action, *node});
    }
    std::stable_sort(out.events.begin(), out.events.end(),
                     [](const FaultEvent& a, const FaultEvent& b) { return a.at_ms < b.at_ms; });
    return out;
}

}  // namespace shoal::bench
