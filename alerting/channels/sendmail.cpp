// sendmail channel: hands the message to the local MTA as `sendmail -t -oi` (argv, never a shell;
// RELIABILITY X5), message on stdin, classified by sysexits(3) code.

#include <chrono>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "alerting/channels/channel_kit.hpp"
#include "alerting/channels/message.hpp"
#include "core/subprocess.hpp"

namespace boxmon::alerting::detail {
namespace {

// sysexits(3) codes that mean "this will not work as configured": EX_USAGE, EX_DATAERR,
// EX_NOINPUT, EX_NOUSER, EX_NOHOST, EX_NOPERM, EX_CONFIG. EX_TEMPFAIL (75) and the rest retry.
bool permanent_exit(int code) {
    return code == 64 || code == 65 || code == 66 || code == 67 || code == 68 || code == 77 || code == 78;
}

class SendmailChannel final : public Channel {
public:
    explicit SendmailChannel(const ChannelConfig& c) : m_config(c) {}
    const std::string& name() const override { return m_config.name; }
    ChannelType type() const override { return ChannelType::sendmail; }

    SendOutcome send(const Notification& n, const SendContext&) override {
        SendOutcome out;
        SubprocessOptions options;
        options.timeout = m_config.timeout;
        options.output_max_bytes = 64 * 1024;
        try {
            const auto now = std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
            options.stdin_data = build_mail(n, m_config.from, m_config.to, now, "\n");
        } catch (const std::exception& e) {
            out.detail = finish_detail(fmt::format("channel \"{}\": rendering failed: {}", m_config.name, e.what()), {});
            return out;
        }
        std::vector<std::string> argv = {m_config.sendmail_path.string(), "-t", "-oi"};
        if (!m_config.from.empty()) {
            argv.push_back("-f");
            argv.push_back(m_config.from);
        }
        const std::string program = m_config.sendmail_path.string();
        auto run = run_subprocess(argv, options);
        if (!run) {
            out.kind = SendOutcome::Kind::dead;
            out.detail = fmt::format("cannot run \"{}\": {}; install an MTA or set sendmail_path", program,
                                     run.error().message);
        } else if (run->timed_out) {
            out.kind = SendOutcome::Kind::retry;
            out.detail = fmt::format("\"{}\" did not finish within {} ms and was killed; will retry", program,
                                     m_config.timeout.count());
        } else if (run->exit_code == 0) {
            // sendmail's contract: exit 0 means accepted, however much of the message it read.
            out.kind = SendOutcome::Kind::delivered;
            out.detail = fmt::format("\"{}\" accepted the message", program);
            if (run->stdin_cut) {
                out.detail += " without reading all of it";
                spdlog::warn("channel \"{}\": \"{}\" exited 0 without reading the whole message (notification "
                             "{}); the MTA may have stored it cut short",
                             m_config.name, program, n.idempotency_key());
            }
        } else {
            const std::string err = net::excerpt(run->err, 300);
            const std::string said = err.empty() ? std::string() : fmt::format(": {}", err);
            if (run->exit_code < 0) {
                out.kind = SendOutcome::Kind::retry;
                out.detail = fmt::format("\"{}\" was killed by signal {}{}; will retry", program, run->signal, said);
            } else if (permanent_exit(run->exit_code)) {
                out.kind = SendOutcome::Kind::dead;
                out.detail = fmt::format("\"{}\" exited with {} (permanent failure){}; check from, to and the MTA",
                                         program, run->exit_code, said);
            } else {
                out.kind = SendOutcome::Kind::retry;
                out.detail = fmt::format("\"{}\" exited with {}{}; will retry", program, run->exit_code, said);
            }
        }
        out.detail = finish_detail(fmt::format("channel \"{}\": {}", m_config.name, out.detail), {});
        return out;
    }

private:
    ChannelConfig m_config;
};

}  // namespace

std::unique_ptr<Channel> make_sendmail(const ChannelConfig& c) { return std::make_unique<SendmailChannel>(c); }

}  // namespace boxmon::alerting::detail
