// `boxmon config show`: the effective configuration as TOML, every secret masked.

#include <sstream>

#include <toml++/toml.h>

#include "core/config_load.hpp"
#include "core/units.hpp"

namespace boxmon {

namespace {

toml::array str_array(const std::vector<std::string>& v) {
    toml::array a;
    for (const auto& s : v) a.push_back(s);
    return a;
}

std::string dur(std::chrono::milliseconds d) { return format_duration(d); }

void put_secret(toml::table& t, std::string_view base, const SecretRef& s) {
    switch (s.source) {
        case SecretRef::Source::none: break;
        case SecretRef::Source::inline_value: t.insert(base, std::string(k_secret_mask)); break;
        case SecretRef::Source::file: t.insert(std::string(base) + "_file", s.ref); break;
        case SecretRef::Source::env: t.insert(std::string(base) + "_env", s.ref); break;
        case SecretRef::Source::credential: t.insert(std::string(base) + "_credential", s.ref); break;
    }
}

toml::table render_rule(const RuleConfig& r) {
    toml::table t;
    t.insert("name", r.name);
    t.insert("metric", r.metric);
    if (!r.labels.empty()) {
        toml::table labels;
        for (const auto& l : r.labels) labels.insert(l.name, l.value);
        labels.is_inline(true);
        t.insert("labels", std::move(labels));
    }
    t.insert("op", r.op);
    if (r.warning) t.insert("warning", *r.warning);
    if (r.critical) t.insert("critical", *r.critical);
    if (r.clear) t.insert("clear", *r.clear);
    t.insert("for", r.for_samples);
    t.insert("cooldown", dur(r.cooldown));
    if (r.repeat) t.insert("repeat", dur(*r.repeat));
    t.insert("channels", str_array(r.channels));
    t.insert("logs", str_array(r.logs));
    t.insert("absent", r.absent);
    if (!r.description.empty()) t.insert("description", r.description);
    return t;
}

toml::table render_channel(const ChannelConfig& c) {
    toml::table t;
    t.insert("name", c.name);
    t.insert("type", std::string(to_string(c.type)));
    put_secret(t, "url", c.url);
    if (c.type != ChannelType::log && c.type != ChannelType::sendmail) {
        if (!c.ca_file.empty()) t.insert("ca_file", c.ca_file.string());
        t.insert("tls_skip_verify", c.tls_skip_verify);
        t.insert("connect_timeout", dur(c.connect_timeout));
    }
    if (c.type != ChannelType::log) t.insert("timeout", dur(c.timeout));
    if (!c.headers.empty()) {
        toml::table h;
        for (const auto& hdr : c.headers) {
            if (hdr.value.source == SecretRef::Source::inline_value) {
                h.insert(hdr.name, std::string(k_secret_mask));
            } else {
                toml::table v;
                put_secret(v, "value", hdr.value);
                v.is_inline(true);
                h.insert(hdr.name, std::move(v));
            }
        }
        t.insert("headers", std::move(h));
    }
    if (c.type == ChannelType::smtp) {
        t.insert("starttls", c.starttls);
        t.insert("username", c.username);
        put_secret(t, "password", c.password);
    }
    if (c.type == ChannelType::smtp || c.type == ChannelType::sendmail) {
        t.insert("from", c.from);
        t.insert("to", str_array(c.to));
    }
    if (c.type == ChannelType::sendmail) t.insert("path", c.sendmail_path.string());
    if (c.type == ChannelType::alertmanager && !c.labels.empty()) {
        toml::table l;
        for (const auto& [k, v] : c.labels) l.insert(k, v);
        t.insert("labels", std::move(l));
    }
    t.insert("min_gap", dur(c.min_gap));
    return t;
}

toml::table render_service(const ServiceConfig& s) {
    toml::table t;
    t.insert("name", s.name);
    if (!s.unit.empty()) t.insert("unit", s.unit);
    if (!s.pidfile.empty()) t.insert("pidfile", s.pidfile.string());
    if (!s.match.empty()) t.insert("match", s.match);
    if (s.memory_limit) t.insert("memory_limit", format_bytes(static_cast<double>(*s.memory_limit)));
    t.insert("logs", str_array(s.logs));
    toml::array checks;
    for (const auto& c : s.checks) {
        toml::table ct;
        ct.insert("name", c.name);
        switch (c.type) {
            case CheckConfig::Type::http:
                ct.insert("type", "http");
                ct.insert("url", c.url);
                ct.insert("method", c.method);
                ct.insert("expect_status", c.expect_status);
                if (!c.body_contains.empty()) ct.insert("body_contains", c.body_contains);
                if (!c.ca_file.empty()) ct.insert("ca_file", c.ca_file.string());
                ct.insert("tls_skip_verify", c.tls_skip_verify);
                break;
            case CheckConfig::Type::tcp:
                ct.insert("type", "tcp");
                ct.insert("address", c.address);
                break;
            case CheckConfig::Type::command:
                ct.insert("type", "command");
                ct.insert("command", str_array(c.command));
                break;
        }
        ct.insert("timeout", dur(c.timeout));
        checks.push_back(std::move(ct));
    }
    if (!checks.empty()) t.insert("checks", std::move(checks));
    return t;
}

}  // namespace

std::string render_config(const Config& c) {
    toml::table root;
    {
        toml::table t;
        t.insert("interval", dur(c.general.interval));
        t.insert("state_dir", c.general.state_dir.string());
        t.insert("hostname", c.general.hostname);
        t.insert("log_level", c.general.log_level);
        root.insert("general", std::move(t));
    }
    {
        toml::table t;
        t.insert("disable", str_array(c.collectors.disable));
        t.insert("filesystem_timeout", dur(c.collectors.filesystem_timeout));
        t.insert("exclude_mounts", str_array(c.collectors.exclude_mounts));
        t.insert("exclude_fs_types", str_array(c.collectors.exclude_fs_types));
        t.insert("exclude_interfaces", str_array(c.collectors.exclude_interfaces));
        root.insert("collectors", std::move(t));
    }
    {
        toml::table t;
        t.insert("nvidia", c.gpu.nvidia);
        t.insert("amd", c.gpu.amd);
        if (!c.gpu.nvml_library.empty()) t.insert("nvml_library", c.gpu.nvml_library);
        root.insert("gpu", std::move(t));
    }
    {
        toml::table t;
        t.insert("path", c.database_path().string());
        t.insert("retention_raw", dur(c.storage.retention_raw));
        t.insert("retention_5m", dur(c.storage.retention_5m));
        t.insert("retention_1h", dur(c.storage.retention_1h));
        t.insert("busy_timeout", dur(c.storage.busy_timeout));
        t.insert("ring_window", dur(c.storage.ring_window));
        root.insert("storage", std::move(t));
    }
    {
        toml::table t;
        t.insert("builtin", c.rule_defaults.builtin);
        t.insert("for", c.rule_defaults.for_samples);
        t.insert("cooldown", dur(c.rule_defaults.cooldown));
        t.insert("logs", str_array(c.rule_defaults.logs));
        root.insert("rule_defaults", std::move(t));
    }
    {
        toml::table t;
        for (const auto& l : c.logs) {
            toml::table lt;
            if (!l.path.empty()) lt.insert("path", l.path.string());
            else lt.insert("journal", l.journal_unit);
            lt.insert("lines", l.lines);
            lt.is_inline(true);
            t.insert(l.name, std::move(lt));
        }
        root.insert("logs", std::move(t));
    }
    {
        const auto& a = c.alerting;
        toml::table t;
        t.insert("default_channels", str_array(a.default_channels));
        t.insert("retry_min", dur(a.retry_min));
        t.insert("retry_max", dur(a.retry_max));
        t.insert("dead_after", dur(a.dead_after));
        t.insert("log_lines", a.log_lines);
        t.insert("log_line_max", static_cast<std::int64_t>(a.log_line_max));
        t.insert("redact", str_array(a.redact));
        t.insert("window", dur(a.window));
        t.insert("sample_budget", dur(a.sample_budget));
        t.insert("alertmanager_resend", dur(a.alertmanager_resend));
        root.insert("alerting", std::move(t));
    }
    {
        const auto& r = c.report;
        toml::table t;
        t.insert("dir", c.reports_dir().string());
        t.insert("keep", r.keep);
        t.insert("since", dur(r.since));
        toml::array paths;
        for (const auto& p : r.paths) paths.push_back(p.string());
        t.insert("paths", std::move(paths));
        t.insert("units", str_array(r.units));
        t.insert("webserver_check", str_array(r.webserver_check));
        t.insert("certificates", str_array(r.certificates));
        t.insert("firewall", r.firewall);
        t.insert("logs", str_array(r.logs));
        t.insert("command_timeout", dur(r.command_timeout));
        root.insert("report", std::move(t));
    }
    {
        toml::table t;
        t.insert("listen", c.http.listen);
        put_secret(t, "bearer_token", c.http.bearer_token);
        if (!c.http.textfile.empty()) t.insert("textfile", c.http.textfile.string());
        root.insert("http", std::move(t));
    }
    {
        toml::table t;
        put_secret(t, "url", c.heartbeat.url);
        t.insert("timeout", dur(c.heartbeat.timeout));
        root.insert("heartbeat", std::move(t));
    }
    toml::array channels;
    for (const auto& ch : c.channels) channels.push_back(render_channel(ch));
    if (!channels.empty()) root.insert("channels", std::move(channels));
    toml::array rules;
    for (const auto& r : c.rules) rules.push_back(render_rule(r));
    if (!rules.empty()) root.insert("rules", std::move(rules));
    toml::array services;
    for (const auto& s : c.services) services.push_back(render_service(s));
    if (!services.empty()) root.insert("services", std::move(services));

    std::ostringstream out;
    out << "# boxmon effective configuration (" << (c.source.empty() ? "built-in defaults" : c.source.string())
        << "); secrets are shown as " << k_secret_mask << "\n\n";
    out << toml::toml_formatter(root) << "\n";
    return out.str();
}

}  // namespace boxmon
