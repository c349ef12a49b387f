#pragma once
// Writing report files: system-report-YYYYMMDD-HHMMSS.<ext> (local time) in the reports folder,
// written atomically (never a partial file under the final name, RELIABILITY C7), mode 0600,
// never through a planted symlink (X10), and rotation that deletes only files of that pattern.

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

#include "core/clock.hpp"
#include "core/result.hpp"

namespace boxmon::report {

// "system-report-20261123-120300.txt" for `now` in the local time zone.
std::string report_file_name(WallTime now, std::string_view extension = ".txt");
// True for names report_file_name() makes (any of .txt .md .json).
bool is_report_file_name(std::string_view name);

// Creates the reports folder (0700) when missing, then writes `content` to a new report file.
// Refuses a folder that is a symlink or not a directory, and a final name that already exists;
// on a full disk says "no space left on device writing <dir>; report not written". Returns the
// file's path.
Result<std::filesystem::path> write_report(const std::filesystem::path& dir, WallTime now,
                                           std::string_view extension, std::string_view content);

// Deletes the oldest report files beyond `keep` and temporary files of interrupted writes older
// than an hour; only regular files whose names match the pattern. Returns how many it deleted.
Result<std::size_t> rotate_reports(const std::filesystem::path& dir, std::size_t keep);

}  // namespace boxmon::report
