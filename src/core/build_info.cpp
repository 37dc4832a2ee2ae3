#include "core/build_info.h"

#include <string>

#ifndef SHOAL_VERSION
#define SHOAL_VERSION "unknown"
#endif
#ifndef SHOAL_REVISION
#define SHOAL_REVISION "unknown"
#endif

namespace shoal {

std::string_view build_version() {
    return SHOAL_VERSION;
}

std::string_view build_revision() {
    return SHOAL_REVISION;
}

std::string version_line(std::string_view program) {
    return std::string(program) + " " + SHOAL_VERSION + " (revision " + SHOAL_REVISION + ")";
}

}  // namespace shoal
