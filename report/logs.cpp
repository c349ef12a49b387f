// The report's log tails: the same reader and redaction as alert messages (core/logtail.hpp).
#include "core/logtail.hpp"
#include "core/redact.hpp"
#include "report/gather.hpp"

namespace boxmon::report {

Result<std::vector<LogTail>> gather_logs(const Config& config, const std::vector<std::string>& names) {
    if (names.empty()) return fail("no logs configured (report.logs names entries under [logs])");
    BOXMON_TRY(redactor, Redactor::with_patterns(config.alerting.redact));
    TailOptions options;
    options.line_max_bytes = static_cast<std::size_t>(config.alerting.log_line_max);
    std::vector<LogTail> tails;
    for (const auto& name : names) {
        const LogSourceConfig* log = config.log(name);
        if (log == nullptr) {
            LogTail t;
            t.name = name;
            t.note = "no such log under [logs]; check report.logs";
            tails.push_back(std::move(t));
            continue;
        }
        options.lines = log->lines;
        tails.push_back(read_log_tail(*log, options, redactor));
    }
    return tails;
}

}  // namespace boxmon::report
