// What this build is: the project's version and the source revision it was configured
// from (CMake sets both on build_info.cpp alone, so a new revision recompiles one file).
#pragma once

#include <string_view>

namespace shoal {

std::string_view build_version();   // "0.1.0"
std::string_view build_revision();  // a short git revision, or "unknown"
// "NAME VERSION (revision REV)": what --version prints.
std::string version_line(std::string_view program);

}  // namespace shoal
