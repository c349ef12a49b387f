#include "core/config_load.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <set>

#include "core/detail/builtin_rules.hpp"
#include "core/detail/toml_reader.hpp"
#include "core/fs.hpp"
#include "core/redact.hpp"
#include "core/text.hpp"

namespace boxmon {

namespace fs = std::filesystem;
using detail::Diagnostics;
using detail::TableReader;
using std::chrono::milliseconds;

namespace {

constexpr milliseconds k_min_interval = 1s;
constexpr milliseconds k_max_interval = 1h;
constexpr milliseconds k_long = std::chrono::hours(24 * 365 * 10);

bool is_identifier(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s) {
        const bool okc = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                         c == '_' || c == '-' || c == '.';
        if (!okc) return false;
    }
    return true;
}

bool is_metric_name(std::string_view s) {
    if (s.empty() || (s[0] >= '0' && s[0] <= '9')) return false;
    for (char c : s) {
        const bool okc = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                         c == '_' || c == ':';
        if (!okc) return false;
    }
    return true;
}

bool has_control(std::string_view s) {
    return std::any_of(s.begin(), s.end(),
                       [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

// An e-mail address fit for a header and a command line: no control characters, no leading
// '-', exactly one '@' with text on both sides, no spaces or angle brackets.
bool is_mail_address(std::string_view s) {
    if (s.empty() || s[0] == '-' || has_control(s)) return false;
    if (s.find_first_of(" <>,;\"\\") != std::string_view::npos) return false;
    const auto at = s.find('@');
    return at != std::string_view::npos && at > 0 && at + 1 < s.size() &&
           s.find('@', at + 1) == std::string_view::npos;
}

// Checks that a URL has an allowed scheme and a host with a sane port; returns "" or why not.
std::string check_url(std::string_view url, std::initializer_list<std::string_view> schemes) {
    if (has_control(url) || url.find(' ') != std::string_view::npos)
        return "contains spaces or control characters";
    const auto sep = url.find("://");
    if (sep == std::string_view::npos) return "is not a URL (scheme://host/...)";
    const std::string_view scheme = url.substr(0, sep);
    if (std::find(schemes.begin(), schemes.end(), scheme) == schemes.end()) {
        std::string allowed;
        for (auto s : schemes) allowed += (allowed.empty() ? "" : ", ") + std::string(s);
        return fmt::format("uses scheme \"{}\"; allowed: {}", scheme, allowed);
    }
    std::string_view rest = url.substr(sep + 3);
    std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
    if (const auto at = authority.rfind('@'); at != std::string_view::npos)
        authority = authority.substr(at + 1);
    std::string_view host = authority;
    std::string_view port;
    if (!authority.empty() && authority[0] == '[') {
        const auto close = authority.find(']');
        if (close == std::string_view::npos) return "has an unclosed IPv6 address";
        host = authority.substr(0, close + 1);
        if (close + 1 < authority.size()) {
            if (authority[close + 1] != ':') return "has text after the IPv6 address";
            port = authority.substr(close + 2);
        }
    } else if (const auto colon = authority.rfind(':'); colon != std::string_view::npos) {
        host = authority.substr(0, colon);
        port = authority.substr(colon + 1);
    }
    if (host.empty() || host == "[]") return "has no host";
    if (!port.empty() || authority.ends_with(':')) {
        if (port.empty() || port.size() > 5 ||
            !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }))
            return fmt::format("has an invalid port \"{}\"", port);
        const int p = std::atoi(std::string(port).c_str());
        if (p < 1 || p > 65535) return fmt::format("has port {} outside 1-65535", p);
    }
    return "";
}

std::string quoted_list(const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v) out += (out.empty() ? "" : ", ") + fmt::format("\"{}\"", s);
    return out;
}

class Loader {
public:
    explicit Loader(std::string source) { m_diag.source = std::move(source); }

    Result<LoadedConfig> load(const toml::table& root) {
        Config c = default_config();
        TableReader top(root, "", "the top level", m_diag);
        // Plain tables are read even when absent (as empty tables) so that every valid key is
        // known when a misplaced one is reported ("interval" belongs in [general]).
        static const toml::table k_empty;
        const auto table_or_empty = [&](std::string_view key) -> const toml::table& {
            const auto* t = top.table(key);
            return t != nullptr ? *t : k_empty;
        };
        read_general(table_or_empty("general"), c.general);
        read_collectors(table_or_empty("collectors"), c.collectors);
        read_gpu(table_or_empty("gpu"), c.gpu);
        read_storage(table_or_empty("storage"), c.storage);
        read_logs(table_or_empty("logs"), c);
        if (const auto* a = top.array_of_tables("channels")) read_channels(*a, c);
        read_alerting(table_or_empty("alerting"), c);
        read_rule_defaults(table_or_empty("rule_defaults"), c);
        std::vector<RuleConfig> user_rules;
        if (const auto* a = top.array_of_tables("rules")) {
            if (a->size() > k_max_rules)
                top.error("rules", fmt::format("{} rules exceed the limit of {}", a->size(), k_max_rules));
            else
                user_rules = read_rules(*a, c);
        }
        if (const auto* a = top.array_of_tables("services")) read_services(*a, c);
        read_report(table_or_empty("report"), c);
        read_http(table_or_empty("http"), c.http);
        read_heartbeat(table_or_empty("heartbeat"), c.heartbeat);
        top.finish();

        c.rules.clear();
        for (auto& r : user_rules) c.rules.push_back(std::move(r));
        append_generated_rules(c);

        const auto errors = m_diag.finish();
        if (!errors.empty()) {
            std::string message;
            for (const auto& e : errors) message += (message.empty() ? "" : "\n") + e;
            return fail_as(ErrorKind::config, "{}", message);
        }
        return LoadedConfig{std::move(c), std::move(m_diag.warnings)};
    }

