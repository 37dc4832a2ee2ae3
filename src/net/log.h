// Structured log lines for the shell (never for the pure core): one line per event,
// "ts=... level=... msg=... key=value ...", to stderr. Thread-safe (one write per line).
#pragma once

#include <cstdint>
#include <exception>
#include <map>
#include <string>
#include <string_view>

namespace shoal::log {

// Rate limit per kind of line (its msg): a burst, then one line per refill interval.
// A line over the limit is dropped and counted; the next line of its kind that is
// written carries `suppressed=N`. A flood of bad frames or refused connections so
// costs a few lines a second, not a disk. Not thread-safe (write() guards it).
class Throttle {
public:
    explicit Throttle(std::uint32_t burst = 20, std::int64_t refill_ms = 1000);
    // Whether a line of `kind` at `now_ms` is written; if so, `dropped` is how many of
    // its kind were dropped since the last one written.
    bool admit(std::string_view kind, std::int64_t now_ms, std::uint64_t& dropped);
    std::uint64_t dropped_total() const { return dropped_total_; }

    // Kinds tracked one by one; lines of further kinds share one bucket.
    static constexpr std::size_t k_max_kinds = 256;

private:
    struct Bucket {
        std::int64_t credit_ms = 0;  // burst * refill_ms when full; a line costs refill_ms
        std::int64_t last_ms = 0;
        std::uint64_t dropped = 0;
    };
    std::uint32_t burst_;
    std::int64_t refill_ms_;
    std::map<std::string, Bucket, std::less<>> buckets_;
    std::uint64_t dropped_total_ = 0;
};

// Lines the process's throttle dropped so far (for /metrics).
std::uint64_t suppressed_total();

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

// An exception that ended a coroutine (a connection's session, an accept loop), as an
// error line naming `what`; nothing when `e` is empty.
void log_exception(std::string_view what, const std::exception_ptr& e);

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
