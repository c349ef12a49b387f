#include "core/detail/toml_reader.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <tuple>

#include "core/text.hpp"
#include "core/units.hpp"

namespace boxmon::detail {

namespace {

constexpr std::size_t k_max_string_bytes = 64 * 1024;

}  // namespace

std::string Diagnostics::position(const toml::source_region& where) const {
    if (where.begin.line == 0) return source;
    return fmt::format("{}:{}:{}", source, where.begin.line, where.begin.column);
}

void Diagnostics::error_at(const toml::source_region& where, std::string message) {
    errors.push_back({where.begin.line, where.begin.column, fmt::format("{}: {}", position(where), message)});
}

std::vector<std::string> Diagnostics::finish() {
    for (const auto& u : unknown) {
        std::string what;
        if (u.is_array_of_tables) what = fmt::format("unknown table [[{}]]", u.key);
        else if (u.is_table) what = fmt::format("unknown table [{}]", u.key);
        else what = fmt::format("unknown key \"{}\" in {}", u.key, u.heading);
        if (!u.suggestion.empty()) {
            if (u.is_array_of_tables) what += fmt::format("; did you mean [[{}]]?", u.suggestion);
            else if (u.is_table) what += fmt::format("; did you mean [{}]?", u.suggestion);
            else what += fmt::format("; did you mean \"{}\"?", u.suggestion);
        } else if (auto it = key_home.find(u.key); it != key_home.end() && it->second != u.heading) {
            what += fmt::format("; \"{}\" belongs in {}", u.key, it->second);
        } else {
            what += "; see docs/CONFIG.md for the keys of this table";
        }
        error_at(u.where, std::move(what));
    }
    unknown.clear();
    std::stable_sort(errors.begin(), errors.end(), [](const Entry& a, const Entry& b) {
        return std::tie(a.line, a.column) < std::tie(b.line, b.column);
    });
    std::vector<std::string> out;
    for (auto& e : errors) out.push_back(std::move(e.text));
    return out;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        cur[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t subst = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
            cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, subst});
            // Transposition ("cooldwon" -> "cooldown") counts as one edit.
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                cur[j] = std::min(cur[j], prev[j - 1]);
        }
        std::swap(prev, cur);
    }
    return prev[b.size()];
}

std::string closest(std::string_view word, const std::vector<std::string>& candidates) {
    std::string best;
    std::size_t best_d = std::max<std::size_t>(2, word.size() / 3) + 1;
    for (const auto& c : candidates) {
        const std::size_t d = edit_distance(word, c);
        if (d < best_d) {
            best_d = d;
            best = c;
        }
    }
    return best;
}

std::string_view type_name(const toml::node& node) {
    switch (node.type()) {
        case toml::node_type::table: return "table";
        case toml::node_type::array: return "array";
        case toml::node_type::string: return "string";
        case toml::node_type::integer: return "integer";
        case toml::node_type::floating_point: return "float";
        case toml::node_type::boolean: return "boolean";
        case toml::node_type::date: return "date";
        case toml::node_type::time: return "time";
        case toml::node_type::date_time: return "date-time";
        default: return "value";
    }
}

std::string describe(const toml::node& node) {
    if (const auto* s = node.as_string()) {
        std::string v = s->get();
        if (v.size() > 40) v = truncate_utf8(v, 40, "...");
        return fmt::format("\"{}\"", escape_control(v));
    }
    if (const auto* i = node.as_integer()) return fmt::format("{}", i->get());
    if (const auto* f = node.as_floating_point()) return fmt::format("{}", f->get());
    if (const auto* b = node.as_boolean()) return b->get() ? "true" : "false";
    return std::string(type_name(node));
}

TableReader::TableReader(const toml::table& table, std::string path, std::string heading,
                         Diagnostics& diag)
    : m_table(table), m_path(std::move(path)), m_heading(std::move(heading)), m_diag(diag) {}

std::string TableReader::key_path(std::string_view key) const {
    return m_path.empty() ? std::string(key) : fmt::format("{}.{}", m_path, key);
}

const toml::source_region& TableReader::where(std::string_view key) const {
    if (const auto* n = m_table.get(key)) return n->source();
    return m_table.source();
}

void TableReader::error(std::string_view key, std::string message) {
    m_diag.error_at(where(key), fmt::format("{}: {}", key_path(key), message));
}

void TableReader::warning(std::string_view key, std::string message) {
    m_diag.warnings.push_back(
        fmt::format("{}: {}: {}", m_diag.position(where(key)), key_path(key), message));
}

const toml::node* TableReader::node(std::string_view key) {
    m_known.emplace_back(key);
    return m_table.get(key);
}