    // Checks that every name in `names` is a configured log; errors point at `key`.
    void check_log_names(TableReader& r, std::string_view key, const std::vector<std::string>& names,
                         const Config& c) {
        for (const auto& l : names)
            if (c.log(l) == nullptr)
                r.error(key, fmt::format("log \"{}\" is not under [logs]; add {} = \"/path/to/file\"",
                                         escape_control(l), escape_control(l)));
    }

    // Checks that every name in `names` is a configured channel (or the built-in "log").
    void check_channel_names(TableReader& r, std::string_view key, const std::vector<std::string>& names,
                             const Config& c) {
        std::vector<std::string> known;
        for (const auto& ch : c.channels) known.push_back(ch.name);
        for (const auto& n : names) {
            if (n == "log" || c.channel(n) != nullptr) continue;
            const auto s = detail::closest(n, known);
            r.error(key, fmt::format("channel \"{}\" is not a [[channels]] name{}", escape_control(n),
                                     !s.empty()        ? fmt::format("; did you mean \"{}\"?", s)
                                     : known.empty()   ? "; define it under [[channels]]"
                                                       : fmt::format("; known: {}", quoted_list(known))));
        }
    }

private:
    void read_general(const toml::table& t, GeneralConfig& g) {
        TableReader r(t, "general", "[general]", m_diag);
        if (auto v = r.duration("interval", k_min_interval, k_max_interval)) g.interval = *v;
        if (auto v = r.string("state_dir")) g.state_dir = *v;
        if (auto v = r.string("hostname")) {
            if (has_control(*v)) r.error("hostname", "contains control characters");
            else g.hostname = *v;
        }
        if (auto v = r.string("log_level")) {
            if (auto lvl = parse_log_level_name(*v); !lvl.empty()) r.error("log_level", lvl);
            else g.log_level = *v;
        }
        r.finish();
    }

    static std::string parse_log_level_name(std::string_view v) {
        static const std::set<std::string_view> names = {"trace", "debug", "info", "warn",
                                                         "warning", "error", "critical", "off"};
        if (names.count(v)) return "";
        return fmt::format("unknown log level \"{}\"; use trace, debug, info, warn, error or off", v);
    }

    void read_collectors(const toml::table& t, CollectorsConfig& c) {
        TableReader r(t, "collectors", "[collectors]", m_diag);
        if (auto v = r.strings("disable")) {
            for (const auto& name : *v) {
                const auto& known = known_collectors();
                if (std::find(known.begin(), known.end(), name) == known.end()) {
                    const auto s = detail::closest(name, known);
                    r.error("disable", fmt::format("unknown collector \"{}\"{}", name,
                                                   s.empty() ? fmt::format("; known: {}", quoted_list(known))
                                                             : fmt::format("; did you mean \"{}\"?", s)));
                }
            }
            c.disable = *v;
        }
        if (auto v = r.duration("filesystem_timeout", 100ms, 60s)) c.filesystem_timeout = *v;
        if (auto v = r.strings("exclude_mounts")) c.exclude_mounts = *v;
        if (auto v = r.strings("exclude_fs_types")) c.exclude_fs_types = *v;
        if (auto v = r.strings("exclude_interfaces")) c.exclude_interfaces = *v;
        r.finish();
    }

    void read_gpu(const toml::table& t, GpuConfig& g) {
        TableReader r(t, "gpu", "[gpu]", m_diag);
        if (auto v = r.boolean("nvidia")) g.nvidia = *v;
        if (auto v = r.boolean("amd")) g.amd = *v;
        if (auto v = r.string("nvml_library")) g.nvml_library = *v;
        r.finish();
    }

    void read_storage(const toml::table& t, StorageConfig& s) {
        TableReader r(t, "storage", "[storage]", m_diag);
        if (auto v = r.string("path")) s.path = *v;
        if (auto v = r.duration("retention_raw", 1h, k_long)) s.retention_raw = *v;
        if (auto v = r.duration("retention_5m", 1h, k_long)) s.retention_5m = *v;
        if (auto v = r.duration("retention_1h", 1h, k_long)) s.retention_1h = *v;
        if (auto v = r.duration("busy_timeout", 0ms, 10min)) s.busy_timeout = *v;
        if (auto v = r.duration("ring_window", 1min, 48h)) s.ring_window = *v;
        r.finish();
    }

