// shoal-bench --check: what the run's cart adds promised, checked afterwards.
//
// During the run every cart add carries an item no other add uses; each acknowledged
// add is recorded, and every read a connection makes of a cart is compared with the
// adds that same connection had seen acknowledged (a read that misses one is stale).
// After the run (and the fault schedule's heal), verify() reads every cart that was
// written with r=all through every node, again until the nodes agree or the time runs
// out, and reports the acknowledged adds no node returns (lost), the carts whose nodes
// disagree, and siblings per cart.
#pragma once

#include "tls/tls.h"

#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace shoal::bench {

struct CheckReport {
    std::uint64_t carts = 0, acked_adds = 0, lost_adds = 0;
    std::uint64_t reads = 0, stale_reads = 0;
    std::uint64_t disagreeing = 0;  // carts whose nodes still returned different items
    bool converged = false;
    double converge_s = 0;
    std::uint64_t max_siblings = 0;
    std::map<std::uint64_t, std::uint64_t> siblings;  // siblings per cart (through the first node) -> carts
    std::vector<std::string> lost_examples;           // "key: item", a few
    bool passed() const { return lost_adds == 0 && converged; }
};

// The items of a cart as stored: its siblings' comma-separated lists, joined.
std::set<std::string> cart_items(const std::vector<std::string>& sibling_values);

class CartCheck {
public:
    // A connection's add of `item` to `key` was acknowledged.
    void acked(std::uint64_t conn, const std::string& key, const std::string& item);
    // A connection read `key`: stale when it misses an add this connection saw acknowledged.
    void read(std::uint64_t conn, const std::string& key, const std::vector<std::string>& sibling_values);

    // Reads every cart through each of `nodes` (client addresses) with r=all until they
    // agree or `timeout_s` passes. Prints its progress. Carts kept as sets (`sets_db`:
    // the RESP database they are in) are read with SMEMBERS through RESP addresses.
    static constexpr int k_not_sets = -2;
    CheckReport verify(const std::vector<std::string>& nodes, double timeout_s, const tls::Files& tls = {},
                       int sets_db = k_not_sets);

private:
    std::mutex mu_;
    std::map<std::string, std::set<std::string>> acked_;                           // key -> items
    std::map<std::pair<std::uint64_t, std::string>, std::set<std::string>> seen_;  // (conn, key) -> its acked items
    std::uint64_t reads_ = 0, stale_ = 0;
};

void print_check(const CheckReport& r);

}  // namespace shoal::bench
