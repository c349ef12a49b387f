// Tail of a 1 GB log file (DESIGN §5, issue 5 item 8: at most 5 ms). The file is sparse: 1 GB
// of holes followed by a real tail of log lines, so the bench needs no gigabyte of disk while
// the reader still faces a 1 GB file and has to find the lines from its end.
#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <benchmark/benchmark.h>

#include "core/logtail.hpp"
#include "core/redact.hpp"

namespace {

namespace fs = std::filesystem;

// Creates <tmp>/boxmon-bench-*/big.log: `size` bytes of holes, then `lines` lines of about
// `width` bytes. Returns the path; the folder is removed by the caller.
fs::path make_log(std::uint64_t size, int lines, std::size_t width) {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base && *base ? base : "/tmp") + "/boxmon-bench-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) std::abort();
    const fs::path path = fs::path(pattern) / "big.log";
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || ::ftruncate(fd, static_cast<off_t>(size)) != 0) std::abort();
    ::close(fd);
    std::ofstream f(path, std::ios::app | std::ios::binary);
    f << '\n';
    for (int i = 0; i < lines; ++i) {
        std::string line = "2026-11-23T12:00:00Z nginx[123]: GET /api/v1/items?id=" + std::to_string(i) +
                           " status=200 token=abcdef0123456789 ";
        if (line.size() < width) line.append(width - line.size(), 'x');
        f << line << '\n';
    }
    return path;
}

void run_tail(benchmark::State& state, int lines, std::size_t width) {
    const fs::path path = make_log(1ull << 30, 1000, width);
    boxmon::Redactor redactor;
    boxmon::TailOptions options;
    options.lines = lines;
    for (auto _ : state) {
        auto tail = boxmon::read_file_tail(path, options, redactor);
        if (tail.lines.size() != static_cast<std::size_t>(lines)) state.SkipWithError("short tail");
        benchmark::DoNotOptimize(tail);
    }
    fs::remove_all(path.parent_path());
}

// The default: 20 lines of ~200 bytes from the end of a 1 GB file.
void BM_TailOf1GBLog_20Lines(benchmark::State& state) { run_tail(state, 20, 200); }
BENCHMARK(BM_TailOf1GBLog_20Lines)->Unit(benchmark::kMicrosecond);

// The worst a configuration allows per log: 1000 lines of 1 KiB (1 MiB read cap).
void BM_TailOf1GBLog_1000Lines(benchmark::State& state) { run_tail(state, 1000, 1000); }
BENCHMARK(BM_TailOf1GBLog_1000Lines)->Unit(benchmark::kMicrosecond);

// A 1 GB log with no line break at all (one huge line): read stops at read_max_bytes.
void BM_TailOf1GBHolesOnly(benchmark::State& state) {
    const fs::path path = make_log(1ull << 30, 0, 0);
    boxmon::Redactor redactor;
    boxmon::TailOptions options;
    for (auto _ : state) {
        auto tail = boxmon::read_file_tail(path, options, redactor);
        benchmark::DoNotOptimize(tail);
    }
    fs::remove_all(path.parent_path());
}
BENCHMARK(BM_TailOf1GBHolesOnly)->Unit(benchmark::kMicrosecond);

// What one line costs the Redactor (most of a long tail's time): a 1 KiB log line.
void BM_RedactOneKiBLine(benchmark::State& state) {
    boxmon::Redactor redactor;
    std::string line = "2026-11-23T12:00:00Z nginx[123]: GET /api/v1/items?id=1 status=200 token=abcdef0123456789 ";
    line.append(1000 - line.size(), 'x');
    for (auto _ : state) benchmark::DoNotOptimize(redactor.redact(line));
}
BENCHMARK(BM_RedactOneKiBLine)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