std::optional<bool> TableReader::boolean(std::string_view key) {
    const auto* n = node(key);
    if (n == nullptr) return std::nullopt;
    if (const auto* b = n->as_boolean()) return b->get();
    error(key, fmt::format("expected true or false, found {} {}", type_name(*n), describe(*n)));
    return std::nullopt;
}

std::optional<std::int64_t> TableReader::integer(std::string_view key, std::int64_t min,
                                                 std::int64_t max) {
    const auto* n = node(key);
    if (n == nullptr) return std::nullopt;
    const auto* i = n->as_integer();
    if (i == nullptr) {
        error(key, fmt::format("expected a whole number, found {} {}", type_name(*n), describe(*n)));
        return std::nullopt;
    }
    const std::int64_t v = i->get();
    if (v < min || v > max) {
        error(key, fmt::format("{} is out of range; use a value from {} to {}", v, min, max));
        return std::nullopt;
    }
    return v;
}

std::optional<double> TableReader::number(std::string_view key) {
    const auto* n = node(key);
    if (n == nullptr) return std::nullopt;
    double v = 0;
    if (const auto* i = n->as_integer()) {
        v = static_cast<double>(i->get());
    } else if (const auto* f = n->as_floating_point()) {
        v = f->get();
    } else {
        std::string hint;
        if (n->is_string()) hint = "; write the number without quotes or units";
        error(key, fmt::format("expected a number, found {} {}{}", type_name(*n), describe(*n), hint));
        return std::nullopt;
    }
    if (!std::isfinite(v)) {
        error(key, fmt::format("{} is not a finite number; use a real threshold", describe(*n)));
        return std::nullopt;
    }
    return v;
}

std::optional<std::string> TableReader::string(std::string_view key, bool allow_empty) {
    const auto* n = node(key);
    if (n == nullptr) return std::nullopt;
    const auto* s = n->as_string();
    if (s == nullptr) {
        error(key, fmt::format("expected a string, found {} {}", type_name(*n), describe(*n)));
        return std::nullopt;
    }
    if (s->get().size() > k_max_string_bytes) {
        error(key, fmt::format("the string is longer than the limit of {} bytes", k_max_string_bytes));
        return std::nullopt;
    }
    if (!allow_empty && s->get().empty()) {
        error(key, "must not be empty; remove the key to use the default");
        return std::nullopt;
    }
    return s->get();
}

std::optional<std::chrono::milliseconds> TableReader::duration(std::string_view key,
                                                               std::chrono::milliseconds min,
                                                               std::chrono::milliseconds max) {
    const auto* n = node(key);
    if (n == nullptr) return std::nullopt;
    const auto* s = n->as_string();
    if (s == nullptr) {
        std::string hint;
        if (const auto* i = n->as_integer())
            hint = fmt::format("; add a unit, e.g. \"{}s\"", i->get());
        error(key, fmt::format("expected a duration string such as \"60s\", found {} {}{}",
                               type_name(*n), describe(*n), hint));
        return std::nullopt;
    }
    auto d = parse_duration(s->get());
    if (!d) {
        error(key, d.error().message);
        return std::nullopt;
    }
    if (*d < min) {
        error(key, fmt::format("\"{}\" is below the minimum of {}", s->get(), format_duration(min)));
        return std::nullopt;
    }
    if (*d > max) {
        error(key, fmt::format("\"{}\" is above the maximum of {}", s->get(), format_duration(max)));
        return std::nullopt;
    }
    return *d;
}

std::optional<std::uint64_t> TableReader::size(std::string_view key) {
    const auto* n = node(key);
    if (n == nullptr) return std::nullopt;
    if (const auto* i = n->as_integer()) {
        if (i->get() < 0) {
            error(key, fmt::format("{} is negative; sizes are 0 or more", i->get()));
            return std::nullopt;
        }
        return static_cast<std::uint64_t>(i->get());
    }
    const auto* s = n->as_string();
    if (s == nullptr) {
        error(key, fmt::format("expected a size such as \"512m\" or \"2g\", found {} {}",
                               type_name(*n), describe(*n)));
        return std::nullopt;
    }
    auto v = parse_size(s->get());
    if (!v) {
        error(key, v.error().message);
        return std::nullopt;
    }
    return *v;
}

std::optional<std::vector<std::string>> TableReader::strings(std::string_view key,
                                                             bool allow_empty_items) {
    const auto* n = node(key);
    if (n == nullptr) return std::nullopt;
    const auto* arr = n->as_array();
    if (arr == nullptr) {
        std::string hint;
        if (const auto* s = n->as_string()) hint = fmt::format("; write [\"{}\"]", s->get());
        error(key, fmt::format("expected an array of strings, found {} {}{}", type_name(*n),
                               describe(*n), hint));
        return std::nullopt;
    }
    std::vector<std::string> out;
    for (const auto& item : *arr) {
        const auto* s = item.as_string();
        if (s == nullptr) {
            m_diag.error_at(item.source(),
                            fmt::format("{}: expected strings in the array, found {} {}",
                                        key_path(key), type_name(item), describe(item)));
            return std::nullopt;
        }
        if (!allow_empty_items && s->get().empty()) {
            m_diag.error_at(item.source(), fmt::format("{}: empty string in the array", key_path(key)));
            return std::nullopt;
        }
        out.push_back(s->get());
    }
    return out;
}

