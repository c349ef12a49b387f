// Runs a fuzz target without libFuzzer: every file of the seed corpus, then deterministic
// mutations of them (bit flips, truncation, inserted and repeated bytes, digits turned into huge
// numbers, lines duplicated or dropped). Used by ctest in every build, the sanitizer build
// included; a crash, a sanitizer report or a hang fails the test.
//
//   fuzz_<name> [--mutations N] CORPUS_DIR_OR_FILE...

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

std::string read_all(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void run(const std::string& input) {
    LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(input.data()), input.size());
}

std::string mutate(const std::string& seed, std::mt19937_64& rng) {
    std::string s = seed;
    const int steps = 1 + static_cast<int>(rng() % 4);
    for (int i = 0; i < steps; ++i) {
        const std::size_t pos = s.empty() ? 0 : rng() % s.size();
        switch (rng() % 8) {
            case 0:  // flip a bit
                if (!s.empty()) s[pos] = static_cast<char>(s[pos] ^ (1 << (rng() % 8)));
                break;
            case 1:  // truncate
                s.resize(pos);
                break;
            case 2:  // insert a random byte
                s.insert(s.begin() + static_cast<std::ptrdiff_t>(pos), static_cast<char>(rng() % 256));
                break;
            case 3:  // a huge number
                s.insert(pos, (rng() % 2) ? "99999999999999999999999" : "-18446744073709551617");
                break;
            case 4: {  // duplicate a line
                const auto start = s.rfind('\n', pos);
                const auto b = start == std::string::npos ? 0 : start + 1;
                const auto e = s.find('\n', pos);
                const std::string line = s.substr(b, e == std::string::npos ? std::string::npos : e - b + 1);
                s.insert(b, line);
                break;
            }
            case 5: {  // drop a line
                const auto e = s.find('\n', pos);
                s.erase(pos, e == std::string::npos ? std::string::npos : e - pos + 1);
                break;
            }
            case 6:  // remove whitespace, merging fields
                if (pos < s.size() && (s[pos] == ' ' || s[pos] == '\t')) s.erase(pos, 1);
                break;
            default:  // a NUL or a newline
                s.insert(s.begin() + static_cast<std::ptrdiff_t>(pos), (rng() % 2) ? '\0' : '\n');
                break;
        }
    }
    return s;
}

}  // namespace

int main(int argc, char** argv) {
    long mutations = 0;
    std::vector<std::string> seeds;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--mutations") == 0 && i + 1 < argc) {
            mutations = std::strtol(argv[++i], nullptr, 10);
            continue;
        }
        const std::filesystem::path p(argv[i]);
        if (std::filesystem::is_directory(p)) {
            std::vector<std::filesystem::path> files;
            for (const auto& e : std::filesystem::directory_iterator(p))
                if (e.is_regular_file()) files.push_back(e.path());
            std::sort(files.begin(), files.end());
            for (const auto& f : files) seeds.push_back(read_all(f));
        } else {
            seeds.push_back(read_all(p));
        }
    }
    if (seeds.empty()) {
        std::fprintf(stderr, "no seed inputs found; give a corpus directory\n");
        return 1;
    }
    run("");
    for (const auto& s : seeds) run(s);
    std::mt19937_64 rng(20261123);
    for (long i = 0; i < mutations; ++i) run(mutate(seeds[static_cast<std::size_t>(i) % seeds.size()], rng));
    std::printf("%zu seeds and %ld mutations ran without a fault\n", seeds.size(), mutations);
    return 0;
}
