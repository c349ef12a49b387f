// The report sections that come from external commands: web server check, service states,
// firewall rules. No shell: argv goes to run_subprocess as configured.
#include <fmt/format.h>

#include "core/subprocess.hpp"
#include "report/gather.hpp"

namespace boxmon::report {

Result<CommandOutput> run_command(const std::vector<std::string>& argv, const CommandOptions& options) {
    if (argv.empty() || argv[0].empty()) return fail("no command configured");
    SubprocessOptions so;
    so.timeout = options.timeout;
    so.output_max_bytes = options.output_max_bytes;
    so.env = options.env;
    auto r = run_subprocess(argv, so);
    if (!r) {
        Error e = std::move(r).error();
        if (e.kind == ErrorKind::not_found)
            return fail_as(ErrorKind::not_found, "{}: not found in PATH; install it or configure the command",
                           argv[0]);
        return fail(std::move(e));
    }
    CommandOutput out;
    out.argv = argv;
    out.exit_code = r->exit_code;
    out.signal = r->signal;
    out.timed_out = r->timed_out;
    out.out = std::move(r->out);
    out.err = std::move(r->err);
    out.truncated = r->out_truncated || r->err_truncated;
    return out;
}

Result<CommandOutput> gather_webserver(const ReportConfig& config, const CommandOptions& options) {
    if (config.webserver_check.empty()) return fail("off: report.webserver_check is empty");
    return run_command(config.webserver_check, options);
}

std::vector<std::string> report_units(const Config& config) {
    if (!config.report.units.empty()) return config.report.units;
    std::vector<std::string> units;
    for (const auto& s : config.services)
        if (!s.unit.empty()) units.push_back(s.unit);
    return units;
}

Result<std::vector<UnitState>> gather_services(const std::vector<std::string>& units,
                                               const CommandOptions& options) {
    if (units.empty()) return fail("no units configured (report.units, or services with a unit)");
    std::vector<UnitState> states;
    for (const auto& unit : units) {
        // One call per unit: `is-active a b` stops printing at an unknown unit on some versions.
        // "--" so that a unit name can never be read as an option.
        BOXMON_TRY(out, run_command({"systemctl", "is-active", "--", unit}, options));
        std::string state = out.out.substr(0, out.out.find('\n'));
        if (out.timed_out) state = fmt::format("unknown (systemctl timed out after {} ms)", options.timeout.count());
        if (state.empty()) state = out.exit_code == 0 ? "active" : "unknown";
        states.push_back({unit, std::move(state)});
    }
    return states;
}

Result<CommandOutput> gather_firewall(const std::string& firewall, const CommandOptions& options) {
    if (firewall == "off") return fail("off in the configuration (report.firewall)");
    const std::vector<std::string> nft = {"nft", "list", "ruleset"};
    const std::vector<std::string> iptables = {"iptables", "-S"};
    const std::vector<std::string> pfctl = {"pfctl", "-sr"};
    if (firewall == "nft") return run_command(nft, options);
    if (firewall == "iptables") return run_command(iptables, options);
    if (firewall == "pfctl") return run_command(pfctl, options);
    if (firewall != "auto")
        return fail_as(ErrorKind::config, "unknown report.firewall \"{}\"; use auto, nft, iptables, pfctl or off",
                       firewall);
    auto r = run_command(nft, options);
    if (r || r.error().kind != ErrorKind::not_found) return r;
    auto r2 = run_command(iptables, options);
    if (r2 || r2.error().kind != ErrorKind::not_found) return r2;
    return fail_as(ErrorKind::not_found, "neither nft nor iptables found in PATH; no firewall rules to show");
}

}  // namespace boxmon::report
