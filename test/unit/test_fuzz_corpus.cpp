// The fuzz targets' seed corpus (test/fuzz/corpus/): written by the hidden test below
// (`unit_tests "[.corpus]"`, after a wire change), and checked by the other: every
// frame seed still decodes, so the fuzzers start from inputs that reach deep.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "replica/codec.h"
#include "wire_test_util.h"

namespace fs = std::filesystem;
using namespace wire_test;

namespace {

const fs::path k_corpus = fs::path(SHOAL_SOURCE_DIR) / "test" / "fuzz" / "corpus";

void write_seed(const std::string& target, const std::string& name, const std::string& bytes) {
    fs::create_directories(k_corpus / target);
    std::ofstream(k_corpus / target / name, std::ios::binary) << bytes;
}

std::string read_file(const fs::path& p) {
    std::ifstream f(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

}  // namespace

TEST_CASE("fuzz seed corpus: write it", "[.corpus]") {
    const auto frames = sample_frames();
    for (std::size_t i = 0; i < frames.size(); ++i) {
        std::string bytes(1, static_cast<char>(i * 37));  // where fuzz_frame splits the input
        encode(frames[i], bytes);
        write_seed("frame", "frame-" + std::to_string(i), bytes);
    }
    std::string state, stored;
    shoal::replica::encode(sample_state(), state);
    shoal::replica::encode_stored(sample_state(), stored);
    write_seed("state", "state", state);
    write_seed("state", "stored", stored);
    write_seed("state", "empty", std::string("\x01\x00\x00", 3));
    write_seed("context", "three", shoal::replica::context_to_token(make_vv({{a1, 3}, {a2, 1}, {a3, 1u << 30}})));
    write_seed("context", "one", shoal::replica::context_to_token(make_vv({{a1, 1}})));
    const std::string token = shoal::replica::context_to_token(make_vv({{a1, 2}}));
    write_seed("http_route", "put", "PUT\n/kv/cart%2Falice?w=2&ttl_s=60\n" + token + "\napple");
    write_seed("http_route", "get", "GET\n/kv/cart/alice?r=3&pr=1&timeout_ms=500\n\n");
    write_seed("http_route", "delete", "DELETE\n/kv/k\n" + token + "\n");
    write_seed("http_route", "join", "POST\n/cluster/join?seed=127.0.0.1:7101&seed=10.0.0.2:7101\n\n");
    write_seed("http_route", "leave", "POST\n/cluster/leave?node=3\n\n");
    write_seed("http_route", "metrics", "GET\n/metrics\n\n");
    write_seed("config", "full",
               "id 3\ndata_dir /tmp/shoal-fuzz\nn 3\nr 2\nw 2\nsync batch\nmax_value_bytes 4096\n"
               "max_state_bytes 65536\nmax_siblings 8\nseeds 127.0.0.1:7101,127.0.0.1:7111\nconflict lww");
    write_seed("config", "small", "id 1\ndata_dir d\nmax_key_bytes 16\nread_cache_mb 0\ncompression on");
}

TEST_CASE("fuzz seed corpus: every frame seed decodes as a frame", "[wire]") {
    REQUIRE(fs::is_directory(k_corpus / "frame"));
    std::size_t seeds = 0;
    for (const auto& entry : fs::directory_iterator(k_corpus / "frame")) {
        const std::string bytes = read_file(entry.path());
        REQUIRE(bytes.size() > 1);
        shoal::wire::FrameReader reader;
        reader.feed(std::string_view(bytes).substr(1));
        Frame f;
        std::error_code why;
        INFO(entry.path().filename().string());
        CHECK(reader.next(f, why) == FrameReader::Status::frame);
        ++seeds;
    }
    CHECK(seeds == sample_frames().size());
}
