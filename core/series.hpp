#pragma once
// SeriesKey: a metric name plus labels sorted by label name, e.g.
// disk_used_percent{mount="/"}. The text form is Prometheus' (values escaped with \\ \" \n).

#include <compare>
#include <cstddef>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace boxmon {

struct Label {
    std::string name;
    std::string value;
    auto operator<=>(const Label&) const = default;
};

class SeriesKey {
public:
    SeriesKey() = default;
    // Builds a key; labels are sorted by name (a repeated name keeps the last value).
    explicit SeriesKey(std::string name, std::vector<Label> labels = {});
    SeriesKey(std::string name, std::initializer_list<Label> labels)
        : SeriesKey(std::move(name), std::vector<Label>(labels)) {}

    const std::string& name() const { return m_name; }
    const std::vector<Label>& labels() const { return m_labels; }
    // Returns the value of label `name`, or nullptr when the key has no such label.
    const std::string* label(std::string_view name) const;

    // The canonical text form: name or name{a="x",b="y"}.
    std::string to_string() const;
    // Parses the canonical text form; fails with the offending position on bad input.
    static Result<SeriesKey> parse(std::string_view text);

    auto operator<=>(const SeriesKey&) const = default;
    bool operator==(const SeriesKey&) const = default;

private:
    std::string m_name;
    std::vector<Label> m_labels;
};

// Escapes a label value for the text form (backslash, double quote, newline).
std::string escape_label_value(std::string_view value);

struct SeriesKeyHash {
    std::size_t operator()(const SeriesKey& key) const noexcept;
};

}  // namespace boxmon

template <>
struct fmt::formatter<boxmon::SeriesKey> : fmt::formatter<std::string_view> {
    template <class Ctx>
    auto format(const boxmon::SeriesKey& key, Ctx& ctx) const {
        return fmt::formatter<std::string_view>::format(key.to_string(), ctx);
    }
};
