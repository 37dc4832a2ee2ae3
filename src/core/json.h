// One JSON string escaper for every JSON written by hand (/cluster, /health, the data
// types' values).
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

namespace shoal {

// A JSON string literal: quotes, backslashes and control characters escaped.
inline std::string json_string(std::string_view s) {
    std::string out = "\"";
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (u < 0x20) {
            char esc[8];
            std::snprintf(esc, sizeof esc, "\\u%04x", u);
            out += esc;
        } else {
            out += c;
        }
    }
    return out + "\"";
}

}  // namespace shoal
