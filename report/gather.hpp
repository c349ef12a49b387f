#pragma once
// Gatherers of the report sections that need only core: external commands (web server check,
// service states, firewall), certificates, sizes of configured paths and log tails. Each returns
// the section's data or an error that says why the section is empty; none throws.

#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/result.hpp"
#include "report/report.hpp"

namespace boxmon::report {

struct CommandOptions {
    std::chrono::milliseconds timeout{10'000};
    std::size_t output_max_bytes = 256u << 10;
    std::map<std::string, std::string> env;  // empty: run_subprocess's default environment
};

// Runs argv without a shell. Fails when it cannot start ("nginx: not found ..."); a non-zero
// exit or a timeout is a result the report shows.
Result<CommandOutput> run_command(const std::vector<std::string>& argv, const CommandOptions& options);

// The web server check (`nginx -t` or report.webserver_check); fails when it is empty (off).
Result<CommandOutput> gather_webserver(const ReportConfig& config, const CommandOptions& options);

// `systemctl is-active` for each unit; fails when systemctl cannot run or there are no units.
Result<std::vector<UnitState>> gather_services(const std::vector<std::string>& units,
                                               const CommandOptions& options);
// The units the report lists: report.units, else the services' units.
std::vector<std::string> report_units(const Config& config);

// The active firewall rules: `nft list ruleset`, else `iptables -S` (firewall = "auto"), or the
// one named; fails saying which tools were tried, or that the section is off.
Result<CommandOutput> gather_firewall(const std::string& firewall, const CommandOptions& options);

// Certificates matching the glob patterns, read with OpenSSL (the first certificate of each
// file). Files larger than 1 MiB, and private key files (by name), are never read; a file that
// cannot be read or parsed is an entry with `error` set. At most `max_files` files.
Result<std::vector<CertInfo>> gather_certificates(const std::vector<std::string>& patterns,
                                                  std::size_t max_files = 200);
// One certificate file (exposed for tests).
CertInfo read_certificate(const std::filesystem::path& path);
// Days from `now` to `not_after` (negative when expired; rounded toward zero).
long days_left(WallTime not_after, WallTime now);

// The total size of each path: a walk that never follows symlinks nor crosses into other
// filesystems' mounts, stopped at the deadline or after `max_entries` entries (the figure is
// then marked partial).
Result<std::vector<PathSize>> gather_path_sizes(const std::vector<std::filesystem::path>& paths,
                                                std::chrono::milliseconds deadline = std::chrono::seconds(10),
                                                std::size_t max_entries = 2'000'000);

// Tails of the named logs (report.logs), redacted as in alerts; an unknown name is a tail whose
// note says so.
Result<std::vector<LogTail>> gather_logs(const Config& config, const std::vector<std::string>& names);

}  // namespace boxmon::report
