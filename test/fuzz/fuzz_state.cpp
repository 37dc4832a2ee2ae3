// Fuzz target: the stored form of a key's state (checksummed) and the bare encoding.
// A state that decodes encodes back to the same bytes' meaning: decoding its encoding
// gives it again.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "replica/codec.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    shoal::replica::SiblingSet state;
    if (!shoal::replica::decode(bytes, state)) {
        std::string again;
        shoal::replica::encode(state, again);
        shoal::replica::SiblingSet back;
        if (shoal::replica::decode(again, back) || !(back == state)) std::abort();
    }
    shoal::replica::SiblingSet stored;
    (void)shoal::replica::decode_stored(bytes, stored);
    return 0;
}
