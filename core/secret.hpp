#pragma once
// Secret: a value that must never be printed. Every formatter, stream and JSON conversion
// shows "<secret>"; only reveal() hands out the value, at the one place that sends it.

#include <filesystem>
#include <ostream>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "core/result.hpp"

namespace boxmon {

inline constexpr std::string_view k_secret_mask = "<secret>";

class Secret {
public:
    Secret() = default;
    explicit Secret(std::string value) : m_value(std::move(value)) {}
    Secret(const Secret&) = default;
    Secret(Secret&&) noexcept = default;
    Secret& operator=(const Secret&) = default;
    Secret& operator=(Secret&&) noexcept = default;
    ~Secret();

    // The value itself: call only where it is handed to its receiver.
    const std::string& reveal() const { return m_value; }
    bool empty() const { return m_value.empty(); }
    bool operator==(const Secret& other) const { return m_value == other.m_value; }

    friend std::ostream& operator<<(std::ostream& out, const Secret&) {
        return out << k_secret_mask;
    }

private:
    std::string m_value;
};

// Reads a secret from a file the way ssh and msmtp do: the file must be a regular file that
// only its owner can read (mode 0600 or 0400) and owned by root or the user running boxmon;
// otherwise fails (kind config) with the path, mode, owner and the command that fixes it.
// Permissions are checked on the opened descriptor. Trailing newlines are removed.
Result<Secret> read_secret_file(const std::filesystem::path& path);

// Reads a secret from the environment variable `name`; fails (kind config) when it is unset
// or empty.
Result<Secret> read_secret_env(std::string_view name);

// Returns the URL reduced to scheme://host[:port], so paths, queries and user info (where
// webhook tokens and passwords live) never reach a message. Text that is not a URL
// becomes "<redacted>".
std::string redact_url(std::string_view url);

}  // namespace boxmon

template <>
struct fmt::formatter<boxmon::Secret> : fmt::formatter<std::string_view> {
    template <class Ctx>
    auto format(const boxmon::Secret&, Ctx& ctx) const {
        return fmt::formatter<std::string_view>::format(boxmon::k_secret_mask, ctx);
    }
};
