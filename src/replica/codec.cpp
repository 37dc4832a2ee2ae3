#include "replica/codec.h"

#include <array>

#include "core/assert.h"
#include "core/byte_codec.h"
#include "core/errc.h"
#include "core/hash.h"

namespace shoal::replica {

namespace {

constexpr std::uint8_t k_format_version = 1;

using Reader = ByteReader;

// A sibling's flags: bit 0 a tombstone, bit 1 a content type follows its value (a
// value written before content types were kept has neither, and decodes as before).
constexpr std::uint8_t k_tombstone_flag = 1, k_content_type_flag = 2;

bool decode_sibling(Reader& r, Sibling& s) {
    std::uint8_t flags = 0;
    if (!r.byte(flags) || flags > (k_tombstone_flag | k_content_type_flag)) return false;
    s.tombstone = (flags & k_tombstone_flag) != 0;
    if (!r.varint(s.dot.actor) || !r.varint(s.dot.counter) || s.dot.counter == 0 || s.dot.counter >= k_max_counter)
        return false;
    if (!r.signed_varint(s.written.us) || !r.signed_varint(s.expires.us)) return false;
    if (!r.string(s.value)) return false;
    if ((flags & k_content_type_flag) == 0) return true;
    // Canonical: present only when non-empty, never on a tombstone.
    return !s.tombstone && r.string(s.content_type, k_max_content_type_bytes) && !s.content_type.empty();
}

}  // namespace

void encode_vv_body(const VersionVector& vv, std::string& out) {
    put_varint(out, vv.entries().size());
    for (const auto& [actor, counter] : vv.entries()) {
        put_varint(out, actor);
        put_varint(out, counter);
    }
}

bool decode_vv_body(ByteReader& r, VersionVector& out, std::size_t max_entries) {
    std::uint64_t n = 0;
    // Each entry takes at least two bytes, which bounds n by what is left.
    if (!r.varint(n) || n > max_entries || n * 2 > r.left()) return false;
    out = VersionVector{};
    ActorId last = 0;
    for (std::uint64_t i = 0; i < n; ++i) {
        std::uint64_t actor = 0, counter = 0;
        if (!r.varint(actor) || !r.varint(counter)) return false;
        if (counter == 0 || counter >= k_max_counter || (i > 0 && actor <= last)) return false;  // canonical form only
        out.raise(actor, counter);
        last = actor;
    }
    return true;
}

void encode(const SiblingSet& set, std::string& out) {
    out.push_back(static_cast<char>(k_format_version));
    encode_vv_body(set.context, out);
    put_varint(out, set.siblings.size());
    for (const auto& s : set.siblings) {
        const bool typed = !s.tombstone && !s.content_type.empty();
        out.push_back(static_cast<char>((s.tombstone ? k_tombstone_flag : 0) | (typed ? k_content_type_flag : 0)));
        put_varint(out, s.dot.actor);
        put_varint(out, s.dot.counter);
        put_signed(out, s.written.us);
        put_signed(out, s.expires.us);
        put_varint(out, s.value.size());
        out.append(s.value);
        if (typed) put_string(out, s.content_type);
    }
}

std::error_code decode(std::string_view bytes, SiblingSet& out) {
    Reader r(bytes);
    std::uint8_t version = 0;
    if (!r.byte(version) || version != k_format_version) return errc::corrupt;
    out = SiblingSet{};
    if (!decode_vv_body(r, out.context)) return errc::corrupt;
    std::uint64_t n = 0;
    if (!r.varint(n) || n > k_max_stored_siblings || n * 6 > r.left()) return errc::corrupt;
    out.siblings.resize(n);
    for (std::uint64_t i = 0; i < n; ++i) {
        if (!decode_sibling(r, out.siblings[i])) return errc::corrupt;
        if (i > 0 && !(out.siblings[i - 1].dot < out.siblings[i].dot)) return errc::corrupt;
        if (!out.context.covers(out.siblings[i].dot)) return errc::corrupt;
    }
    return r.done() ? std::error_code{} : make_error_code(errc::corrupt);
}

namespace {
constexpr std::uint64_t k_stored_seed = 0x5707edULL;
}

void encode_stored(const SiblingSet& set, std::string& out) {
    const std::size_t start = out.size();
    encode(set, out);
    std::uint64_t h = hash_bytes(std::string_view(out).substr(start), k_stored_seed);
    for (int i = 0; i < 8; ++i, h >>= 8) out.push_back(static_cast<char>(h & 0xff));
}

std::error_code decode_stored(std::string_view bytes, SiblingSet& out) {
    if (bytes.size() < 9) return errc::corrupt;
    const std::string_view body = bytes.substr(0, bytes.size() - 8);
    if (hash_bytes(body, k_stored_seed) != stored_digest(bytes)) return errc::corrupt;
    return decode(body, out);
}

void encode(const VersionVector& vv, std::string& out) {
    encode_vv_body(vv, out);
}

std::error_code decode(std::string_view bytes, VersionVector& out) {
    Reader r(bytes);
    if (!decode_vv_body(r, out) || !r.done()) return errc::bad_context;
    return {};
}

namespace {
constexpr char k_b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int b64_value(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-') return 62;
    if (c == '_') return 63;
    return -1;
}
}  // namespace

std::string context_to_token(const VersionVector& vv) {
    if (vv.empty()) return {};
    std::string raw;
    encode(vv, raw);
    std::string out;
    out.reserve((raw.size() + 2) / 3 * 4);
    std::uint32_t acc = 0;
    int bits = 0;
    for (unsigned char c : raw) {
        acc = (acc << 8) | c;
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out.push_back(k_b64[(acc >> bits) & 0x3f]);
        }
    }
    if (bits > 0) out.push_back(k_b64[(acc << (6 - bits)) & 0x3f]);
    return out;
}

std::error_code context_from_token(std::string_view token, VersionVector& out) {
    out = VersionVector{};
    if (token.empty()) return {};
    // An entry is two varints of at most 10 bytes each, 4/3 longer in base64.
    if (token.size() > k_max_client_context_entries * 28 + 8) return errc::bad_context;
    std::string raw;
    raw.reserve(token.size() * 3 / 4);
    std::uint32_t acc = 0;
    int bits = 0;
    for (char c : token) {
        int v = b64_value(c);
        if (v < 0) return errc::bad_context;
        acc = (acc << 6) | static_cast<std::uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            raw.push_back(static_cast<char>((acc >> bits) & 0xff));
        }
    }
    if (auto ec = decode(raw, out)) return ec;
    if (out.entries().size() > k_max_client_context_entries) return errc::bad_context;
    return {};
}

std::uint64_t digest(const SiblingSet& set) {
    std::string bytes;
    encode(set, bytes);
    return hash_bytes(bytes, k_stored_seed);
}

std::uint64_t stored_digest(std::string_view stored) {
    SHOAL_ASSERT(stored.size() >= 9);
    std::uint64_t h = 0;
    const std::string_view sum = stored.substr(stored.size() - 8);  // little-endian, as encode_stored wrote it
    for (int i = 7; i >= 0; --i) h = (h << 8) | static_cast<std::uint8_t>(sum[static_cast<std::size_t>(i)]);
    return h;
}

}  // namespace shoal::replica
