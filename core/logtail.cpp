// Log tails (see logtail.hpp). A file is read backwards from its end in blocks until enough
// lines are found or read_max_bytes is spent, so a 20 GB log costs what a small one does
// (RELIABILITY L3). Only regular files are read, opened non-blocking and checked with fstat
// before the first read, so a FIFO or a device never blocks the caller (L5). A file that
// shrinks while it is read (copytruncate) is read again from its new end (L4).
#include "core/logtail.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>

#include <fmt/format.h>

#include "core/redact.hpp"
#include "core/subprocess.hpp"
#include "core/text.hpp"

namespace boxmon {
namespace {

constexpr std::size_t k_block_bytes = 64 * 1024;
constexpr std::string_view k_truncated_marker = "…[truncated]";
// How often a file that keeps shrinking under us is re-read before we give up on it.
constexpr int k_shrink_retries = 3;

class FdGuard {
public:
    explicit FdGuard(int fd) : m_fd(fd) {}
    ~FdGuard() {
        if (m_fd >= 0) ::close(m_fd);
    }
    FdGuard(const FdGuard&) = delete;
    FdGuard& operator=(const FdGuard&) = delete;
    int get() const { return m_fd; }

private:
    int m_fd;
};

std::string describe_type(mode_t mode) {
    if (S_ISDIR(mode)) return "directory";
    if (S_ISFIFO(mode)) return "FIFO";
    if (S_ISCHR(mode)) return "character device";
    if (S_ISBLK(mode)) return "block device";
    if (S_ISSOCK(mode)) return "socket";
    if (S_ISLNK(mode)) return "symbolic link";
    return "unknown type";
}

std::string errno_text(int err) { return std::system_category().message(err); }

// One raw line made presentable: cut to the cap (before anything costly runs on it, X11),
// invalid UTF-8 and NUL bytes replaced (B6), secrets redacted.
std::string clean_line(std::string_view raw, const TailOptions& options, const Redactor& redactor) {
    const std::size_t cap = std::max<std::size_t>(options.line_max_bytes, k_truncated_marker.size() + 1);
    const bool cut = raw.size() > cap;
    std::string line(cut ? raw.substr(0, cap) : raw);
    for (char& c : line)
        if (c == '\0') c = '\xFF';  // becomes U+FFFD below, like any invalid byte
    line = sanitize_utf8(line);
    // sanitize_utf8 may grow the text (one bad byte becomes three); the cap holds afterwards.
    if (cut || line.size() > cap) {
        line = truncate_utf8(line, cap - k_truncated_marker.size(), "");
        line += k_truncated_marker;
    }
    return redactor.redact(line);
}

// Splits `text` into lines on \n, \r\n and a lone \r. A trailing terminator ends the last line
// rather than starting an empty one.
std::vector<std::string_view> split_lines(std::string_view text) {
    std::vector<std::string_view> lines;
    std::size_t start = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c != '\n' && c != '\r') continue;
        lines.push_back(text.substr(start, i - start));
        if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
        start = i + 1;
    }
    if (start < text.size()) lines.push_back(text.substr(start));
    return lines;
}

// Line breaks in `text`, counting \r\n once.
std::size_t count_breaks(std::string_view text) {
    std::size_t n = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\n') ++n;
        else if (text[i] == '\r' && (i + 1 == text.size() || text[i + 1] != '\n')) ++n;
    }
    return n;
}

struct RawTail {
    std::vector<std::string> lines;  // cleaned, oldest first
    std::string note;                // why empty or partial
    bool usable = false;             // the file was read (it may have no lines)
};

// The last `want` lines of one regular file, or a note saying why not.
RawTail tail_of_file(const std::filesystem::path& path, int want, const TailOptions& options,
                     const Redactor& redactor) {
    RawTail out;
    struct stat st {};
    // stat (following symlinks) first: a FIFO or device is refused without opening it.
    if (::stat(path.c_str(), &st) != 0) {
        const int err = errno;
        out.note = err == ENOENT ? fmt::format("file not found: {}", path.string())
                                 : fmt::format("cannot read {}: {}", path.string(), errno_text(err));
        return out;
    }
    if (!S_ISREG(st.st_mode)) {
        out.note = fmt::format("not a regular file: {} ({})", path.string(), describe_type(st.st_mode));
        return out;
    }
    FdGuard fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
    if (fd.get() < 0) {
        out.note = fmt::format("cannot open {}: {}", path.string(), errno_text(errno));
        return out;
    }
    // Checked again on the open descriptor: the path may have been replaced in between.
    if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
        out.note = fmt::format("not a regular file: {} ({})", path.string(), describe_type(st.st_mode));
        return out;
    }
    if (want <= 0) {
        out.usable = true;
        return out;
    }

    // Filled from its end: the bytes [offset, end) of the file are buffer[buffer.size() - filled, ..).
    std::string buffer;
    std::size_t filled = 0;
    std::uint64_t offset = 0;
    bool complete = false;  // the buffer holds enough lines or reaches the file's start
    for (int attempt = 0; attempt <= k_shrink_retries && !complete; ++attempt) {
        if (attempt > 0 && ::fstat(fd.get(), &st) != 0) break;
        const auto end = static_cast<std::uint64_t>(st.st_size);
        buffer.assign(static_cast<std::size_t>(std::min<std::uint64_t>(end, options.read_max_bytes)), '\0');
        filled = 0;
        offset = end;
        std::size_t breaks = 0;
        bool shrank = false;
        while (offset > 0 && filled < buffer.size()) {
            const std::size_t block = std::min(k_block_bytes, buffer.size() - filled);
            char* dest = buffer.data() + buffer.size() - filled - block;
            std::size_t got = 0;
            while (got < block) {
                const ssize_t n = ::pread(fd.get(), dest + got, block - got, static_cast<off_t>(offset - block + got));
                if (n < 0 && errno == EINTR) continue;
                if (n <= 0) break;
                got += static_cast<std::size_t>(n);
            }
            if (got < block) {  // the file shrank under us (truncation): start over
                shrank = true;
                break;
            }
            breaks += count_breaks(std::string_view(dest, block));
            // A \r\n split across two blocks was counted twice.
            if (filled > 0 && dest[block - 1] == '\r' && dest[block] == '\n') --breaks;
            offset -= block;
            filled += block;
            // One more break than lines wanted: the first line in the buffer may be partial.
            if (breaks > static_cast<std::size_t>(want)) break;
        }
        if (!shrank) complete = true;
    }
    buffer.erase(0, buffer.size() - filled);
    if (!complete) {
        out.note = fmt::format("{} kept changing while it was read; try again", path.string());
        return out;
    }
    out.usable = true;

    std::string_view text = buffer;
    std::vector<std::string_view> lines = split_lines(text);
    // A buffer that does not start at the file's start begins inside a line: drop that part,
    // unless it is all there is (one line longer than read_max_bytes), which is shown cut.
    bool partial_only = false;
    if (offset > 0 && !lines.empty()) {
        if (lines.size() > 1)
            lines.erase(lines.begin());
        else
            partial_only = true;
    }
    const std::size_t keep = std::min(lines.size(), static_cast<std::size_t>(want));
    for (std::size_t i = lines.size() - keep; i < lines.size(); ++i) {
        std::string line = clean_line(lines[i], options, redactor);
        if (partial_only) line = "…" + line;
        out.lines.push_back(std::move(line));
    }
    if (partial_only)
        out.note = fmt::format("the last line is longer than {} bytes; showing its end", options.read_max_bytes);
    return out;
}

