// `shoal dev partition | bridge | heal | netem` on a netns dev cluster (dev_netns.h).
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "client/dev_cluster.h"
#include "client/dev_netns.h"

namespace shoal::client {

namespace {

// "2,3" -> {2, 3}, each a node of the cluster; empty on a bad list.
std::vector<int> node_list(const std::string& text, const std::vector<DevNode>& nodes) {
    std::vector<int> out;
    std::size_t start = 0;
    while (start <= text.size()) {
        const std::size_t comma = std::min(text.find(',', start), text.size());
        const DevNode* n = find_dev_node(nodes, text.substr(start, comma - start));
        if (n == nullptr) return {};
        out.push_back(n->id);
        start = comma + 1;
    }
    return out;
}

// dev partition A / B [--one-way] | bridge N A,B | heal | netem N delay=.. jitter=.. loss=..
}  // namespace

int dev_network_fault(const std::string& tag, const std::vector<DevNode>& nodes, const std::vector<std::string>& args) {
    const std::string& cmd = args[0];
    if (tag.empty()) {
        std::fprintf(stderr, "shoal dev %s: network faults need a netns cluster (shoal dev up N --netns)\n",
                     cmd.c_str());
        return 1;
    }
    std::vector<int> all;
    for (const auto& n : nodes) all.push_back(n.id);
    std::string err;
    if (cmd == "heal") {
        err = netns::heal(tag, all);
    } else if (cmd == "partition") {
        std::string text;
        bool one_way = false;
        for (std::size_t i = 1; i < args.size(); ++i) {
            if (args[i] == "--one-way") one_way = true;
            else text += args[i];
        }
        const auto slash = text.find('/');
        const auto from = slash == std::string::npos ? std::vector<int>{} : node_list(text.substr(0, slash), nodes);
        const auto to = slash == std::string::npos ? std::vector<int>{} : node_list(text.substr(slash + 1), nodes);
        if (from.empty() || to.empty())
            return std::fputs("usage: shoal dev partition A,.. / B,.. [--one-way]  (e.g. partition 1 / 2,3)\n", stderr), 2;
        err = netns::partition(tag, from, to, one_way);
    } else if (cmd == "bridge") {
        // `bridge 1 2,3`: 1 still reaches both sides; the sides do not reach each other.
        const auto sides = args.size() == 3 ? node_list(args[2], nodes) : std::vector<int>{};
        if (args.size() != 3 || node_list(args[1], nodes).size() != 1 || sides.size() < 2)
            return std::fputs("usage: shoal dev bridge N A,B  (N sees A and B; A and B do not see each other)\n",
                              stderr),
                   2;
        for (std::size_t i = 0; i < sides.size() && err.empty(); ++i)
            for (std::size_t j = i + 1; j < sides.size() && err.empty(); ++j)
                err = netns::partition(tag, {sides[i]}, {sides[j]}, false);
    } else {  // netem
        const DevNode* n = args.size() >= 3 ? find_dev_node(nodes, args[1]) : nullptr;
        if (n == nullptr)
            return std::fputs("usage: shoal dev netem N delay=20ms jitter=5ms loss=5%\n", stderr), 2;
        err = netns::netem(tag, n->id, {args.begin() + 2, args.end()});
    }
    if (!err.empty()) {
        std::fprintf(stderr, "shoal dev %s: %s\n", cmd.c_str(), err.c_str());
        return 1;
    }
    std::string said;
    for (std::size_t i = 1; i < args.size(); ++i) said += " " + args[i];
    std::printf("%s%s: done (shoal dev heal undoes it)\n", cmd.c_str(), said.c_str());
    return 0;
}


}  // namespace shoal::client
