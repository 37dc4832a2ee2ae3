// A driver for the fuzz targets where libFuzzer is not linked in (GCC builds, CI):
//   fuzz_X CORPUS_DIR [RUNS] [SEED]
// Runs every file of the seed corpus through the target, then RUNS inputs made from
// them by seeded mutations (bit flips, byte changes, inserts, cuts, splices of two
// entries), each at most 64 KiB. A failing input aborts the process (the target's own
// checks, or a sanitizer's), and the driver prints the input's corpus origin and seed
// first so that the run can be replayed. It reports how many inputs it ran.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

struct Rng {  // splitmix64: enough for mutations, the same on every machine
    std::uint64_t s;
    std::uint64_t next() {
        std::uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }
    std::size_t below(std::size_t n) { return n == 0 ? 0 : static_cast<std::size_t>(next() % n); }
};

constexpr std::size_t k_max_input = 64 * 1024;

void run(const std::string& input) {
    LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(input.data()), input.size());
}

std::string mutate(Rng& rng, const std::vector<std::string>& corpus) {
    std::string s = corpus[rng.below(corpus.size())];
    const std::size_t rounds = 1 + rng.below(8);
    for (std::size_t r = 0; r < rounds; ++r) {
        switch (rng.below(6)) {
            case 0:
                if (!s.empty()) s[rng.below(s.size())] ^= static_cast<char>(1u << rng.below(8));
                break;
            case 1:
                if (!s.empty()) s[rng.below(s.size())] = static_cast<char>(rng.next());
                break;
            case 2: s.insert(rng.below(s.size() + 1), 1 + rng.below(8), static_cast<char>(rng.next())); break;
            case 3:
                if (!s.empty()) s.erase(rng.below(s.size()), 1 + rng.below(16));
                break;
            case 4: s.resize(rng.below(s.size() + 1)); break;
            default: {
                const std::string& other = corpus[rng.below(corpus.size())];
                s = s.substr(0, rng.below(s.size() + 1)) + other.substr(rng.below(other.size() + 1));
            }
        }
        // Interesting values for lengths and counts: all ones, zero, powers of two.
        if (!s.empty() && rng.below(16) == 0) {
            const char pick[] = {'\xff', '\0', '\x80', '\x7f', '\x40'};
            s[rng.below(s.size())] = pick[rng.below(std::size(pick))];
        }
        if (s.size() > k_max_input) s.resize(k_max_input);
    }
    return s;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s CORPUS_DIR [RUNS] [SEED]\n", argv[0]);
        return 2;
    }
    const long runs = argc > 2 ? std::atol(argv[2]) : 10000;
    const std::uint64_t seed = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 1;
    std::vector<std::string> corpus;
    for (const auto& entry : std::filesystem::directory_iterator(argv[1])) {
        if (!entry.is_regular_file()) continue;
        std::ifstream f(entry.path(), std::ios::binary);
        corpus.emplace_back(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
    }
    if (corpus.empty()) {
        std::fprintf(stderr, "%s: no seed inputs in %s\n", argv[0], argv[1]);
        return 2;
    }
    for (const auto& input : corpus) run(input);
    Rng rng{seed};
    for (long i = 0; i < runs; ++i) run(mutate(rng, corpus));
    std::printf("%s: %zu seed inputs and %ld mutations (seed %llu) ran clean\n", argv[0], corpus.size(), runs,
                static_cast<unsigned long long>(seed));
    return 0;
}
