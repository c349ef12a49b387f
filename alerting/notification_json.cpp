#include "alerting/notification_json.hpp"

#include <cmath>
#include <limits>

#include <nlohmann/json.hpp>

namespace boxmon::alerting {
namespace {

using nlohmann::json;

// JSON has no NaN or infinity: NaN is null, infinities are the strings "+Inf" and "-Inf".
json number(double v) {
    if (std::isnan(v)) return nullptr;
    if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
    return v;
}

Result<double> read_number(const json& j, const char* field) {
    if (j.is_null()) return std::numeric_limits<double>::quiet_NaN();
    if (j.is_number()) return j.get<double>();
    if (j.is_string()) {
        const auto& s = j.get_ref<const std::string&>();
        if (s == "+Inf") return std::numeric_limits<double>::infinity();
        if (s == "-Inf") return -std::numeric_limits<double>::infinity();
    }
    return fail("notification JSON: field \"{}\" is not a number", field);
}

json series_json(const SeriesKey& key) {
    json labels = json::object();
    for (const auto& label : key.labels()) labels[label.name] = label.value;
    return json{{"name", key.name()}, {"labels", std::move(labels)}};
}

const json* member(const json& object, const char* field) {
    auto it = object.find(field);
    return it == object.end() ? nullptr : &*it;
}

Result<std::string> read_string(const json& object, const char* field) {
    const json* j = member(object, field);
    if (j == nullptr || !j->is_string()) return fail("notification JSON: field \"{}\" missing or not a string", field);
    return j->get<std::string>();
}

Result<std::int64_t> read_int(const json& object, const char* field) {
    const json* j = member(object, field);
    if (j == nullptr || !j->is_number_integer()) return fail("notification JSON: field \"{}\" missing or not an integer", field);
    return j->get<std::int64_t>();
}

Result<double> read_double(const json& object, const char* field) {
    const json* j = member(object, field);
    if (j == nullptr) return fail("notification JSON: field \"{}\" missing", field);
    return read_number(*j, field);
}

Result<std::vector<std::string>> read_strings(const json& object, const char* field) {
    std::vector<std::string> out;
    const json* j = member(object, field);
    if (j == nullptr) return out;
    if (!j->is_array()) return fail("notification JSON: field \"{}\" is not an array", field);
    for (const auto& e : *j) {
        if (!e.is_string()) return fail("notification JSON: field \"{}\" holds a non-string", field);
        out.push_back(e.get<std::string>());
    }
    return out;
}

Result<SeriesKey> read_series(const json& object) {
    const json* j = member(object, "series");
    if (j == nullptr || !j->is_object()) return fail("notification JSON: field \"series\" missing or not an object");
    BOXMON_TRY(name, read_string(*j, "name"));
    std::vector<Label> labels;
    if (const json* l = member(*j, "labels")) {
        if (!l->is_object()) return fail("notification JSON: field \"series.labels\" is not an object");
        for (auto it = l->begin(); it != l->end(); ++it) {
            if (!it.value().is_string()) return fail("notification JSON: label \"{}\" is not a string", it.key());
            labels.push_back(Label{it.key(), it.value().get<std::string>()});
        }
    }
    return SeriesKey(std::move(name), std::move(labels));
}

Result<Notification> parse(const json& j) {
    if (!j.is_object()) return fail("notification JSON: not an object");
    Notification n;
    BOXMON_TRY(incident_id, read_string(j, "incident_id"));
    n.incident_id = std::move(incident_id);
    BOXMON_TRY(sequence, read_int(j, "sequence"));
    n.sequence = static_cast<int>(sequence);
    BOXMON_TRY(kind_text, read_string(j, "kind"));
    BOXMON_TRY(kind, parse_notification_kind(kind_text));
    n.kind = kind;
    BOXMON_TRY(incident_kind_text, read_string(j, "incident_kind"));
    BOXMON_TRY(incident_kind, parse_incident_kind(incident_kind_text));
    n.incident_kind = incident_kind;
    BOXMON_TRY(severity_text, read_string(j, "severity"));
    BOXMON_TRY(severity, parse_severity(severity_text));
    n.severity = severity;
    BOXMON_TRY(rule, read_string(j, "rule"));
    n.rule = std::move(rule);
    if (member(j, "description") != nullptr) {  // absent in rows written before it existed
        BOXMON_TRY(description, read_string(j, "description"));
        n.description = std::move(description);
    }
    BOXMON_TRY(series, read_series(j));
    n.series = std::move(series);
    BOXMON_TRY(op, read_string(j, "op"));
    n.op = std::move(op);
    BOXMON_TRY(value, read_double(j, "value"));
    n.value = value;
    BOXMON_TRY(threshold, read_double(j, "threshold"));
    n.threshold = threshold;
    BOXMON_TRY(for_samples, read_int(j, "for_samples"));
    n.for_samples = static_cast<int>(for_samples);
    BOXMON_TRY(at, read_int(j, "at_ms"));
    n.at = from_unix_ms(at);
    BOXMON_TRY(since, read_int(j, "since_ms"));
    n.since = from_unix_ms(since);
    if (const json* ended = member(j, "ended_ms"); ended != nullptr && !ended->is_null()) {
        BOXMON_TRY(ended_ms, read_int(j, "ended_ms"));
        n.ended = from_unix_ms(ended_ms);
    }
    BOXMON_TRY(peak, read_double(j, "peak"));
    n.peak = peak;
    BOXMON_TRY(reason, read_string(j, "reason"));
    n.reason = std::move(reason);
    BOXMON_TRY(host, read_string(j, "host"));
    n.host = std::move(host);
    BOXMON_TRY(channels, read_strings(j, "channels"));
    n.channels = std::move(channels);
    BOXMON_TRY(logs, read_strings(j, "logs"));
    n.logs = std::move(logs);
    if (const json* window = member(j, "window")) {
        if (!window->is_array()) return fail("notification JSON: field \"window\" is not an array");
        for (const auto& p : *window) {
            if (!p.is_array() || p.size() != 2 || !p[0].is_number_integer())
                return fail("notification JSON: a \"window\" point is not [ms, value]");
            BOXMON_TRY(v, read_number(p[1], "window"));
            n.window.push_back(WindowPoint{from_unix_ms(p[0].get<std::int64_t>()), v});
        }
    }
    if (const json* tails = member(j, "tails")) {
        if (!tails->is_array()) return fail("notification JSON: field \"tails\" is not an array");
        for (const auto& t : *tails) {
            if (!t.is_object()) return fail("notification JSON: a \"tails\" entry is not an object");
            LogTail tail;
            BOXMON_TRY(name, read_string(t, "name"));
            tail.name = std::move(name);
            BOXMON_TRY(source, read_string(t, "source"));
            tail.source = std::move(source);
            BOXMON_TRY(lines, read_strings(t, "lines"));
            tail.lines = std::move(lines);
            BOXMON_TRY(note, read_string(t, "note"));
            tail.note = std::move(note);
            n.tails.push_back(std::move(tail));
        }
    }
    return n;
}

}  // namespace

std::string notification_to_json(const Notification& n) {
    json j;
    j["incident_id"] = n.incident_id;
    j["sequence"] = n.sequence;
    j["kind"] = std::string(to_string(n.kind));
    j["incident_kind"] = std::string(to_string(n.incident_kind));
    j["severity"] = std::string(to_string(n.severity));
    j["rule"] = n.rule;
    if (!n.description.empty()) j["description"] = n.description;
    j["series"] = series_json(n.series);
    j["op"] = n.op;
    j["value"] = number(n.value);
    j["threshold"] = number(n.threshold);
    j["for_samples"] = n.for_samples;
    j["at_ms"] = to_unix_ms(n.at);
    j["since_ms"] = to_unix_ms(n.since);
    j["ended_ms"] = n.ended ? json(to_unix_ms(*n.ended)) : json(nullptr);
    j["peak"] = number(n.peak);
    j["reason"] = n.reason;
    j["host"] = n.host;
    j["channels"] = n.channels;
    j["logs"] = n.logs;
    json window = json::array();
    for (const auto& p : n.window) window.push_back(json::array({to_unix_ms(p.ts), number(p.value)}));
    j["window"] = std::move(window);
    json tails = json::array();
    for (const auto& t : n.tails)
        tails.push_back(json{{"name", t.name}, {"source", t.source}, {"lines", t.lines}, {"note", t.note}});
    j["tails"] = std::move(tails);
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<Notification> notification_from_json(std::string_view text) {
    json j = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) return fail("notification JSON: not valid JSON ({} bytes)", text.size());
    return parse(j);
}

}  // namespace boxmon::alerting
