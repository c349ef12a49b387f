#pragma once
// Internal to core: a reader over one TOML table that checks types, ranges and unknown keys
// and collects every problem as `file:line:col: key: what; what to do`.

#include <chrono>
#include <map>
#include <set>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <toml++/toml.h>

#include "core/config.hpp"

namespace boxmon::detail {

struct Diagnostics {
    struct Entry {
        std::uint32_t line = 0;
        std::uint32_t column = 0;
        std::string text;  // complete, position included
    };
    struct UnknownKey {
        toml::source_region where;
        std::string key;
        std::string heading;     // where it was found: "[storage]"
        std::string suggestion;  // a close known key of the same table, or ""
        bool is_table = false;
        bool is_array_of_tables = false;
    };

    std::string source;  // the file name shown in messages
    std::vector<Entry> errors;
    std::vector<std::string> warnings;
    std::map<std::string, std::string> key_home;  // valid key -> the first table heading it belongs to
    std::map<std::string, std::set<std::string>> known;  // table heading -> every valid key
    std::vector<UnknownKey> unknown;

    void error_at(const toml::source_region& where, std::string message);
    std::string position(const toml::source_region& where) const;
    // Turns unknown keys into errors (with "did you mean" or "belongs in [...]") and returns all
    // errors sorted by position.
    std::vector<std::string> finish();
};

// Edit distance, for "did you mean" suggestions.
std::size_t edit_distance(std::string_view a, std::string_view b);
// The closest candidate within a small distance, or "".
std::string closest(std::string_view word, const std::vector<std::string>& candidates);

class TableReader {
public:
    // `path` names the table in messages ("general", "rules[2]"); `heading` is how the user
    // wrote it ("[general]", "[[rules]]").
    TableReader(const toml::table& table, std::string path, std::string heading, Diagnostics& diag);

    const toml::table& table() const { return m_table; }
    const std::string& path() const { return m_path; }
    Diagnostics& diagnostics() { return m_diag; }

    // Each getter declares `key` valid here, returns nullopt when absent, and records an error
    // (returning nullopt) when the value has the wrong type or is out of range.
    const toml::node* node(std::string_view key);
    std::optional<bool> boolean(std::string_view key);
    std::optional<std::int64_t> integer(std::string_view key, std::int64_t min, std::int64_t max);
    std::optional<double> number(std::string_view key);
    std::optional<std::string> string(std::string_view key, bool allow_empty = false);
    std::optional<std::chrono::milliseconds> duration(std::string_view key,
                                                      std::chrono::milliseconds min,
                                                      std::chrono::milliseconds max);
    std::optional<std::uint64_t> size(std::string_view key);
    std::optional<std::vector<std::string>> strings(std::string_view key, bool allow_empty_items = false);
    const toml::table* table(std::string_view key);
    const toml::array* array_of_tables(std::string_view key);
    // A secret given as `base` (inline, only if allowed), `base_file`, `base_env` or
    // `base_credential` (a systemd credential); at most one of them.
    SecretRef secret(std::string_view base, bool allow_inline);

    // Records an error about `key` (at its position, or the table's when absent).
    void error(std::string_view key, std::string message);
    void warning(std::string_view key, std::string message);
    // Reports keys present in the table that no getter asked for.
    void finish();

private:
    std::string key_path(std::string_view key) const;
    const toml::source_region& where(std::string_view key) const;

    const toml::table& m_table;
    std::string m_path;
    std::string m_heading;
    Diagnostics& m_diag;
    std::vector<std::string> m_known;
};

// The friendly name of a node's type: "string", "integer", "table" ...
std::string_view type_name(const toml::node& node);
// A short rendering of a value for messages (strings quoted, long text cut).
std::string describe(const toml::node& node);

}  // namespace boxmon::detail
