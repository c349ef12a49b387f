#pragma once
// Redaction of secrets in text that leaves the host (log tails in alerts and reports, receivers'
// error replies): built-in patterns (Authorization headers, bearer tokens, password=..., API keys
// such as sk-..., AWS keys, private key blocks, JWTs, URL user info) plus configured ones.
// Matches become [REDACTED]. Lines are cut to a cap before any pattern runs, so cost is bounded.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace boxmon {

// Checks that `pattern` compiles as a POSIX extended regular expression.
Result<void> check_redact_pattern(const std::string& pattern);

class Redactor {
public:
    // The built-in patterns only.
    Redactor();
    ~Redactor();
    Redactor(Redactor&&) noexcept;
    Redactor& operator=(Redactor&&) noexcept;

    // Built-in patterns plus `extra` (POSIX extended regular expressions, case-sensitive);
    // fails naming the first bad pattern.
    static Result<Redactor> with_patterns(const std::vector<std::string>& extra);

    // The line with every secret replaced by [REDACTED].
    std::string redact(std::string_view line) const;

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

}  // namespace boxmon
