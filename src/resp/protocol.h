// The Redis protocol (RESP2, and RESP3 after HELLO 3) as bytes: reading a client's
// commands and writing replies. Pure: no sockets. https://redis.io/docs/reference/protocol-spec/
//
// A command is an array of bulk strings ("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n") or an inline
// line of words ("GET k\r\n", what telnet sends). Everything is bounded: arguments per
// command, bytes per argument, bytes of an inline line; past a bound the parser says
// why and the connection is closed (the stream can no longer be trusted).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace shoal::resp {

struct ParseLimits {
    std::size_t max_args = 1024;              // MSET k1 v1 ... : 512 pairs
    std::size_t max_bulk_bytes = 1 << 20;     // one argument (a value): the node's max_value_bytes
    std::size_t max_command_bytes = 4 << 20;  // all of one command: a few values' worth
    std::size_t max_inline_bytes = 64 * 1024;
};

enum class Parsed { incomplete, command, bad };

// Parses the command at the front of `in`. `command`: `args` holds it (the name first)
// and `consumed` its bytes; `incomplete`: more bytes are needed; `bad`: `error` says
// why. An empty inline line parses as a command with no arguments (callers skip it).
// Nothing is copied until the command is complete, and a command is refused as soon as
// its headers promise more than max_command_bytes: a slow sender costs a scan of the
// headers, never a copy of what it sent so far.
Parsed parse_command(std::string_view in, const ParseLimits& limits, std::vector<std::string>& args,
                     std::size_t& consumed, std::string& error);

// A decimal 64-bit integer, all of `text` (array and bulk lengths; command arguments
// such as TTLs and increments). False for anything else or out of range.
bool to_int64(std::string_view text, std::int64_t& out);

// Reply encoders; `resp3` picks the RESP3 forms where they differ (null, maps).
void put_simple(std::string& out, std::string_view text);   // +OK
void put_error(std::string& out, std::string_view text);    // -ERR ... (the text names its kind)
void put_integer(std::string& out, std::int64_t v);         // :42
void put_bulk(std::string& out, std::string_view bytes);    // $3\r\nabc
void put_null(std::string& out, bool resp3);                // $-1 or _
void put_array(std::string& out, std::size_t n);            // *n; the n items follow
void put_map(std::string& out, std::size_t n, bool resp3);  // %n (RESP3) or *2n

}  // namespace shoal::resp
