// Structured log lines for the shell (never for the pure core): one line per event,
// "ts=... level=... msg=... key=value ...", to stderr. Thread-safe (one write per line).
#pragma once

#include <string>
#include <string_view>

namespace shoal::log {

enum class Level { debug = 0, info = 1, warn = 2, error = 3 };

// Lines below this level are dropped. Default: info.
void set_level(Level level);
bool parse_level(std::string_view text, Level& out);
bool enabled(Level level);

// A field value as the log writes it: in double quotes, at most 200 bytes, with
// quotes and backslashes escaped and non-printable bytes shown as '?'.
std::string quoted(std::string_view text);

// `fields` is the pre-formatted key=value tail, e.g. "peer=2 reason=\"bad frame\"".
void write(Level level, std::string_view msg, std::string_view fields = {});

inline void debug(std::string_view msg, std::string_view fields = {}) {
    write(Level::debug, msg, fields);
}
inline void info(std::string_view msg, std::string_view fields = {}) {
    write(Level::info, msg, fields);
}
inline void warn(std::string_view msg, std::string_view fields = {}) {
    write(Level::warn, msg, fields);
}
inline void error(std::string_view msg, std::string_view fields = {}) {
    write(Level::error, msg, fields);
}

}  // namespace shoal::log
