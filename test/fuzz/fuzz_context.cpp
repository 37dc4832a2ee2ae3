// Fuzz target: a client's causal context token (X-Shoal-Context, or the native
// protocol's). One that decodes is within the client limits and round-trips.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/limits.h"
#include "replica/codec.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view token(reinterpret_cast<const char*>(data), size);
    shoal::replica::VersionVector vv;
    if (shoal::replica::context_from_token(token, vv)) return 0;
    if (vv.entries().size() > shoal::k_max_client_context_entries) std::abort();
    for (const auto& [actor, counter] : vv.entries()) {
        if (counter == 0 || counter >= shoal::k_max_counter) std::abort();
    }
    shoal::replica::VersionVector back;
    if (shoal::replica::context_from_token(shoal::replica::context_to_token(vv), back) || !(back == vv)) std::abort();
    return 0;
}
