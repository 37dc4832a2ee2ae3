#include "workload.h"

#include <charconv>

#include "core/assert.h"

namespace shoal::bench {

std::string_view op_name(OpKind k) {
    switch (k) {
        case OpKind::read: return "read";
        case OpKind::update: return "update";
        case OpKind::insert: return "insert";
        case OpKind::rmw: return "rmw";
        case OpKind::cart: return "cart";
        case OpKind::count_: break;
    }
    SHOAL_UNREACHABLE("bad OpKind");
}

bool op_writes(OpKind k) {
    return k != OpKind::read;
}

namespace {
Mix mix_of(double read, double update, double insert, double rmw, double cart) {
    Mix m;
    m.weight = {read, update, insert, rmw, cart};
    return m;
}
}  // namespace

bool apply_preset(std::string_view name, WorkloadSpec& s) {
    s.ttl_s = 0;
    s.dist = KeyDist::zipfian;
    if (name == "a")
        s.mix = mix_of(0.5, 0.5, 0, 0, 0);
    else if (name == "b")
        s.mix = mix_of(0.95, 0.05, 0, 0, 0);
    else if (name == "c")
        s.mix = mix_of(1, 0, 0, 0, 0);
    else if (name == "f")
        s.mix = mix_of(0.5, 0, 0, 0.5, 0);
    else if (name == "cart")
        s.mix = mix_of(0.2, 0, 0, 0, 0.8);
    else if (name == "session") {
        s.mix = mix_of(0.7, 0.2, 0.1, 0, 0);
        s.dist = KeyDist::latest;
        s.ttl_s = 600;
    } else
        return false;
    s.preset = std::string(name);
    return true;
}

bool parse_value_size(std::string_view t, std::uint32_t& lo, std::uint32_t& hi) {
    const auto dash = t.find('-');
    auto num = [](std::string_view s, std::uint32_t& out) {
        const auto r = std::from_chars(s.data(), s.data() + s.size(), out);
        return r.ec == std::errc{} && r.ptr == s.data() + s.size() && !s.empty();
    };
    if (dash == std::string_view::npos) {
        if (!num(t, lo)) return false;
        hi = lo;
    } else if (!num(t.substr(0, dash), lo) || !num(t.substr(dash + 1), hi)) {
        return false;
    }
    return lo >= 1 && lo <= hi && hi <= 64 * 1024 * 1024;
}

OpChooser::OpChooser(const Mix& mix) {
    double sum = 0;
    for (std::size_t i = 0; i < k_op_kinds; ++i) {
        SHOAL_ASSERT(mix.weight[i] >= 0);
        sum += mix.weight[i];
        cumulative_[i] = sum;
    }
    SHOAL_ASSERT_MSG(sum > 0, "a workload needs at least one operation kind with weight > 0");
    for (auto& c : cumulative_) c /= sum;
}

OpKind OpChooser::next(Rng& rng) const {
    const double u = rng.unit();
    for (std::size_t i = 0; i < k_op_kinds; ++i) {
        if (u < cumulative_[i]) return static_cast<OpKind>(i);
    }
    // u is just under 1 and rounding left the last cumulative below it: the last kind with weight.
    for (std::size_t i = k_op_kinds; i-- > 0;) {
        if (i == 0 || cumulative_[i] > cumulative_[i - 1]) return static_cast<OpKind>(i);
    }
    SHOAL_UNREACHABLE("empty mix");
}

}  // namespace shoal::bench
