// Always-on assertions. They stay in release builds: each guards an invariant whose
// violation means a bug, and a crash with a message beats silent corruption.
#pragma once

namespace shoal::detail {
[[noreturn]] void assert_failed(const char* expr, const char* file, int line, const char* msg);
}

#define SHOAL_ASSERT(cond)                                                      \
    do {                                                                        \
        if (!(cond)) [[unlikely]]                                               \
            ::shoal::detail::assert_failed(#cond, __FILE__, __LINE__, nullptr); \
    } while (0)

#define SHOAL_ASSERT_MSG(cond, msg)                                           \
    do {                                                                      \
        if (!(cond)) [[unlikely]]                                             \
            ::shoal::detail::assert_failed(#cond, __FILE__, __LINE__, (msg)); \
    } while (0)

#define SHOAL_UNREACHABLE(msg) ::shoal::detail::assert_failed("unreachable", __FILE__, __LINE__, (msg))
