#include "report/output.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <vector>

#include <fmt/format.h>

#include "core/fs.hpp"

namespace boxmon::report {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view k_prefix = "system-report-";

bool all_digits(std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// A temporary file of an interrupted write_file_atomic: ".system-report-...txt.tmp-xxxxxxxx".
bool is_report_temp_name(std::string_view name) {
    if (!name.starts_with('.')) return false;
    const auto tmp = name.rfind(".tmp-");
    return tmp != std::string_view::npos && is_report_file_name(name.substr(1, tmp - 1));
}

}  // namespace


std::string report_file_name(WallTime now, std::string_view extension) {
    return fmt::format("{}{}{}", k_prefix, format_local(now, "%Y%m%d-%H%M%S"), extension);
}

bool is_report_file_name(std::string_view name) {
    if (!name.starts_with(k_prefix)) return false;
    name.remove_prefix(k_prefix.size());
    // YYYYMMDD-HHMMSS
    if (name.size() < 15 || !all_digits(name.substr(0, 8)) || name[8] != '-' ||
        !all_digits(name.substr(9, 6)))
        return false;
    const std::string_view ext = name.substr(15);
    return ext == ".txt" || ext == ".md" || ext == ".json";
}

Result<fs::path> write_report(const fs::path& dir, WallTime now, std::string_view extension,
                              std::string_view content) {
    struct stat st{};
    if (::lstat(dir.c_str(), &st) != 0) {
        if (errno != ENOENT) return fail_errno(errno, "reports folder {}", dir.string());
        std::error_code ec;
        fs::create_directories(dir, ec);
        if (ec)
            return fail("create reports folder {}: {}; set report.dir or --out to a writable folder",
                        dir.string(), ec.message());
        ::chmod(dir.c_str(), 0700);
        if (::lstat(dir.c_str(), &st) != 0) return fail_errno(errno, "reports folder {}", dir.string());
    }
    // A symlink in place of the folder could send the report anywhere (RELIABILITY X10).
    if (S_ISLNK(st.st_mode))
        return fail("reports folder {} is a symlink; refusing to write through it; point report.dir or "
                    "--out at the real folder",
                    dir.string());
    if (!S_ISDIR(st.st_mode)) return fail("reports folder {} is not a directory", dir.string());

    const fs::path path = dir / report_file_name(now, extension);
    if (::lstat(path.c_str(), &st) == 0)
        return fail("{} already exists; not overwritten; run again in a second", path.string());
    auto written = write_file_atomic(path, content, 0600);
    if (!written) {
        if (written.error().sys_errno == ENOSPC)
            return fail(Error{fmt::format("no space left on device writing {}; report not written", dir.string()),
                              ErrorKind::runtime, ENOSPC});
        return fail("{}; report not written", written.error().message);
    }
    return path;
}

Result<std::size_t> rotate_reports(const fs::path& dir, std::size_t keep) {
    BOXMON_TRY(names, list_dir(dir));
    std::vector<std::string> reports;
    std::size_t deleted = 0;
    const auto now = std::chrono::system_clock::now();
    for (const auto& name : names) {
        const bool report = is_report_file_name(name);
        const bool temp = !report && is_report_temp_name(name);
        if (!report && !temp) continue;
        std::error_code ec;
        const auto status = fs::symlink_status(dir / name, ec);
        if (ec || !fs::is_regular_file(status)) continue;
        if (report) {
            reports.push_back(name);
            continue;
        }
        // A temporary file younger than an hour may belong to a report being written right now.
        struct stat st{};
        if (::lstat((dir / name).c_str(), &st) == 0 &&
            now - std::chrono::system_clock::from_time_t(st.st_mtime) > std::chrono::hours(1)) {
            if (::unlink((dir / name).c_str()) == 0) ++deleted;
        }
    }
    // The names sort by time (YYYYMMDD-HHMMSS), whatever their extension.
    std::sort(reports.begin(), reports.end(), [](const std::string& a, const std::string& b) {
        return a.substr(0, 29) < b.substr(0, 29) || (a.substr(0, 29) == b.substr(0, 29) && a < b);
    });
    if (reports.size() > keep) {
        const std::size_t excess = reports.size() - keep;
        for (std::size_t i = 0; i < excess; ++i) {
            if (::unlink((dir / reports[i]).c_str()) == 0)
                ++deleted;
            else if (errno != ENOENT)
                return fail_errno(errno, "delete old report {}", (dir / reports[i]).string());
        }
    }
    return deleted;
}

}  // namespace boxmon::report
