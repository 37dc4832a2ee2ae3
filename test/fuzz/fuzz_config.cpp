// Fuzz target: shoald's options, as flags (`--key value` pairs, one per input line
// "key value"). Whatever they say, parsing returns options that hold together (the
// limits among them) or an error message.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "core/limits.h"
#include "server/config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view in(reinterpret_cast<const char*>(data), size);
    std::vector<std::string> args;
    while (!in.empty() && args.size() < 64) {
        const std::size_t nl = in.find('\n');
        const std::string_view line = in.substr(0, nl);
        in = nl == std::string_view::npos ? std::string_view() : in.substr(nl + 1);
        const std::size_t space = line.find(' ');
        args.push_back("--" + std::string(line.substr(0, space)));
        if (space != std::string_view::npos) args.emplace_back(line.substr(space + 1));
    }
    std::vector<char*> argv;
    for (auto& a : args) {
        if (a.rfind("--config", 0) == 0) a = "--id";  // no files from fuzz input
        argv.push_back(a.data());
    }
    shoal::server::NodeOptions options;
    bool help = false;
    const std::string err = shoal::server::parse_options(static_cast<int>(argv.size()), argv.data(), options, help);
    if (err.empty() && !help) {
        if (!shoal::limits_problem(options.limits).empty()) std::abort();
        if (options.r > options.n || options.w > options.n) std::abort();
    }
    return 0;
}