    void read_logs(const toml::table& t, Config& c) {
        TableReader r(t, "logs", "[logs]", m_diag);
        for (const auto& [k, v] : t) {
            const std::string name(k.str());
            r.node(name);
            LogSourceConfig log;
            log.name = name;
            log.lines = 20;
            if (!is_identifier(name)) {
                r.error(name, "log names use letters, digits, '_', '-' and '.'");
                continue;
            }
            if (const auto* s = v.as_string()) {
                log.path = s->get();
            } else if (const auto* tbl = v.as_table()) {
                TableReader lr(*tbl, "logs." + name, fmt::format("[logs] {}", name), m_diag);
                if (auto p = lr.string("path")) log.path = *p;
                if (auto j = lr.string("journal")) log.journal_unit = *j;
                if (auto n = lr.integer("lines", 1, 1000)) log.lines = static_cast<int>(*n);
                lr.finish();
                if (log.path.empty() == log.journal_unit.empty()) {
                    r.error(name, "give exactly one of path = \"...\" or journal = \"unit\"");
                    continue;
                }
            } else {
                r.error(name, fmt::format("expected a path string or {{ path = ..., lines = ... }}, "
                                          "found {}",
                                          detail::type_name(v)));
                continue;
            }
            if (!log.path.empty()) {
                if (has_control(log.path.string())) {
                    r.error(name, "the path contains control characters");
                    continue;
                }
                if (log.path.is_relative()) {
                    r.error(name, fmt::format("\"{}\" is relative; give an absolute path", log.path.string()));
                    continue;
                }
                struct stat st {};
                if (::stat(log.path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
                    r.error(name, fmt::format("not a regular file: {} ({}); point it at a log file",
                                              log.path.string(), describe_file_type(st.st_mode)));
                    continue;
                }
            }
            if (!log.journal_unit.empty() && (log.journal_unit[0] == '-' || has_control(log.journal_unit))) {
                r.error(name, "a journal unit name must not start with '-' or hold control characters");
                continue;
            }
            c.logs.push_back(std::move(log));
        }
    }

    static std::string describe_file_type(mode_t mode) {
        if (S_ISDIR(mode)) return "directory";
        if (S_ISFIFO(mode)) return "FIFO";
        if (S_ISSOCK(mode)) return "socket";
        if (S_ISCHR(mode)) return "character device";
        if (S_ISBLK(mode)) return "block device";
        return "special file";
    }

    void read_channels(const toml::array& arr, Config& c) {
        std::set<std::string> names;
        for (std::size_t i = 0; i < arr.size(); ++i) {
            const auto& t = *arr[i].as_table();
            TableReader r(t, fmt::format("channels[{}]", i), "[[channels]]", m_diag);
            ChannelConfig ch;
            if (auto v = r.string("name")) ch.name = *v;
            else if (!t.contains("name")) r.error("name", "every channel needs a name");
            if (!ch.name.empty() && !is_identifier(ch.name))
                r.error("name", "channel names use letters, digits, '_', '-' and '.'");
            if (!ch.name.empty() && !names.insert(ch.name).second)
                r.error("name", fmt::format("channel \"{}\" is defined twice", ch.name));
            const auto type = r.string("type");
            if (!type) {
                if (!t.contains("type"))
                    r.error("type", "every channel needs a type: smtp, sendmail, slack, discord, "
                                    "webhook, alertmanager or log");
                r.finish();
                continue;
            }
            static const std::vector<std::pair<std::string, ChannelType>> types = {
                {"log", ChannelType::log},         {"smtp", ChannelType::smtp},
                {"sendmail", ChannelType::sendmail}, {"slack", ChannelType::slack},
                {"discord", ChannelType::discord}, {"webhook", ChannelType::webhook},
                {"alertmanager", ChannelType::alertmanager}};
            auto it = std::find_if(types.begin(), types.end(), [&](auto& p) { return p.first == *type; });
            if (it == types.end()) {
                r.error("type", fmt::format("unknown channel type \"{}\"; use smtp, sendmail, slack, "
                                            "discord, webhook, alertmanager or log",
                                            *type));
                r.finish();
                continue;
            }
            ch.type = it->second;
            const bool is_http = ch.type == ChannelType::slack || ch.type == ChannelType::discord ||
                                 ch.type == ChannelType::webhook || ch.type == ChannelType::alertmanager;
            if (is_http || ch.type == ChannelType::smtp) {
                ch.url = r.secret("url", true);
                if (!ch.url.present()) {
                    if (!has_any_key(t, "url"))
                        r.error("url", "this channel needs url, url_file, url_env or url_credential");
                } else if (!ch.url.value.empty()) {
                    const auto why = ch.type == ChannelType::smtp
                                         ? check_url(ch.url.value.reveal(), {"smtp", "smtps"})
                                         : check_url(ch.url.value.reveal(), {"https", "http"});
                    if (!why.empty())
                        r.error(url_key(t), fmt::format("the URL {} {}", redact_url(ch.url.value.reveal()), why));
                }
                if (auto v = r.string("ca_file")) ch.ca_file = *v;
                if (auto v = r.boolean("tls_skip_verify")) {
                    ch.tls_skip_verify = *v;
                    if (*v)
                        r.warning("tls_skip_verify", fmt::format("TLS certificates of channel \"{}\" are "
                                                                 "not verified; anyone on the path can "
                                                                 "read and forge its traffic",
                                                                 ch.name));
                }
                if (auto v = r.duration("connect_timeout", 1s, 5min)) ch.connect_timeout = *v;
                if (auto v = r.duration("timeout", 1s, 10min)) ch.timeout = *v;
            }
            if (ch.type == ChannelType::webhook || ch.type == ChannelType::alertmanager) {
                if (const auto* h = r.table("headers")) read_headers(*h, r.path(), ch);
            }
            if (ch.type == ChannelType::alertmanager) {
                if (const auto* l = r.table("labels")) {
                    for (const auto& [k, v] : *l) {
                        if (const auto* s = v.as_string()) ch.labels[std::string(k.str())] = s->get();
                        else r.error("labels", "label values must be strings");
                    }
                }
            }
            if (ch.type == ChannelType::smtp) {
                if (auto v = r.string("starttls")) {
                    if (*v != "required" && *v != "off")
                        r.error("starttls", fmt::format("\"{}\" is not valid; use \"required\" or \"off\" "
                                                        "(off is for loopback relays only)",
                                                        *v));
                    else ch.starttls = *v;
                }
            }
            if (ch.type == ChannelType::smtp || ch.type == ChannelType::sendmail) {
                if (auto v = r.string("from")) {
                    if (!is_mail_address(*v))
                        r.error("from", fmt::format("\"{}\" is not a plain address like boxmon@example.org",
                                                    escape_control(*v)));
                    else ch.from = *v;
                } else if (ch.type == ChannelType::smtp && !t.contains("from")) {
                    r.error("from", "an smtp channel needs from = \"boxmon@example.org\"");
                }
                if (auto v = r.strings("to")) {
                    for (const auto& a : *v)
                        if (!is_mail_address(a))
                            r.error("to", fmt::format("\"{}\" is not a plain address like ops@example.org",
                                                      escape_control(truncate_utf8(a, 60, "..."))));
                    ch.to = *v;
                }
                if (ch.to.empty() && !t.contains("to"))
                    r.error("to", "this channel needs at least one recipient: to = [\"ops@example.org\"]");
            }
            if (ch.type == ChannelType::smtp) {
                if (auto v = r.string("username")) {
                    if (has_control(*v)) r.error("username", "contains control characters");
                    else ch.username = *v;
                }
                ch.password = r.secret("password", false);
                if (ch.password.present() && ch.username.empty())
                    r.error("password_file", "a password needs username = \"...\"");
            }
            if (ch.type == ChannelType::sendmail) {
                if (auto v = r.string("path")) {
                    if ((*v)[0] == '-' || has_control(*v) || fs::path(*v).is_relative())
                        r.error("path", fmt::format("\"{}\" must be an absolute path to the sendmail program", *v));
                    else ch.sendmail_path = *v;
                }
                if (auto v = r.duration("timeout", 1s, 10min)) ch.timeout = *v;
            }
            if (auto v = r.duration("min_gap", 0ms, 1h)) ch.min_gap = *v;
            r.finish();
            c.channels.push_back(std::move(ch));
        }
    }

    static bool has_any_key(const toml::table& t, std::string_view base) {
        for (const char* suffix : {"", "_file", "_env", "_credential"})
            if (t.contains(std::string(base) + suffix)) return true;
        return false;
    }

    static std::string url_key(const toml::table& t) {
        for (const char* k : {"url", "url_file", "url_env", "url_credential"})
            if (t.contains(k)) return k;
        return "url";
    }

    void read_headers(const toml::table& headers, const std::string& path, ChannelConfig& ch) {
        for (const auto& [k, v] : headers) {
            const std::string name(k.str());
            HeaderConfig h;
            h.name = name;
            bool valid_name = !name.empty();
            for (char c : name)
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-'))
                    valid_name = false;
            if (!valid_name) {
                m_diag.error_at(k.source(), fmt::format("{}.headers: \"{}\" is not a valid header name",
                                                        path, name));
                continue;
            }
            if (const auto* s = v.as_string()) {
                if (has_control(s->get())) {
                    m_diag.error_at(v.source(), fmt::format("{}.headers.{}: the value holds control "
                                                            "characters", path, name));
                    continue;
                }
                h.value.source = SecretRef::Source::inline_value;
                h.value.value = Secret(s->get());
            } else if (const auto* tbl = v.as_table()) {
                TableReader hr(*tbl, path + ".headers." + name, "a header", m_diag);
                h.value = hr.secret("value", true);
                hr.finish();
            } else {
                m_diag.error_at(v.source(), fmt::format("{}.headers.{}: expected a string or "
                                                        "{{ value_file = \"...\" }}",
                                                        path, name));
                continue;
            }
            ch.headers.push_back(std::move(h));
        }
    }

    void read_alerting(const toml::table& t, Config& c) {
        TableReader r(t, "alerting", "[alerting]", m_diag);
        auto& a = c.alerting;
        if (auto v = r.strings("default_channels")) {
            check_channel_names(r, "default_channels", *v, c);
            a.default_channels = *v;
        }
        if (auto v = r.duration("retry_min", 1s, 1h)) a.retry_min = *v;
        if (auto v = r.duration("retry_max", 1s, 24h)) a.retry_max = *v;
        if (a.retry_max < a.retry_min) r.error("retry_max", "must not be below retry_min");
        if (auto v = r.duration("dead_after", 1min, std::chrono::hours(24 * 30))) a.dead_after = *v;
        if (auto v = r.integer("log_lines", 0, 1000)) a.log_lines = static_cast<int>(*v);
        if (auto v = r.size("log_line_max")) {
            if (*v < 80 || *v > 65536) r.error("log_line_max", "use a value from 80 to 65536 bytes");
            else a.log_line_max = *v;
        }
        if (auto v = r.strings("redact")) {
            for (const auto& pattern : *v) {
                if (auto ok = check_redact_pattern(pattern); !ok) r.error("redact", ok.error().message);
            }
            a.redact = *v;
        }
        if (auto v = r.duration("window", 1min, 24h)) a.window = *v;
        if (auto v = r.duration("sample_budget", 0s, 50s)) a.sample_budget = *v;
        if (auto v = r.duration("alertmanager_resend", 1s, 24h)) a.alertmanager_resend = *v;
        r.finish();
    }

    void read_rule_defaults(const toml::table& t, Config& c) {
        auto& d = c.rule_defaults;
        TableReader r(t, "rule_defaults", "[rule_defaults]", m_diag);
        if (auto v = r.boolean("builtin")) d.builtin = *v;
        if (auto v = r.integer("for", 1, 10'000)) d.for_samples = static_cast<int>(*v);
        if (auto v = r.duration("cooldown", 0s, std::chrono::hours(24 * 30))) d.cooldown = *v;
        if (auto v = r.strings("logs")) {
            check_log_names(r, "logs", *v, c);
            d.logs = *v;
        }
        r.finish();
    }

    std::vector<RuleConfig> read_rules(const toml::array& arr, const Config& c) {
        std::vector<RuleConfig> rules;
        std::set<std::string> names;
        for (std::size_t i = 0; i < arr.size(); ++i) {
            const auto& t = *arr[i].as_table();
            TableReader r(t, fmt::format("rules[{}]", i), "[[rules]]", m_diag);
            RuleConfig rule;
            rule.for_samples = c.rule_defaults.for_samples;
            rule.cooldown = c.rule_defaults.cooldown;
            if (auto v = r.string("name")) rule.name = *v;
            else if (!t.contains("name")) r.error("name", "every rule needs a name");
            if (!rule.name.empty() && !is_identifier(rule.name))
                r.error("name", "rule names use letters, digits, '_', '-' and '.'");
            if (!rule.name.empty() && !names.insert(rule.name).second)
                r.error("name", fmt::format("rule \"{}\" is defined twice", rule.name));
            if (auto v = r.string("metric")) {
                if (!is_metric_name(*v))
                    r.error("metric", fmt::format("\"{}\" is not a metric name; see docs/METRICS.md", *v));
                rule.metric = *v;
            } else if (!t.contains("metric")) {
                r.error("metric", "every rule needs a metric, e.g. metric = \"cpu_percent\"");
            }
            if (const auto* l = r.table("labels")) {
                for (const auto& [k, v] : *l) {
                    if (const auto* s = v.as_string())
                        rule.labels.push_back({std::string(k.str()), s->get()});
                    else
                        m_diag.error_at(v.source(), fmt::format("{}.labels.{}: label values are strings",
                                                                r.path(), k.str()));
                }
                rule.labels = SeriesKey("x", rule.labels).labels();  // sorted, unique
            }
            if (auto v = r.string("op")) {
                if (*v != ">" && *v != ">=" && *v != "<" && *v != "<=")
                    r.error("op", fmt::format("\"{}\" is not a comparison; use >, >=, < or <=", *v));
                else rule.op = *v;
            }
            rule.warning = r.number("warning");
            rule.critical = r.number("critical");
            if (auto v = r.number("threshold")) {
                if (rule.critical) r.error("threshold", "give either threshold or critical, not both");
                rule.critical = v;
            }
            rule.clear = r.number("clear");
            if (!rule.warning && !rule.critical && !has_threshold_key(t))
                r.error("critical", "a rule needs warning and/or critical (the thresholds)");
            check_thresholds(r, rule);
            if (auto v = r.integer("for", 1, 10'000)) rule.for_samples = static_cast<int>(*v);
            if (auto v = r.duration("cooldown", 0s, std::chrono::hours(24 * 30))) rule.cooldown = *v;
            if (auto v = r.duration("repeat", 1min, std::chrono::hours(24 * 30))) rule.repeat = *v;
            if (auto v = r.strings("channels")) {
                check_channel_names(r, "channels", *v, c);
                rule.channels = *v;
            }
            if (auto v = r.strings("logs")) {
                check_log_names(r, "logs", *v, c);
                rule.logs = *v;
            }
            if (auto v = r.boolean("absent")) rule.absent = *v;
            if (auto v = r.string("description")) rule.description = *v;
            r.finish();
            rules.push_back(std::move(rule));
        }
        return rules;
    }

    static bool has_threshold_key(const toml::table& t) {
        return t.contains("warning") || t.contains("critical") || t.contains("threshold");
    }

    void check_thresholds(TableReader& r, const RuleConfig& rule) {
        const bool upward = rule.op == ">" || rule.op == ">=";
        const bool percent = rule.metric.ends_with("_percent");
        for (auto [key, v] : {std::pair{"warning", rule.warning}, std::pair{"critical", rule.critical},
                              std::pair{"clear", rule.clear}}) {
            if (v && percent && (*v < 0 || *v > 100))
                r.error(key, fmt::format("{} is outside 0-100 for the percent metric {}", *v, rule.metric));
        }
        if (rule.warning && rule.critical) {
            if (upward ? *rule.critical < *rule.warning : *rule.critical > *rule.warning)
                r.error("critical", fmt::format("critical {} is less severe than warning {} for op \"{}\"",
                                                *rule.critical, *rule.warning, rule.op));
        }
        if (rule.clear) {
            const double first = rule.warning ? *rule.warning : rule.critical.value_or(*rule.clear);
            if (upward ? *rule.clear > first : *rule.clear < first)
                r.error("clear", fmt::format("clear {} must lie on the healthy side of {} for op \"{}\"",
                                             *rule.clear, first, rule.op));
        }
    }

    void read_services(const toml::array& arr, Config& c) {
        std::set<std::string> names;
        for (std::size_t i = 0; i < arr.size(); ++i) {
            const auto& t = *arr[i].as_table();
            TableReader r(t, fmt::format("services[{}]", i), "[[services]]", m_diag);
            ServiceConfig s;
            if (auto v = r.string("name")) s.name = *v;
            else if (!t.contains("name")) r.error("name", "every service needs a name");
            if (!s.name.empty() && !is_identifier(s.name))
                r.error("name", "service names use letters, digits, '_', '-' and '.'");
            if (!s.name.empty() && !names.insert(s.name).second)
                r.error("name", fmt::format("service \"{}\" is defined twice", s.name));
            if (auto v = r.string("unit")) {
                if ((*v)[0] == '-' || has_control(*v) || v->find('/') != std::string::npos)
                    r.error("unit", fmt::format("\"{}\" is not a systemd unit name",
                                                escape_control(truncate_utf8(*v, 60, "..."))));
                else s.unit = *v;
            }
            if (auto v = r.string("pidfile")) s.pidfile = *v;
            if (auto v = r.string("match")) s.match = *v;
            const int ways = !s.unit.empty() + !s.pidfile.empty() + !s.match.empty();
            if (ways != 1 && !t.contains("unit") && !t.contains("pidfile") && !t.contains("match"))
                r.error("match", "a service needs one of unit, pidfile or match");
            else if (ways > 1)
                r.error("match", "give only one of unit, pidfile and match");
            if (auto v = r.size("memory_limit")) s.memory_limit = *v;
            if (auto v = r.strings("logs")) {
                check_log_names(r, "logs", *v, c);
                s.logs = *v;
            }
            if (const auto* checks = r.array_of_tables("checks")) {
                for (std::size_t j = 0; j < checks->size(); ++j)
                    s.checks.push_back(read_check(*(*checks)[j].as_table(),
                                                  fmt::format("{}.checks[{}]", r.path(), j), j));
            }
            r.finish();
            c.services.push_back(std::move(s));
        }
    }

    CheckConfig read_check(const toml::table& t, const std::string& path, std::size_t index) {
        TableReader r(t, path, "[[services.checks]]", m_diag);
        CheckConfig ch;
        const auto type = r.string("type");
        if (!type) {
            if (!t.contains("type")) r.error("type", "every check needs a type: http, tcp or command");
        } else if (*type == "http") {
            ch.type = CheckConfig::Type::http;
        } else if (*type == "tcp") {
            ch.type = CheckConfig::Type::tcp;
        } else if (*type == "command") {
            ch.type = CheckConfig::Type::command;
        } else {
            r.error("type", fmt::format("unknown check type \"{}\"; use http, tcp or command", *type));
        }
        ch.name = fmt::format("{}{}", type.value_or("check"), index);
        if (auto v = r.string("name")) {
            if (!is_identifier(*v)) r.error("name", "check names use letters, digits, '_', '-' and '.'");
            else ch.name = *v;
        }
        if (auto v = r.duration("timeout", 100ms, 5min)) ch.timeout = *v;
        if (ch.type == CheckConfig::Type::http) {
            if (auto v = r.string("url")) {
                const auto why = check_url(*v, {"http", "https"});
                if (!why.empty()) r.error("url", fmt::format("the URL {}", why));
                ch.url = *v;
            } else if (!t.contains("url")) {
                r.error("url", "an http check needs url = \"http://127.0.0.1:8080/health\"");
            }
            if (auto v = r.string("method")) {
                static const std::set<std::string> methods = {"GET", "HEAD", "POST", "OPTIONS"};
                if (!methods.count(*v)) r.error("method", "use GET, HEAD, POST or OPTIONS");
                else ch.method = *v;
            }
            if (auto v = r.integer("expect_status", 100, 599)) ch.expect_status = static_cast<int>(*v);
            if (auto v = r.string("body_contains")) ch.body_contains = *v;
            if (auto v = r.string("ca_file")) ch.ca_file = *v;
            if (auto v = r.boolean("tls_skip_verify")) ch.tls_skip_verify = *v;
        } else if (ch.type == CheckConfig::Type::tcp) {
            if (auto v = r.string("address")) {
                const auto why = check_url("tcp://" + *v, {"tcp"});
                if (!why.empty() || v->rfind(':') == std::string::npos)
                    r.error("address", fmt::format("\"{}\" is not host:port",
                                                   escape_control(truncate_utf8(*v, 60, "..."))));
                ch.address = *v;
            } else if (!t.contains("address")) {
                r.error("address", "a tcp check needs address = \"127.0.0.1:8080\"");
            }
        } else {
            if (auto v = r.strings("command")) {
                if (v->empty()) r.error("command", "the command needs at least the program");
                else if (fs::path((*v)[0]).is_relative())
                    r.error("command", fmt::format("\"{}\" must be an absolute path (no shell, no PATH search)",
                                                   (*v)[0]));
                ch.command = *v;
            } else if (!t.contains("command")) {
                r.error("command", "a command check needs command = [\"/usr/bin/prog\", \"arg\"]");
            }
        }
        r.finish();
        return ch;
    }

    void read_report(const toml::table& t, Config& c) {
        TableReader r(t, "report", "[report]", m_diag);
        auto& rep = c.report;
        if (auto v = r.string("dir")) rep.dir = *v;
        if (auto v = r.integer("keep", 1, 10'000)) rep.keep = static_cast<int>(*v);
        if (auto v = r.duration("since", 1min, std::chrono::hours(24 * 366))) rep.since = *v;
        if (auto v = r.strings("paths")) rep.paths.assign(v->begin(), v->end());
        if (auto v = r.strings("units")) rep.units = *v;
        if (auto v = r.strings("webserver_check")) {
            if (!v->empty() && (*v)[0][0] == '-') r.error("webserver_check", "the program must not start with '-'");
            rep.webserver_check = *v;
        }
        if (auto v = r.strings("certificates")) rep.certificates = *v;
        if (auto v = r.string("firewall")) {
            static const std::set<std::string> kinds = {"auto", "nft", "iptables", "pfctl", "off"};
            if (!kinds.count(*v)) r.error("firewall", "use auto, nft, iptables, pfctl or off");
            else rep.firewall = *v;
        }
        if (auto v = r.strings("logs")) {
            check_log_names(r, "logs", *v, c);
            rep.logs = *v;
        }
        if (auto v = r.duration("command_timeout", 1s, 5min)) rep.command_timeout = *v;
        r.finish();
    }

    void read_http(const toml::table& t, HttpConfig& h) {
        TableReader r(t, "http", "[http]", m_diag);
        if (auto v = r.string("listen", true)) {
            // A port alone means this host only.
            if (!v->empty() && std::all_of(v->begin(), v->end(), [](char ch) { return ch >= '0' && ch <= '9'; }))
                *v = "127.0.0.1:" + *v;
            if (!v->empty()) {
                const auto why = check_url("http://" + *v, {"http"});
                if (v->starts_with(':'))
                    r.error("listen", fmt::format("\"{}\" has no host; write \"127.0.0.1{}\" for this host only or "
                                                  "\"0.0.0.0{}\" for every interface",
                                                  *v, *v, *v));
                else if (!why.empty() || v->find('/') != std::string::npos || v->rfind(':') == std::string::npos)
                    r.error("listen", fmt::format("\"{}\" is not address:port, e.g. \"127.0.0.1:9101\"", *v));
                else if (!v->starts_with("127.") && !v->starts_with("[::1]") && !v->starts_with("localhost:"))
                    r.warning("listen", fmt::format("the metrics endpoint listens on {}, beyond this host; "
                                                    "set bearer_token_file and a firewall rule",
                                                    *v));
            }
            h.listen = *v;
        }
        h.bearer_token = r.secret("bearer_token", false);
        if (auto v = r.string("textfile")) {
            if (fs::path(*v).is_relative()) r.error("textfile", "give an absolute path");
            h.textfile = *v;
        }
        r.finish();
    }

    void read_heartbeat(const toml::table& t, HeartbeatConfig& h) {
        TableReader r(t, "heartbeat", "[heartbeat]", m_diag);
        h.url = r.secret("url", true);
        if (h.url.present() && !h.url.value.empty()) {
            const auto why = check_url(h.url.value.reveal(), {"https", "http"});
            if (!why.empty()) r.error(url_key(t), fmt::format("the URL {} {}", redact_url(h.url.value.reveal()), why));
        }
        if (auto v = r.duration("timeout", 1s, 5min)) h.timeout = *v;
        r.finish();
    }

    // Built-in rules (the operator's plan) and the rules that come with each service. A user
    // rule with the same name replaces a built-in one.
    void append_generated_rules(Config& c) {
        std::set<std::string> user_names;
        for (const auto& r : c.rules) user_names.insert(r.name);
        auto add = [&](RuleConfig rule) {
            if (user_names.count(rule.name)) return;
            rule.builtin = true;
            c.rules.push_back(std::move(rule));
        };
        if (c.rule_defaults.builtin) {
            for (auto rule : detail::builtin_rules(c.rule_defaults)) add(std::move(rule));
        }
        for (const auto& s : c.services) {
            RuleConfig down;
            down.name = "service_down." + s.name;
            down.metric = "service_up";
            down.labels = {{"service", s.name}};
            down.op = "<";
            down.critical = 1;
            down.for_samples = c.rule_defaults.for_samples;
            down.cooldown = c.rule_defaults.cooldown;
            down.logs = s.logs;
            down.description = fmt::format("service {} has no running process", s.name);
            add(down);
            for (const auto& check : s.checks) {
                RuleConfig failing = down;
                failing.name = fmt::format("check_failed.{}.{}", s.name, check.name);
                failing.metric = "check_up";
                failing.labels = SeriesKey("x", {{"service", s.name}, {"check", check.name}}).labels();
                failing.description = fmt::format("health check {} of service {} fails", check.name, s.name);
                failing.inhibited_by = down.name;  // the service being down says it already
                add(failing);
            }
            if (s.memory_limit) {
                RuleConfig mem = down;
                mem.name = "service_memory." + s.name;
                mem.metric = "service_rss_bytes";
                mem.op = ">";
                mem.critical.reset();
                mem.warning = static_cast<double>(*s.memory_limit);
                mem.description = fmt::format("service {} uses more memory than its memory_limit", s.name);
                add(mem);
            }
        }
    }

public:
    Diagnostics m_diag;
};

bool secret_inline_anywhere(const Config& c) {
    for (const auto& ch : c.channels) {
        if (ch.url.source == SecretRef::Source::inline_value) return true;
        for (const auto& h : ch.headers)
            if (h.value.source == SecretRef::Source::inline_value) return true;
    }
    return c.heartbeat.url.source == SecretRef::Source::inline_value;
}

}  // namespace

Result<LoadedConfig> parse_config(std::string_view text, std::string_view source_name) {
    toml::table root;
    try {
        root = toml::parse(text, std::string(source_name));
    } catch (const toml::parse_error& e) {
        const auto& b = e.source().begin;
        return fail_as(ErrorKind::config, "{}:{}:{}: {}; fix the TOML syntax there", source_name,
                       b.line, b.column, e.description());
    }
    return Loader(std::string(source_name)).load(root);
}

std::map<std::string, std::set<std::string>> config_keys() {
    static constexpr std::string_view k_every_kind = R"toml(
[logs]
a = { path = "/nonexistent/a.log" }
[[channels]]
name = "c1"
type = "smtp"
[[channels]]
name = "c2"
type = "sendmail"
[[channels]]
name = "c3"
type = "alertmanager"
[[channels]]
name = "c4"
type = "webhook"
[[rules]]
name = "r"
[[services]]
name = "s"
[[services.checks]]
type = "http"
[[services.checks]]
type = "tcp"
[[services.checks]]
type = "command"
)toml";
    const toml::table root = toml::parse(k_every_kind, std::string("schema"));
    Loader loader("schema");
    (void)loader.load(root);
    auto keys = std::move(loader.m_diag.known);
    // [logs] holds user-chosen names; its entries' keys are listed under "[logs] <name>".
    keys.erase("[logs]");
    keys["[logs]"] = std::move(keys["[logs] a"]);
    keys.erase("[logs] a");
    keys.erase("a header");
    keys.erase("the top level");
    return keys;
}

Result<std::optional<fs::path>> find_config_file(const std::optional<fs::path>& flag) {
    const auto must_exist = [](const fs::path& p, std::string_view from) -> Result<std::optional<fs::path>> {
        std::error_code ec;
        if (!fs::exists(p, ec))
            return fail_as(ErrorKind::config, "config file {} (from {}) does not exist; check the path",
                           p.string(), from);
        return std::optional<fs::path>(p);
    };
    if (flag) return must_exist(*flag, "--config");
    if (const char* env = std::getenv("BOXMON_CONFIG"); env != nullptr && *env != '\0')
        return must_exist(env, "$BOXMON_CONFIG");
    std::error_code ec;
    const fs::path system_file = "/etc/boxmon/boxmon.toml";
    if (fs::exists(system_file, ec)) return std::optional<fs::path>(system_file);
    if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
        const fs::path user_file = fs::path(home) / ".config/boxmon/boxmon.toml";
        if (fs::exists(user_file, ec)) return std::optional<fs::path>(user_file);
    }
    return std::optional<fs::path>();
}

Result<LoadedConfig> load_config(const std::optional<fs::path>& file) {
    if (!file) return LoadedConfig{default_config(), {}};
    const std::string name = file->string();
    const int fd = ::open(file->c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0)
        return fail_as(ErrorKind::config, "cannot read config file {}: {}", name, std::strerror(errno));
    struct Closer {
        int fd;
        ~Closer() { ::close(fd); }
    } closer{fd};
    struct stat st {};
    if (::fstat(fd, &st) != 0)
        return fail_as(ErrorKind::config, "cannot stat config file {}: {}", name, std::strerror(errno));
    if (!S_ISREG(st.st_mode))
        return fail_as(ErrorKind::config, "config file {} is not a regular file; point --config at a file",
                       name);
    if (static_cast<std::uint64_t>(st.st_size) > k_config_max_bytes)
        return fail_as(ErrorKind::config, "config file {} is larger than {} bytes; refusing to parse it",
                       name, k_config_max_bytes);
    if ((st.st_mode & S_IWOTH) != 0)
        return fail_as(ErrorKind::config,
                       "config file {} is writable by anyone ({}), who could redirect alerts; run "
                       "`chmod o-w {}`",
                       name, describe_mode_owner(st.st_mode, st.st_uid, st.st_gid), name);
    const fs::path parent = fs::absolute(*file).parent_path();
    struct stat pst {};
    if (::stat(parent.c_str(), &pst) == 0 && (pst.st_mode & S_IWOTH) != 0 && (pst.st_mode & S_ISVTX) == 0)
        return fail_as(ErrorKind::config,
                       "the directory {} of config file {} is writable by anyone ({}); run `chmod o-w {}`",
                       parent.string(), name, describe_mode_owner(pst.st_mode, pst.st_uid, pst.st_gid),
                       parent.string());
    std::string text;
    text.reserve(static_cast<std::size_t>(st.st_size));
    char buf[16384];
    while (true) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            return fail_as(ErrorKind::config, "cannot read config file {}: {}", name, std::strerror(errno));
        }
        if (n == 0) break;
        text.append(buf, static_cast<std::size_t>(n));
        if (text.size() > k_config_max_bytes)
            return fail_as(ErrorKind::config, "config file {} is larger than {} bytes; refusing to parse it",
                           name, k_config_max_bytes);
    }
    auto loaded = parse_config(text, name);
    if (!loaded) return loaded;
    loaded->config.source = *file;
    if ((st.st_mode & 077) != 0 && secret_inline_anywhere(loaded->config))
        loaded->warnings.push_back(fmt::format(
            "config file {} holds secrets (webhook URLs or tokens) and others can read it ({}); run "
            "`chmod 600 {}` or move them to url_file/value_file or a systemd credential",
            name, describe_mode_owner(st.st_mode, st.st_uid, st.st_gid), name));
    return loaded;
}

}  // namespace boxmon
