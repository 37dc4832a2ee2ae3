// Compact binary encoding of versions, for the store and for opaque client
// contexts. Decoding is bounded: every length is checked against the bytes left
// and against the limits, and a bad input is errc::corrupt (stored bytes) or
// errc::bad_context (a client's context), never a crash or a huge allocation.
#pragma once

#include <string>
#include <string_view>
#include <system_error>

#include "core/byte_codec.h"
#include "core/limits.h"
#include "replica/version.h"

namespace shoal::replica {

// Contexts decode up to k_max_context_entries (core/limits.h); counters stay below
// k_max_counter.

// Appends the encoding of a sibling set to out.
void encode(const SiblingSet& set, std::string& out);
std::error_code decode(std::string_view bytes, SiblingSet& out);

// The stored form: the encoding followed by an 8-byte xxHash of it, so that a value
// damaged on disk is detected on read (errc::corrupt) instead of served.
void encode_stored(const SiblingSet& set, std::string& out);
std::error_code decode_stored(std::string_view bytes, SiblingSet& out);

void encode(const VersionVector& vv, std::string& out);
std::error_code decode(std::string_view bytes, VersionVector& out);
// A version vector inside a larger encoding (the data types' states and updates): its
// entries appended to `out`; read back from `r`, canonical only, at most `max_entries`.
void encode_vv_body(const VersionVector& vv, std::string& out);
bool decode_vv_body(ByteReader& r, VersionVector& out, std::size_t max_entries = k_max_context_entries);

// The causal context as clients carry it: URL- and header-safe base64 of the
// encoded version vector ("" for an empty context). A client's context names at most
// k_max_client_context_entries actors (else errc::bad_context).
std::string context_to_token(const VersionVector& vv);
std::error_code context_from_token(std::string_view token, VersionVector& out);

// A 64-bit digest of a sibling set (xxHash over its encoding): equal states have
// equal digests. Used by read repair and anti-entropy. It is the checksum the stored
// form carries, so a state just encoded for the store, or read back from it, has its
// digest without a second encoding: stored_digest.
std::uint64_t digest(const SiblingSet& set);
// The digest of the state in `stored`: bytes that encode_stored made, or that
// decode_stored accepted (it checks this checksum, and takes canonical encodings only).
std::uint64_t stored_digest(std::string_view stored);

}  // namespace shoal::replica
