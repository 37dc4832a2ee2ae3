#include "resp/protocol.h"

#include <charconv>

namespace shoal::resp {

namespace {

// A line ending in CRLF starting at `pos`: its text without the CRLF, and where the
// next begins. False when no full line is there yet.
bool line_at(std::string_view in, std::size_t pos, std::string_view& line, std::size_t& next) {
    const std::size_t end = in.find("\r\n", pos);
    if (end == std::string_view::npos) return false;
    line = in.substr(pos, end - pos);
    next = end + 2;
    return true;
}

Parsed parse_inline(std::string_view in, const ParseLimits& limits, std::vector<std::string>& args,
                    std::size_t& consumed, std::string& error) {
    const std::size_t end = in.find('\n');
    if (end == std::string_view::npos) {
        if (in.size() > limits.max_inline_bytes) return error = "inline command too long", Parsed::bad;
        return Parsed::incomplete;
    }
    if (end > limits.max_inline_bytes) return error = "inline command too long", Parsed::bad;
    std::string_view line = in.substr(0, end);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    args.clear();
    std::size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
        const std::size_t start = i;
        while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
        if (i > start) {
            if (args.size() == limits.max_args) return error = "too many arguments", Parsed::bad;
            args.emplace_back(line.substr(start, i - start));
        }
    }
    consumed = end + 1;
    return Parsed::command;
}

}  // namespace

bool to_int64(std::string_view text, std::int64_t& out) {
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return !text.empty() && ec == std::errc{} && end == text.data() + text.size();
}

Parsed parse_command(std::string_view in, const ParseLimits& limits, std::vector<std::string>& args,
                     std::size_t& consumed, std::string& error) {
    if (in.empty()) return Parsed::incomplete;
    if (in.front() != '*') return parse_inline(in, limits, args, consumed, error);
    std::string_view line;
    std::size_t pos = 0;
    if (!line_at(in, 1, line, pos)) {
        if (in.size() > 32) return error = "bad array header", Parsed::bad;
        return Parsed::incomplete;
    }
    std::int64_t count = 0;
    if (!to_int64(line, count) || count < 0) return error = "bad array length", Parsed::bad;
    if (static_cast<std::uint64_t>(count) > limits.max_args) return error = "too many arguments", Parsed::bad;
    // First the headers, to know the command is whole (and not too large); then the copies.
    std::vector<std::pair<std::size_t, std::size_t>> spans;  // (offset, length) of each argument
    spans.reserve(static_cast<std::size_t>(count));
    for (std::int64_t i = 0; i < count; ++i) {
        if (pos >= in.size()) return Parsed::incomplete;
        if (in[pos] != '$') return error = "expected a bulk string", Parsed::bad;
        std::size_t after = 0;
        if (!line_at(in, pos + 1, line, after)) {
            if (in.size() - pos > 32) return error = "bad bulk header", Parsed::bad;
            return Parsed::incomplete;
        }
        std::int64_t len = 0;
        if (!to_int64(line, len) || len < 0) return error = "bad bulk length", Parsed::bad;
        if (static_cast<std::uint64_t>(len) > limits.max_bulk_bytes)
            return error = "argument of " + std::to_string(len) + " bytes is over the limit of " +
                           std::to_string(limits.max_bulk_bytes),
                   Parsed::bad;
        const auto n = static_cast<std::size_t>(len);
        if (after + n + 2 > limits.max_command_bytes)
            return error = "command over the limit of " + std::to_string(limits.max_command_bytes) + " bytes",
                   Parsed::bad;
        if (in.size() - after < n + 2) return Parsed::incomplete;
        if (in.substr(after + n, 2) != "\r\n") return error = "bulk string without its CRLF", Parsed::bad;
        spans.emplace_back(after, n);
        pos = after + n + 2;
    }
    args.clear();
    for (const auto& [offset, length] : spans) args.emplace_back(in.substr(offset, length));
    consumed = pos;
    return Parsed::command;
}

void put_simple(std::string& out, std::string_view text) {
    out += '+';
    out += text;
    out += "\r\n";
}

void put_error(std::string& out, std::string_view text) {
    out += '-';
    for (char c : text) out += (c == '\r' || c == '\n') ? ' ' : c;
    out += "\r\n";
}

void put_integer(std::string& out, std::int64_t v) {
    out += ':';
    out += std::to_string(v);
    out += "\r\n";
}

void put_bulk(std::string& out, std::string_view bytes) {
    out += '$';
    out += std::to_string(bytes.size());
    out += "\r\n";
    out += bytes;
    out += "\r\n";
}

void put_null(std::string& out, bool resp3) {
    out += resp3 ? "_\r\n" : "$-1\r\n";
}

void put_array(std::string& out, std::size_t n) {
    out += '*';
    out += std::to_string(n);
    out += "\r\n";
}

void put_map(std::string& out, std::size_t n, bool resp3) {
    out += resp3 ? '%' : '*';
    out += std::to_string(resp3 ? n : 2 * n);
    out += "\r\n";
}

}  // namespace shoal::resp
