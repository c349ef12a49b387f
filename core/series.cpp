#include "core/series.hpp"

#include <algorithm>
#include <functional>

namespace boxmon {

SeriesKey::SeriesKey(std::string name, std::vector<Label> labels)
    : m_name(std::move(name)), m_labels(std::move(labels)) {
    std::stable_sort(m_labels.begin(), m_labels.end(),
                     [](const Label& a, const Label& b) { return a.name < b.name; });
    // Keep the last of equal names: walk backwards and drop earlier duplicates.
    std::vector<Label> unique;
    unique.reserve(m_labels.size());
    for (auto& l : m_labels) {
        if (!unique.empty() && unique.back().name == l.name)
            unique.back() = std::move(l);
        else
            unique.push_back(std::move(l));
    }
    m_labels = std::move(unique);
}

const std::string* SeriesKey::label(std::string_view name) const {
    for (const auto& l : m_labels)
        if (l.name == name) return &l.value;
    return nullptr;
}

std::string escape_label_value(std::string_view value) {
    std::string out;
    out.reserve(value.size());
    for (char c : value) {
        switch (c) {
            case '\\': out += "\\\\"; break;
            case '"': out += "\\\""; break;
            case '\n': out += "\\n"; break;
            default: out += c;
        }
    }
    return out;
}

std::string SeriesKey::to_string() const {
    std::string out = m_name;
    if (m_labels.empty()) return out;
    out += '{';
    bool first = true;
    for (const auto& l : m_labels) {
        if (!first) out += ',';
        first = false;
        out += l.name;
        out += "=\"";
        out += escape_label_value(l.value);
        out += '"';
    }
    out += '}';
    return out;
}

namespace {

bool is_name_start(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
}
bool is_name_char(char c) { return is_name_start(c) || (c >= '0' && c <= '9'); }

}  // namespace

Result<SeriesKey> SeriesKey::parse(std::string_view text) {
    std::size_t i = 0;
    const auto bad = [&](std::string_view what) {
        return fail_as(ErrorKind::usage, "invalid series \"{}\" at offset {}: {}", text, i, what);
    };
    if (text.empty() || !is_name_start(text[0])) return bad("a series starts with a metric name");
    while (i < text.size() && is_name_char(text[i])) ++i;
    std::string name(text.substr(0, i));
    std::vector<Label> labels;
    if (i == text.size()) return SeriesKey(std::move(name));
    if (text[i] != '{') return bad("expected '{' or the end");
    ++i;
    while (true) {
        if (i < text.size() && text[i] == '}') {
            ++i;
            break;
        }
        const std::size_t start = i;
        if (i >= text.size() || !is_name_start(text[i])) return bad("expected a label name");
        while (i < text.size() && is_name_char(text[i])) ++i;
        std::string label_name(text.substr(start, i - start));
        if (i >= text.size() || text[i] != '=') return bad("expected '='");
        ++i;
        if (i >= text.size() || text[i] != '"') return bad("expected '\"'");
        ++i;
        std::string value;
        while (true) {
            if (i >= text.size()) return bad("unterminated label value");
            char c = text[i++];
            if (c == '"') break;
            if (c == '\\') {
                if (i >= text.size()) return bad("unterminated escape");
                char e = text[i++];
                if (e == 'n') value += '\n';
                else if (e == '\\' || e == '"') value += e;
                else return bad("unknown escape");
            } else {
                value += c;
            }
        }
        labels.push_back({std::move(label_name), std::move(value)});
        if (i < text.size() && text[i] == ',') {
            ++i;
            continue;
        }
        if (i < text.size() && text[i] == '}') {
            ++i;
            break;
        }
        return bad("expected ',' or '}'");
    }
    if (i != text.size()) return bad("unexpected text after '}'");
    return SeriesKey(std::move(name), std::move(labels));
}

std::size_t SeriesKeyHash::operator()(const SeriesKey& key) const noexcept {
    std::size_t h = std::hash<std::string>{}(key.name());
    for (const auto& l : key.labels()) {
        h ^= std::hash<std::string>{}(l.name) + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
        h ^= std::hash<std::string>{}(l.value) + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    }
    return h;
}

}  // namespace boxmon
