#include "rules/rule_state.hpp"

#include <nlohmann/json.hpp>

namespace boxmon::rules::detail {

namespace {

using nlohmann::json;

// Bumped when the meaning of a field changes; older states are then dropped with a message.
constexpr int k_state_version = 1;

json stamp_json(const Stamp& s) {
    return json{{"wall_ms", s.wall_ms}, {"boot_ns", s.boot_ns}, {"boot_id", s.boot_id}};
}

// Reads fields of one JSON object; the first problem is kept and names the field.
class Reader {
public:
    Reader(const json& object, std::string path) : m_object(object), m_path(std::move(path)) {}

    bool has(const char* key) const { return m_object.contains(key) && !m_object[key].is_null(); }

    std::int64_t integer(const char* key, std::string& error) const {
        const json* v = find(key, error);
        if (v == nullptr) return 0;
        if (!v->is_number_integer()) {
            set_error(error, key, "an integer");
            return 0;
        }
        return v->get<std::int64_t>();
    }
    double number(const char* key, std::string& error) const {
        const json* v = find(key, error);
        if (v == nullptr) return 0;
        if (!v->is_number()) {
            set_error(error, key, "a number");
            return 0;
        }
        return v->get<double>();
    }
    std::string text(const char* key, std::string& error) const {
        const json* v = find(key, error);
        if (v == nullptr) return {};
        if (!v->is_string()) {
            set_error(error, key, "a string");
            return {};
        }
        return v->get<std::string>();
    }
    Severity severity(const char* key, std::string& error) const {
        const std::string t = text(key, error);
        if (!error.empty()) return Severity::ok;
        auto s = parse_severity(t);
        if (!s) {
            set_error(error, key, "ok, warning or critical");
            return Severity::ok;
        }
        return *s;
    }
    std::optional<Reader> object(const char* key, std::string& error) const {
        if (!has(key)) return std::nullopt;
        const json& v = m_object[key];
        if (!v.is_object()) {
            set_error(error, key, "an object");
            return std::nullopt;
        }
        return Reader(v, m_path + key + ".");
    }
    Stamp stamp(std::string& error) const {
        Stamp s;
        s.wall_ms = integer("wall_ms", error);
        s.boot_ns = integer("boot_ns", error);
        s.boot_id = text("boot_id", error);
        return s;
    }

private:
    const json* find(const char* key, std::string& error) const {
        if (!error.empty()) return nullptr;
        if (!m_object.contains(key)) {
            error = "missing field \"" + m_path + key + "\"";
            return nullptr;
        }
        return &m_object[key];
    }
    void set_error(std::string& error, const char* key, const char* expected) const {
        if (error.empty()) error = "field \"" + m_path + key + "\" is not " + expected;
    }

    const json& m_object;
    std::string m_path;
};

}  // namespace

std::string_view to_string(Phase p) {
    switch (p) {
        case Phase::ok: return "ok";
        case Phase::pending: return "pending";
        case Phase::firing: return "firing";
    }
    return "ok";
}

std::string to_json(const PersistedState& s) {
    json j{{"v", k_state_version}, {"phase", to_string(s.phase)}};
    if (s.streak != 0) j["streak"] = s.streak;
    if (s.good != 0) j["good"] = s.good;
    if (s.seen) j["seen"] = stamp_json(*s.seen);
    if (s.incident) {
        const OpenIncident& i = *s.incident;
        json ij{{"id", i.id},
                {"start_ms", i.start_ms},
                {"severity", to_string(i.severity)},
                {"peak_severity", to_string(i.peak_severity)},
                {"notified", to_string(i.notified)},
                {"sequence", i.sequence},
                {"peak", i.peak}};
        if (i.notified_at) ij["notified_at"] = stamp_json(*i.notified_at);
        if (i.pushed_at) ij["pushed_at"] = stamp_json(*i.pushed_at);
        j["incident"] = std::move(ij);
    }
    if (s.cooldown) {
        j["cooldown"] = json{{"at", stamp_json(s.cooldown->at)},
                             {"severity", to_string(s.cooldown->severity)}};
    }
    if (s.missing != 0) j["missing"] = s.missing;
    if (s.absence) {
        j["absence"] = json{{"id", s.absence->id},
                            {"start_ms", s.absence->start_ms},
                            {"sequence", s.absence->sequence}};
        if (s.absence->pushed_at) j["absence"]["pushed_at"] = stamp_json(*s.absence->pushed_at);
    }
    return j.dump();
}

Result<PersistedState> from_json(std::string_view text) {
    const json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) return fail("not valid JSON");
    if (!j.is_object()) return fail("not a JSON object");
    std::string error;
    const Reader r(j, "");
    const std::int64_t version = r.integer("v", error);
    if (error.empty() && version != k_state_version)
        return fail("state version {} is not {}", version, k_state_version);

    PersistedState s;
    const std::string phase = r.text("phase", error);
    if (phase == "ok") s.phase = Phase::ok;
    else if (phase == "pending") s.phase = Phase::pending;
    else if (phase == "firing") s.phase = Phase::firing;
    else if (error.empty()) error = "field \"phase\" is not ok, pending or firing";

    if (r.has("streak")) s.streak = static_cast<int>(r.integer("streak", error));
    if (r.has("good")) s.good = static_cast<int>(r.integer("good", error));
    if (r.has("missing")) s.missing = static_cast<int>(r.integer("missing", error));
    if (auto seen = r.object("seen", error)) s.seen = seen->stamp(error);
    if (auto inc = r.object("incident", error)) {
        OpenIncident i;
        i.id = inc->text("id", error);
        i.start_ms = inc->integer("start_ms", error);
        i.severity = inc->severity("severity", error);
        i.peak_severity = inc->severity("peak_severity", error);
        i.notified = inc->severity("notified", error);
        i.sequence = static_cast<int>(inc->integer("sequence", error));
        i.peak = inc->number("peak", error);
        if (auto at = inc->object("notified_at", error)) i.notified_at = at->stamp(error);
        // Absent in states written before refreshes existed: the next refresh is due at once.
        if (auto at = inc->object("pushed_at", error)) i.pushed_at = at->stamp(error);
        s.incident = std::move(i);
    }
    if (auto cool = r.object("cooldown", error)) {
        Cooldown c;
        if (auto at = cool->object("at", error)) c.at = at->stamp(error);
        else if (error.empty()) error = "missing field \"cooldown.at\"";
        c.severity = cool->severity("severity", error);
        s.cooldown = std::move(c);
    }
    if (auto abs = r.object("absence", error)) {
        OpenAbsence a;
        a.id = abs->text("id", error);
        a.start_ms = abs->integer("start_ms", error);
        a.sequence = static_cast<int>(abs->integer("sequence", error));
        if (auto at = abs->object("pushed_at", error)) a.pushed_at = at->stamp(error);
        s.absence = std::move(a);
    }
    if (!error.empty()) return fail("{}", error);
    if (s.streak < 0 || s.good < 0 || s.missing < 0) return fail("a count is negative");
    if (s.phase == Phase::firing && !s.incident) return fail("phase is firing but no incident");
    if (s.phase != Phase::firing && s.incident) return fail("an incident is open but phase is not firing");
    return s;
}

}  // namespace boxmon::rules::detail
