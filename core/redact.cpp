#include "core/redact.hpp"

#include <regex.h>

#include <fmt/format.h>

namespace boxmon {

namespace {

constexpr std::string_view k_mask = "[REDACTED]";

// A compiled pattern. Text matched by sub-expression `keep` (the "password=" of password=x) is
// kept; the rest of the match is masked. keep = 0 masks the whole match.
struct Pattern {
    regex_t re{};
    int keep = 0;       // sub-expression kept at the start of the match
    int keep_tail = 0;  // bytes kept at the end of the match (the "@" after URL user info)
    bool compiled = false;

    Pattern() = default;
    Pattern(const Pattern&) = delete;
    Pattern& operator=(const Pattern&) = delete;
    ~Pattern() {
        if (compiled) ::regfree(&re);
    }
};

struct Builtin {
    const char* regex;
    int keep;
    int keep_tail = 0;
};

// POSIX extended syntax; matched case-insensitively. Kept small and anchored on a keyword or a
// distinctive prefix, so a line costs a few linear scans.
constexpr Builtin k_builtins[] = {
    // Authorization: Basic xxx / Proxy-Authorization: Bearer xxx (the header's whole value)
    {"((proxy-)?authorization[\"']?[[:space:]]*[:=][[:space:]]*)[^\r\n]+", 1},
    // Bearer tokens anywhere
    {"(bearer[[:space:]]+)[a-z0-9._~+/=-]+", 1},
    // key=value and "key": "value" for the usual secret names
    {"((password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|secret[_-]?key|client[_-]?secret|auth)"
     "[\"']?[[:space:]]*[:=][[:space:]]*)(\"[^\"]*\"|'[^']*'|[^[:space:]&,;]+)",
     1},
    // OpenAI-style and similar API keys
    {"sk-[a-z0-9_-]{16,}", 0},
    // AWS access key ids
    {"(AKIA|ASIA)[A-Z0-9]{16}", 0},
    // JSON Web Tokens
    {"eyJ[a-z0-9_-]{5,}\\.[a-z0-9_-]{5,}\\.[a-z0-9_-]{5,}", 0},
    // private key blocks (the header line and whatever follows on it)
    {"-----BEGIN [A-Z ]*PRIVATE KEY-----.*", 0},
    // user:password@ in URLs
    {"([a-z][a-z0-9+.-]*://)[^/[:space:]:@]+:[^/[:space:]@]+@", 1, 1},
};

std::string regex_error_text(int code, const regex_t* re) {
    char buf[256];
    ::regerror(code, re, buf, sizeof buf);
    return buf;
}

Result<void> compile(Pattern& p, const std::string& text, int flags) {
    const int rc = ::regcomp(&p.re, text.c_str(), REG_EXTENDED | flags);
    if (rc != 0) {
        auto why = regex_error_text(rc, &p.re);
        return fail_as(ErrorKind::config, "pattern \"{}\" is not a valid regular expression: {}",
                       text.substr(0, 60), why);
    }
    p.compiled = true;
    return {};
}

}  // namespace

struct Redactor::Impl {
    std::vector<std::unique_ptr<Pattern>> patterns;
};

Redactor::Redactor() : m_impl(std::make_unique<Impl>()) {
    for (const auto& b : k_builtins) {
        auto p = std::make_unique<Pattern>();
        p->keep = b.keep;
        p->keep_tail = b.keep_tail;
        // The built-in patterns are constants; a failure here is a programming error that the
        // unit tests catch, so it is skipped rather than thrown.
        if (compile(*p, b.regex, REG_ICASE)) m_impl->patterns.push_back(std::move(p));
    }
}

Redactor::~Redactor() = default;
Redactor::Redactor(Redactor&&) noexcept = default;
Redactor& Redactor::operator=(Redactor&&) noexcept = default;

Result<void> check_redact_pattern(const std::string& pattern) {
    Pattern p;
    return compile(p, pattern, 0);
}

Result<Redactor> Redactor::with_patterns(const std::vector<std::string>& extra) {
    Redactor r;
    for (const auto& text : extra) {
        auto p = std::make_unique<Pattern>();
        BOXMON_CHECK(compile(*p, text, 0));
        r.m_impl->patterns.push_back(std::move(p));
    }
    return r;
}

std::string Redactor::redact(std::string_view line) const {
    std::string out(line);
    if (out.find('\0') != std::string::npos) {
        // regexec stops at NUL; no secret may hide behind one.
        for (auto& c : out)
            if (c == '\0') c = ' ';
    }
    for (const auto& p : m_impl->patterns) {
        std::size_t pos = 0;
        while (pos <= out.size()) {
            regmatch_t m[2]{};
            const int flags = pos > 0 ? REG_NOTBOL : 0;
            if (::regexec(&p->re, out.c_str() + pos, 2, m, flags) != 0) break;
            std::size_t from = pos + static_cast<std::size_t>(m[0].rm_so);
            const std::size_t end = pos + static_cast<std::size_t>(m[0].rm_eo);
            const std::size_t to = end - static_cast<std::size_t>(p->keep_tail);
            if (p->keep > 0 && m[1].rm_so >= 0) from = pos + static_cast<std::size_t>(m[1].rm_eo);
            if (to <= from) {  // empty match (a configured pattern such as "x*"): step over
                pos = end + 1;
                continue;
            }
            out.replace(from, to - from, k_mask);
            pos = from + k_mask.size();
        }
    }
    return out;
}

}  // namespace boxmon
