// Fuzz target: the frame reader and every message decoder behind it (peer, client
// request and reply, gossip with its view, hello). Whatever the bytes, the reader
// ends in a frame, a need for more bytes or an error: never a crash or an allocation
// past the frame bound. The input is fed in two pieces, split where its first byte says.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "wire/wire.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::string_view all(reinterpret_cast<const char*>(data + 1), size - 1);
    const std::size_t split = data[0] % (all.size() + 1);
    shoal::wire::FrameReader reader(64 * 1024);  // a small bound, reached by small inputs
    shoal::wire::Frame frame;
    std::error_code why;
    for (const std::string_view piece : {all.substr(0, split), all.substr(split)}) {
        reader.feed(piece);
        for (;;) {
            const auto status = reader.next(frame, why);
            if (status != shoal::wire::FrameReader::Status::frame) break;
        }
    }
    return 0;
}