LogTail journal_tail(const LogSourceConfig& log, int want, const TailOptions& options, const Redactor& redactor) {
    LogTail tail;
    tail.name = log.name;
    tail.source = "journal:" + log.journal_unit;
    if (want <= 0) return tail;
    SubprocessOptions sub;
    sub.timeout = options.timeout;
    sub.output_max_bytes = options.read_max_bytes;
    auto result = run_subprocess({"journalctl", "-u", log.journal_unit, "-n", std::to_string(want), "--no-pager",
                                  "-o", "short-iso"},
                                 sub);
    if (!result) {
        tail.note = result.error().kind == ErrorKind::not_found
                        ? std::string("journalctl not found; the journal of this unit cannot be shown")
                        : fmt::format("journalctl failed: {}", result.error().message);
        return tail;
    }
    if (result->timed_out) {
        tail.note = fmt::format("journalctl did not answer within {} ms", options.timeout.count());
        return tail;
    }
    if (result->exit_code != 0) {
        std::string why = result->err.substr(0, result->err.find('\n'));
        tail.note = fmt::format("journalctl exited with {}: {}", result->exit_code,
                                clean_line(why, options, redactor));
        return tail;
    }
    for (std::string_view line : split_lines(result->out)) {
        if (line.starts_with("-- ")) continue;  // "-- No entries --", "-- Boot ... --"
        tail.lines.push_back(clean_line(line, options, redactor));
    }
    if (tail.lines.size() > static_cast<std::size_t>(want))
        tail.lines.erase(tail.lines.begin(), tail.lines.end() - want);
    if (tail.lines.empty()) tail.note = "no journal entries for this unit";
    return tail;
}

LogTail file_tail(const std::filesystem::path& path, std::string name, int want, const TailOptions& options,
                  const Redactor& redactor) {
    LogTail tail;
    tail.name = std::move(name);
    tail.source = path.string();
    RawTail current = tail_of_file(path, want, options, redactor);
    tail.note = current.note;
    tail.lines = std::move(current.lines);
    // Rotated (renamed and recreated, or copytruncated): fill from <file>.1, oldest first.
    const auto have = static_cast<int>(tail.lines.size());
    if (options.from_rotated && current.usable && have < want) {
        std::filesystem::path rotated = path;
        rotated += ".1";
        struct stat st {};
        if (::stat(rotated.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
            RawTail older = tail_of_file(rotated, want - have, options, redactor);
            if (!older.lines.empty()) {
                older.lines.insert(older.lines.end(), std::make_move_iterator(tail.lines.begin()),
                                   std::make_move_iterator(tail.lines.end()));
                tail.lines = std::move(older.lines);
                const std::string from = fmt::format("(from rotated file) the first {} lines are from {}",
                                                     static_cast<int>(tail.lines.size()) - have, rotated.string());
                tail.note = tail.note.empty() ? from : tail.note + "; " + from;
            }
        }
    }
    if (tail.lines.empty() && tail.note.empty() && want > 0) tail.note = "the log is empty";
    return tail;
}

}  // namespace

LogTail read_file_tail(const std::filesystem::path& path, const TailOptions& options, const Redactor& redactor) {
    return file_tail(path, path.filename().string(), options.lines, options, redactor);
}

LogTail read_log_tail(const LogSourceConfig& log, const TailOptions& options, const Redactor& redactor) {
    // A [logs] entry that names its own count wins; the loader fills 20 when it names none, and
    // then [alerting] log_lines (options.lines) applies.
    const int want = log.lines != LogSourceConfig{}.lines ? log.lines : options.lines;
    if (!log.journal_unit.empty()) return journal_tail(log, want, options, redactor);
    return file_tail(log.path, log.name, want, options, redactor);
}

}  // namespace boxmon
