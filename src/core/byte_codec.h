// Little helpers for Shoal's compact binary encodings (stored versions, contexts,
// the gossiped cluster view): LEB128 varints, zigzag signed varints, length-prefixed
// strings, and a bounds-checked reader that never reads past its input; and
// fixed-width big-endian integers (store keys and small records, where byte order
// must equal numeric order).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace shoal {

inline void put_varint(std::string& out, std::uint64_t v) {
    while (v >= 0x80) {
        out.push_back(static_cast<char>(v | 0x80));
        v >>= 7;
    }
    out.push_back(static_cast<char>(v));
}

inline void put_signed(std::string& out, std::int64_t v) {
    put_varint(out, (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63));
}

inline void put_string(std::string& out, std::string_view s) {
    put_varint(out, s.size());
    out.append(s);
}

// Appends the low `bytes` bytes of v, most significant first.
inline void put_be(std::string& out, std::uint64_t v, std::size_t bytes) {
    for (std::size_t i = bytes; i-- > 0;) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

// The big-endian integer in the first `bytes` bytes of `in` (the caller checks the size).
inline std::uint64_t get_be(std::string_view in, std::size_t bytes) {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < bytes; ++i) v = (v << 8) | static_cast<unsigned char>(in[i]);
    return v;
}

// Every read returns false (and the decode should fail) on truncated or
// out-of-range input.
class ByteReader {
public:
    explicit ByteReader(std::string_view bytes) : bytes_(bytes) {}

    bool varint(std::uint64_t& v) {
        v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (pos_ >= bytes_.size()) return false;
            const auto byte = static_cast<std::uint8_t>(bytes_[pos_++]);
            if (shift == 63 && byte > 1) return false;  // would overflow 64 bits
            v |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
            if ((byte & 0x80) == 0) return true;
        }
        return false;
    }
    bool signed_varint(std::int64_t& v) {
        std::uint64_t u = 0;
        if (!varint(u)) return false;
        v = static_cast<std::int64_t>((u >> 1) ^ (~(u & 1) + 1));
        return true;
    }
    bool u32(std::uint32_t& v) {
        std::uint64_t wide = 0;
        if (!varint(wide) || wide > UINT32_MAX) return false;
        v = static_cast<std::uint32_t>(wide);
        return true;
    }
    bool byte(std::uint8_t& b) {
        if (pos_ >= bytes_.size()) return false;
        b = static_cast<std::uint8_t>(bytes_[pos_++]);
        return true;
    }
    // A length-prefixed string of at most `limit` bytes.
    bool string(std::string& out, std::size_t limit = SIZE_MAX) {
        std::uint64_t n = 0;
        if (!varint(n) || n > limit || n > bytes_.size() - pos_) return false;
        out.assign(bytes_.data() + pos_, n);
        pos_ += n;
        return true;
    }
    bool done() const { return pos_ == bytes_.size(); }
    std::size_t left() const { return bytes_.size() - pos_; }

private:
    std::string_view bytes_;
    std::size_t pos_ = 0;
};

}  // namespace shoal
