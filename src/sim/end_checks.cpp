// The end of a run: the checks over every node's disk once the workload and the
// faults are over (convergence, lost acknowledged writes, resurrections, drained hints),
// and, after a wipe, the probe that measures refill and one-key repair.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iterator>

#include "core/assert.h"
#include "replica/codec.h"
#include "sim/simulation.h"
#include "sim/simulator.h"
#include "store/keys.h"

namespace shoal::sim {

void Simulation::finish_checks() {
    for (std::uint32_t i = 0; i < nodes_.size(); ++i) {
        if (nodes_[i]->up) settle_commits(i);
    }
    if (membership()) finish_membership_checks();  // also installs the final ring in ring_
    std::map<std::string, SiblingSet> merged;
    for (std::uint32_t i = 0; i < nodes_.size(); ++i) {
        SimNode& n = *nodes_[i];
        const store::KeyRange data = store::all_data_range();
        (void)n.disk.scan(data.begin, data.end, [&](std::string_view stored, std::string_view bytes) {
            PartitionId p;
            std::string_view key;
            SiblingSet state;
            if (!store::parse_data_key(stored, p, key) || replica::decode_stored(bytes, state)) {
                result_.violations.push_back("storage: undecodable object on node " + std::to_string(i + 1));
                return true;
            }
            for (const auto& [older, newer] : find_dominated(std::string(key), state, history_)) {
                (void)older, (void)newer;
                ++result_.dominated;
                result_.violations.push_back("dominated-siblings: stored on node " + std::to_string(i + 1) + " key " +
                                             std::string(key));
            }
            auto& m = merged[std::string(key)];
            m = replica::merge(m, state, replica::conflict_of(sim_namespaces({}, config_.conflict), key, config_.conflict));
            return true;
        });
    }
    std::vector<std::string> divergent;
    result_.divergent_keys = count_divergent(&divergent);
    for (std::size_t i = 0; i < std::min<std::size_t>(divergent.size(), 3); ++i) {
        result_.violations.push_back("convergence: the primaries of key " + divergent[i] + " disagree after healing");
    }
    if (divergent.size() > 3) {
        result_.violations.push_back("convergence: " + std::to_string(divergent.size() - 3) + " more keys disagree");
    }
    for (std::uint32_t i = 0; i < nodes_.size(); ++i) {
        SimNode& n = *nodes_[i];
        if (!n.up) continue;  // exited or dead for good (membership scenarios)
        collect_stats(n.core->stats());
        detach_driver(i);  // its counts; the run is over
        const std::uint64_t left = n.core->hints_pending();
        result_.hints_left += left;
        if (left != 0) {
            result_.violations.push_back("hints-drain: node " + std::to_string(i + 1) + " still holds " +
                                         std::to_string(left) + " hints after healing" + hint_targets(i));
        }
    }
    if (config_.sync != store::SyncMode::none) {
        // Under sync=none an acknowledged delete may itself be lost in a crash.
        for (std::uint32_t i = 0; i < nodes_.size(); ++i) {
            std::uint64_t unused = 0;
            if (!nodes_[i]->up) continue;  // gone for good (membership scenarios): serves nothing
            for (const auto& [key, copies] : stored_objects(unused, i)) {
                if (!copies[i]) continue;
                // Membership scenarios: a node that is no longer a primary of a key hands
                // its copy to the primaries and drops it; once healed, none is left.
                if (membership() &&
                    !ring_->is_primary(ring_->partition_of(hash_key(key)), NodeId{i + 1}, config_.n)) {
                    ++result_.left_behind;
                    result_.violations.push_back("stale-copy: node " + std::to_string(i + 1) + " still holds key " +
                                                 key + " of a partition it no longer serves");
                    continue;
                }
                for (const auto& dot : find_resurrected(key, *copies[i], history_)) {
                    (void)dot;
                    ++result_.resurrected;
                    result_.violations.push_back("resurrection: node " + std::to_string(i + 1) + " holds key " + key +
                                                 " live again after its delete was acknowledged");
                }
            }
        }
    }
    const auto lost = find_lost_adds(history_, merged);
    result_.lost_acked = lost.size();
    if (config_.datatypes) check_datatypes(merged);
    for (const auto& add : lost) {
        result_.violations.push_back("lost-ack: item " + add.item + " of key " + add.key);
    }
    if (config_.scenario == Scenario::clock && result_.failed_requests != 0) {
        result_.violations.push_back("clock: " + std::to_string(result_.failed_requests) +
                                     " requests failed where the only faults were wall-clock jumps");
    }
    if (config_.scenario == Scenario::minority) {
        result_.availability_checked = true;
        Availability a{result_.availability_attempted, result_.availability_succeeded};
        if (!available_enough(a, 0.99)) {
            result_.violations.push_back("availability: " + std::to_string(a.succeeded) + " of " +
                                         std::to_string(a.attempted) + " writes succeeded with a minority down");
        }
    }
}

std::map<std::string, std::vector<std::unique_ptr<SiblingSet>>> Simulation::stored_objects(std::uint64_t& bytes_on,
                                                                                          std::uint32_t node) {
    std::map<std::string, std::vector<std::unique_ptr<SiblingSet>>> out;
    bytes_on = 0;
    for (std::uint32_t i = 0; i < nodes_.size(); ++i) {
        const store::KeyRange data = store::all_data_range();
        (void)nodes_[i]->disk.scan(data.begin, data.end, [&](std::string_view stored, std::string_view bytes) {
            PartitionId p;
            std::string_view key;
            if (!store::parse_data_key(stored, p, key)) return true;
            auto& copies = out[std::string(key)];
            copies.resize(nodes_.size());
            auto state = std::make_unique<SiblingSet>();
            if (replica::decode_stored(bytes, *state)) {
                // Damaged: a value no honest replica holds.
                state->siblings.push_back(replica::Sibling{replica::Dot{~0ULL, ~0ULL}, false, "corrupt", {}, {}});
            }
            if (i == node) bytes_on += bytes.size();
            copies[i] = std::move(state);
            return true;
        });
    }
    return out;
}

std::uint64_t Simulation::count_divergent(std::vector<std::string>* keys) {
    std::uint64_t unused = 0;
    std::uint64_t count = 0;
    for (auto& [key, copies] : stored_objects(unused, 0)) {
        copies.resize(nodes_.size());
        const auto order = ring_->preference_order(ring_->partition_of(hash_key(key)));
        std::vector<const SiblingSet*> replicas;
        for (std::size_t i = 0; i < std::min<std::size_t>(config_.n, order.size()); ++i) {
            replicas.push_back(copies[order[i].value - 1].get());
        }
        if (replicas_agree(replicas)) continue;
        ++count;
        if (keys) keys->push_back(key);
    }
    return count;
}

// After a wipe (reading the disks only, changing nothing but the one record below),
// two measurements. First the refill: from the empty restart until every key's
// primaries agree. Then, once converged, one key is deleted behind the wiped node's
// back (bit rot of a whole record): the time and bytes until anti-entropy (after the
// scrub notices) has put it back show the cost when little differs.
void Simulation::probe() {
    if (result_.one_key_us >= 0 || count_divergent(nullptr) != 0) return;
    const std::uint64_t sent = ae_bytes_sent_total();
    if (result_.converge_us < 0) {
        result_.converge_us = (now_ - wiped_at_).us;
        result_.refill_ae_bytes = sent - ae_bytes_base_;
        (void)stored_objects(result_.refill_data_bytes, wiped_node_);
        if (now_ + Duration::seconds(5) > Time{} + config_.duration + config_.settle) {
            result_.one_key_us = 0;  // too late in the run to measure it
            return;
        }
        std::string victim;
        (void)nodes_[wiped_node_]->disk.scan(store::all_data_range().begin, store::all_data_range().end, [&](std::string_view k, std::string_view) {
            victim = std::string(k);
            return false;
        });
        if (victim.empty()) {
            result_.one_key_us = 0;  // nothing stored: nothing to measure
            return;
        }
        store::WriteBatch drop;
        drop.del(victim);
        (void)nodes_[wiped_node_]->disk.write(drop, true);
        one_key_at_ = now_;
        ae_bytes_base_ = sent;
        return;
    }
    result_.one_key_us = (now_ - one_key_at_).us;
    result_.one_key_ae_bytes = sent - ae_bytes_base_;
}

std::uint64_t Simulation::ae_bytes_sent_total() const {
    std::uint64_t sent = ae_bytes_retired_;
    for (const auto& n : nodes_) {
        if (n->up) sent += n->core->stats().ae_bytes_sent;
    }
    return sent;
}

}  // namespace shoal::sim
