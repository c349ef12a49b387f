#pragma once
// Log tails for alerts and the report: the last N lines of a file read from its end (a 10 GB
// log costs what a small one does), or of a systemd unit's journal; invalid UTF-8 replaced,
// long lines cut, secrets redacted (redact.hpp). A missing log is a note, not a failure.

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/incident.hpp"

namespace boxmon {

class Redactor;

struct TailOptions {
    int lines = 20;
    std::size_t line_max_bytes = 4096;            // longer lines end in "…[truncated]"
    std::size_t read_max_bytes = 1u << 20;        // never read more than this from the end
    std::chrono::milliseconds timeout{5000};      // journalctl is killed after this
    bool from_rotated = true;                     // fill from <file>.1 when the file is short
};

// The tail of one configured log. Never throws; problems end up in LogTail::note.
LogTail read_log_tail(const LogSourceConfig& log, const TailOptions& options, const Redactor& redactor);

// The tail of a file, lines oldest first (exposed for tests and benchmarks).
LogTail read_file_tail(const std::filesystem::path& path, const TailOptions& options, const Redactor& redactor);

}  // namespace boxmon
