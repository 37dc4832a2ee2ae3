#include "check.h"

#include <chrono>
#include <cstdio>
#include <thread>

#include <boost/asio/io_context.hpp>

#include "client/client.h"
#include "driver.h"

namespace shoal::bench {

namespace {

// Reads a cart through one node: its items' lists (one per sibling) or, for carts kept
// as sets, its members; false when the node did not answer.
class CartReader {
public:
    virtual ~CartReader() = default;
    virtual bool read(const std::string& key, std::vector<std::string>& values) = 0;
};

class NativeReader final : public CartReader {
public:
    NativeReader(const std::string& node, const tls::Files& tls) {
        client::Options o;
        o.nodes = {node};
        o.tls = tls;
        o.request_timeout = Duration::seconds(5);
        o.max_attempts = 1;  // this node's answer, not another's
        client_ = std::make_unique<client::Client>(o);
        all_.r = replica::k_quorum_all;
    }
    bool read(const std::string& key, std::vector<std::string>& values) override {
        client::Result got = client_->get(key, all_);
        values = std::move(got.values);
        return got.code == errc::ok || got.code == errc::not_found;
    }

private:
    std::unique_ptr<client::Client> client_;
    client::RequestOptions all_;
};

// SMEMBERS over RESP, in database `db`, reading at every replica (SHOAL.OPTIONS R all).
class SetReader final : public CartReader {
public:
    SetReader(const std::string& node, const tls::Files& tls, int db) {
        ConnectionOptions o;
        o.nodes = {node};  // this node's answer, not another's
        o.tls = tls;
        o.resp_db = db;
        o.resp_read_all = true;
        conn_ = make_resp_connection(io_, o);
    }
    ~SetReader() override { conn_->close(); }
    bool read(const std::string& key, std::vector<std::string>& values) override {
        bool done = false;
        Reply got;
        conn_->set_members(key, [&](Reply r) {
            got = std::move(r);
            done = true;
        });
        io_.restart();
        while (!done && io_.run_one() > 0) {
        }
        values = std::move(got.values);
        return done && got.ok;
    }

private:
    boost::asio::io_context io_;
    std::unique_ptr<Connection> conn_;
};

}  // namespace

std::set<std::string> cart_items(const std::vector<std::string>& sibling_values) {
    std::set<std::string> out;
    for (const auto& v : sibling_values) {
        std::size_t pos = 0;
        while (pos < v.size()) {
            std::size_t comma = v.find(',', pos);
            if (comma == std::string::npos) comma = v.size();
            if (comma > pos) out.insert(v.substr(pos, comma - pos));
            pos = comma + 1;
        }
    }
    return out;
}

void CartCheck::acked(std::uint64_t conn, const std::string& key, const std::string& item) {
    std::lock_guard lock(mu_);
    acked_[key].insert(item);
    seen_[{conn, key}].insert(item);
}

void CartCheck::read(std::uint64_t conn, const std::string& key, const std::vector<std::string>& sibling_values) {
    const std::set<std::string> items = cart_items(sibling_values);
    std::lock_guard lock(mu_);
    ++reads_;
    auto it = seen_.find({conn, key});
    if (it == seen_.end()) return;
    for (const auto& item : it->second) {
        if (!items.contains(item)) {
            ++stale_;
            return;
        }
    }
}

CheckReport CartCheck::verify(const std::vector<std::string>& nodes, double timeout_s, const tls::Files& tls,
                              int sets_db) {
    CheckReport r;
    std::map<std::string, std::set<std::string>> acked;
    {
        std::lock_guard lock(mu_);
        acked = acked_;
        r.reads = reads_;
        r.stale_reads = stale_;
    }
    r.carts = acked.size();
    for (const auto& [key, items] : acked) r.acked_adds += items.size();
    std::vector<std::unique_ptr<CartReader>> clients;
    for (const auto& n : nodes) {
        if (sets_db == k_not_sets) {
            clients.push_back(std::make_unique<NativeReader>(n, tls));
        } else {
            clients.push_back(std::make_unique<SetReader>(n, tls, sets_db));
        }
    }
    const auto start = std::chrono::steady_clock::now();
    std::map<std::string, std::set<std::string>> found;  // key -> items some node returned
    std::set<std::string> pending, counted;  // counted: carts whose siblings are in r.siblings
    for (const auto& [key, items] : acked) pending.insert(key);
    for (int round = 1;; ++round) {
        std::set<std::string> still;
        for (const auto& key : pending) {
            std::set<std::string> first;
            bool agree = true;
            for (std::size_t i = 0; i < clients.size(); ++i) {
                std::vector<std::string> values;
                const bool ok = clients[i]->read(key, values);
                const std::set<std::string> items = ok ? cart_items(values) : std::set<std::string>{};
                found[key].insert(items.begin(), items.end());
                if (i == 0) {
                    first = items;
                    if (ok && counted.insert(key).second) {  // the first answer through node 1
                        const std::size_t siblings = sets_db == k_not_sets ? values.size() : 1;  // a set: one value
                        r.siblings[siblings] += 1;
                        r.max_siblings = std::max<std::uint64_t>(r.max_siblings, siblings);
                    }
                }
                agree = agree && ok && items == first;
            }
            if (!agree) still.insert(key);
        }
        const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        std::printf("check: round %d, %zu of %zu carts read through %zu nodes; %zu disagree (%.1f s)\n", round,
                    pending.size(), acked.size(), clients.size(), still.size(), elapsed);
        std::fflush(stdout);
        pending = std::move(still);
        if (pending.empty()) {
            r.converged = true;
            r.converge_s = elapsed;
            break;
        }
        if (elapsed >= timeout_s) break;
        std::this_thread::sleep_for(std::chrono::seconds(1));
    }
    r.disagreeing = pending.size();
    for (const auto& [key, items] : acked) {
        for (const auto& item : items) {
            if (found[key].contains(item)) continue;
            ++r.lost_adds;
            if (r.lost_examples.size() < 5) r.lost_examples.push_back(key + ": " + item);
        }
    }
    return r;
}

void print_check(const CheckReport& r) {
    std::printf("\ncheck: %llu acknowledged cart adds over %llu carts; lost %llu\n", (unsigned long long)r.acked_adds,
                (unsigned long long)r.carts, (unsigned long long)r.lost_adds);
    for (const auto& e : r.lost_examples) std::printf("  lost: %s\n", e.c_str());
    if (r.converged)
        std::printf("check: every node returned the same items for every cart, %.1f s after the run\n", r.converge_s);
    else
        std::printf("check: %llu carts still differ between nodes\n", (unsigned long long)r.disagreeing);
    std::printf("check: stale reads (a connection's read missed an add it had seen acknowledged): %llu of %llu\n",
                (unsigned long long)r.stale_reads, (unsigned long long)r.reads);
    std::string dist;
    for (const auto& [n, carts] : r.siblings) dist += " " + std::to_string(n) + ":" + std::to_string(carts);
    std::printf("check: siblings per cart after the run (siblings:carts):%s; max %llu\n", dist.c_str(),
                (unsigned long long)r.max_siblings);
    std::printf("check: %s\n", r.passed() ? "passed" : "FAILED");
}

}  // namespace shoal::bench
