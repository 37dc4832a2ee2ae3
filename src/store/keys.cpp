#include "store/keys.h"

#include <limits>

#include "core/byte_codec.h"

namespace shoal::store {

namespace {

constexpr char k_data_tag = 'd';
constexpr char k_hint_tag = 'h';
constexpr char k_meta_tag = 'm';
constexpr std::size_t k_id_bytes = 4;
constexpr std::size_t k_seq_bytes = 8;
constexpr std::size_t k_hint_bytes = 8;  // hint values: the byte count before the key

std::string tagged_id(char tag, std::uint32_t id) {
    std::string out;
    out.push_back(tag);
    put_be(out, id, k_id_bytes);
    return out;
}

// All keys "tag + 4-byte id + anything": up to the next id, or the next tag after the last.
KeyRange id_range(char tag, std::uint32_t id) {
    if (id == std::numeric_limits<std::uint32_t>::max())
        return {tagged_id(tag, id), std::string(1, static_cast<char>(tag + 1))};
    return {tagged_id(tag, id), tagged_id(tag, id + 1)};
}

}  // namespace

std::string data_key(PartitionId p, std::string_view user_key) {
    std::string out = tagged_id(k_data_tag, p.value);
    out.append(user_key);
    return out;
}

KeyRange data_range(PartitionId p) {
    return id_range(k_data_tag, p.value);
}

KeyRange all_data_range() {
    return KeyRange{std::string(1, k_data_tag), std::string(1, static_cast<char>(k_data_tag + 1))};
}

KeyRange all_hints_range() {
    return KeyRange{std::string(1, k_hint_tag), std::string(1, static_cast<char>(k_hint_tag + 1))};
}

bool parse_data_key(std::string_view stored, PartitionId& p, std::string_view& user_key) {
    if (stored.size() < 1 + k_id_bytes || stored[0] != k_data_tag) return false;
    p = PartitionId{static_cast<std::uint32_t>(get_be(stored.substr(1), k_id_bytes))};
    user_key = stored.substr(1 + k_id_bytes);
    return true;
}

std::string meta_key(std::string_view name) {
    std::string out(1, k_meta_tag);
    out.append(name);
    return out;
}

std::string hint_key(NodeId target, std::uint64_t seq) {
    std::string out = tagged_id(k_hint_tag, target.value);
    put_be(out, seq, k_seq_bytes);
    return out;
}

KeyRange hint_range(NodeId target) {
    return id_range(k_hint_tag, target.value);
}

bool parse_hint_key(std::string_view stored, NodeId& target, std::uint64_t& seq) {
    if (stored.size() != 1 + k_id_bytes + k_seq_bytes || stored[0] != k_hint_tag) return false;
    target = NodeId{static_cast<std::uint32_t>(get_be(stored.substr(1), k_id_bytes))};
    seq = get_be(stored.substr(1 + k_id_bytes), k_seq_bytes);
    return true;
}

std::string hint_value(std::uint64_t bytes, std::string_view user_key) {
    std::string out;
    put_be(out, bytes, k_hint_bytes);
    out.append(user_key);
    return out;
}

bool parse_hint_value(std::string_view value, std::uint64_t& bytes, std::string_view& user_key) {
    if (value.size() < k_hint_bytes) return false;
    bytes = get_be(value, k_hint_bytes);
    user_key = value.substr(k_hint_bytes);
    return true;
}

}  // namespace shoal::store
