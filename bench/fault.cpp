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
        case FaultAction::partition: return "partition";
        case FaultAction::bridge: return "bridge";
        case FaultAction::netem: return "netem";
        case FaultAction::heal: return "heal";
        case FaultAction::clock: return "clock";
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
    if (w == "partition") return FaultAction::partition;
    if (w == "bridge") return FaultAction::bridge;
    if (w == "netem") return FaultAction::netem;
    if (w == "heal") return FaultAction::heal;
    if (w == "clock") return FaultAction::clock;
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

bool fault_disrupts(const FaultEvent& e) {
    if (e.action == FaultAction::clock) return e.args.empty() || e.args[0] != "0";
    return fault_disrupts(e.action);
}

std::string describe(const FaultEvent& e) {
    std::string out(fault_action_name(e.action));
    if (e.node != 0) out += " n" + std::to_string(e.node);
    for (const auto& a : e.args) out += " " + a;
    return out;
}

FaultParse parse_faults(std::string_view text) {
    FaultParse out;
    for (auto item : split(text, ';')) {
        item = trim(item);
        if (item.empty()) continue;
        const auto w = words(item);
        const std::string where = "in fault '" + std::string(item) + "': ";
        if (w.size() < 2) {
            out.error = where + "expected 'at=TIME ACTION ...'";
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
            out.error = where + "unknown action '" + std::string(w[1]) +
                        "' (kill, stop, cont, restart, partition, bridge, netem, heal)";
            return out;
        }
        FaultEvent ev{*at, *action, 0, {}};
        const bool on_node =
            *action <= FaultAction::restart || *action == FaultAction::netem || *action == FaultAction::clock;
        const std::size_t want_min =
            *action == FaultAction::heal                                                                       ? 2
            : *action == FaultAction::netem || *action == FaultAction::clock || *action == FaultAction::bridge ? 4
                                                                                                               : 3;
        const std::size_t want_max = *action <= FaultAction::restart                                   ? 3
                                     : *action == FaultAction::heal                                    ? 2
                                     : *action == FaultAction::bridge || *action == FaultAction::clock ? 4
                                                                                                       : w.size();
        if (w.size() < want_min || w.size() > want_max) {
            out.error = where + "wrong arguments for " + std::string(w[1]) +
                        " (kill n2 | clock n2 +30s | partition 1/2,3 [--one-way] | bridge 1 2,3 | netem 2 delay=20ms "
                        "loss=5% | heal)";
            return out;
        }
        std::size_t next = 2;
        if (on_node) {
            const auto node = parse_node(w[2]);
            if (!node) {
                out.error = where + "bad node '" + std::string(w[2]) + "' (e.g. n2)";
                return out;
            }
            ev.node = *node;
            next = 3;
        }
        for (std::size_t i = next; i < w.size(); ++i) ev.args.emplace_back(w[i]);
        out.events.push_back(std::move(ev));
    }
    std::stable_sort(out.events.begin(), out.events.end(),
                     [](const FaultEvent& a, const FaultEvent& b) { return a.at_ms < b.at_ms; });
    return out;
}

}  // namespace shoal::bench