const toml::table* TableReader::table(std::string_view key) {
    const auto* n = node(key);
    if (n == nullptr) return nullptr;
    if (const auto* t = n->as_table()) return t;
    error(key, fmt::format("expected a table, found {} {}", type_name(*n), describe(*n)));
    return nullptr;
}

const toml::array* TableReader::array_of_tables(std::string_view key) {
    const auto* n = node(key);
    if (n == nullptr) return nullptr;
    const auto* arr = n->as_array();
    if (arr == nullptr || !arr->is_array_of_tables()) {
        error(key, fmt::format("expected [[{}]] tables, found {}", key, type_name(*n)));
        return nullptr;
    }
    return arr;
}

SecretRef TableReader::secret(std::string_view base, bool allow_inline) {
    const std::string inline_key(base);
    const std::string file_key = inline_key + "_file";
    const std::string env_key = inline_key + "_env";
    const std::string cred_key = inline_key + "_credential";
    SecretRef ref;
    int given = 0;
    std::string last_key;

    if (const auto* n = node(inline_key)) {
        ++given;
        last_key = inline_key;
        if (!allow_inline) {
            error(inline_key, fmt::format("a {} must not be written in the configuration; use {}, {} "
                                          "or {}",
                                          inline_key, file_key, cred_key, env_key));
        } else if (const auto* s = n->as_string(); s != nullptr && !s->get().empty()) {
            ref.source = SecretRef::Source::inline_value;
            ref.value = Secret(s->get());
        } else {
            error(inline_key, fmt::format("expected a non-empty string, found {}", type_name(*n)));
        }
    }
    if (auto path = string(file_key)) {
        ++given;
        last_key = file_key;
        auto v = read_secret_file(*path);
        if (!v) {
            error(file_key, v.error().message);
        } else {
            ref.source = SecretRef::Source::file;
            ref.ref = *path;
            ref.value = std::move(*v);
        }
    }
    if (auto var = string(env_key)) {
        ++given;
        last_key = env_key;
        auto v = read_secret_env(*var);
        if (!v) {
            error(env_key, v.error().message);
        } else {
            ref.source = SecretRef::Source::env;
            ref.ref = *var;
            ref.value = std::move(*v);
            warning(env_key,
                    fmt::format("reading a secret from environment variable {}: systemd shows a "
                                "unit's Environment= to unprivileged clients; prefer "
                                "LoadCredential= with {}",
                                *var, cred_key));
        }
    }
    if (auto name = string(cred_key)) {
        ++given;
        last_key = cred_key;
        const char* dir = std::getenv("CREDENTIALS_DIRECTORY");
        if (dir == nullptr || *dir == '\0') {
            error(cred_key, fmt::format("systemd credential \"{}\" needs $CREDENTIALS_DIRECTORY; "
                                        "run under a unit with LoadCredential={}:<file>",
                                        *name, *name));
        } else if (name->find('/') != std::string::npos) {
            error(cred_key, "a credential name must not contain '/'");
        } else {
            auto v = read_secret_file(std::filesystem::path(dir) / *name);
            if (!v) {
                error(cred_key, v.error().message);
            } else {
                ref.source = SecretRef::Source::credential;
                ref.ref = *name;
                ref.value = std::move(*v);
            }
        }
    }
    if (given > 1)
        error(last_key, fmt::format("give only one of {}, {}, {} and {}", inline_key, file_key,
                                    env_key, cred_key));
    return ref;
}

void TableReader::finish() {
    for (const auto& known : m_known) {
        m_diag.key_home.try_emplace(known, m_heading);
        m_diag.known[m_heading].insert(known);
    }
    for (const auto& [k, v] : m_table) {
        const std::string_view key = k.str();
        if (std::find(m_known.begin(), m_known.end(), key) != m_known.end()) continue;
        Diagnostics::UnknownKey u;
        u.where = k.source();
        u.key = escape_control(key);
        u.heading = m_heading;
        u.suggestion = closest(key, m_known);
        u.is_table = v.is_table() && !v.as_table()->is_inline();
        u.is_array_of_tables = v.is_array_of_tables();
        m_diag.unknown.push_back(std::move(u));
    }
}

}  // namespace boxmon::detail
