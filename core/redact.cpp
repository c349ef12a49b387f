#include "core/redact.hpp"

#include <regex.h>

#include <string>
#include <vector>

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
    std::vector<std::string> anchors;  // empty: a configured pattern, searched everywhere
    bool scheme_before = false;
    bool compiled = false;

    Pattern() = default;
    Pattern(const Pattern&) = delete;
    Pattern& operator=(const Pattern&) = delete;
    ~Pattern() {
        if (compiled) ::regfree(&re);
    }
};

struct Builtin {
    const char* regex;      // anchored at a hit of one of `anchors`
    const char* anchors;    // lower-case literals, '|'-separated, where a match can begin
    int keep;
    int keep_tail = 0;
    bool scheme_before = false;  // the match begins at the URL scheme before the anchor "://"
};

// POSIX extended syntax, matched case-insensitively, each anchored ("^") and tried only where
// one of its literal anchors occurs: a line costs one lower-cased copy, a few substring searches
// and one short match per hit, never a regex scan from every position (glibc's regexec with
// sub-matches is quadratic on long lines).
constexpr Builtin k_builtins[] = {
    // Authorization: Basic xxx / Proxy-Authorization: Bearer xxx (the header's whole value)
    {"^(authorization[\"']?[[:space:]]*[:=][[:space:]]*)[^\r\n]+", "authorization", 1},
    // Bearer tokens anywhere
    {"^(bearer[[:space:]]+)[a-z0-9._~+/=-]+", "bearer", 1},
    // key=value and "key": "value" for the usual secret names
    {"^((password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|secret[_-]?key|client[_-]?secret|auth)"
     "[\"']?[[:space:]]*[:=][[:space:]]*)(\"[^\"]*\"|'[^']*'|[^[:space:]&,;]+)",
     "pass|pwd|secret|token|api|access|client|auth", 1},
    // OpenAI-style and similar API keys
    {"^sk-[a-z0-9_-]{16,}", "sk-", 0},
    // AWS access key ids
    {"^(AKIA|ASIA)[A-Z0-9]{16}", "akia|asia", 0},
    // JSON Web Tokens
    {"^eyJ[a-z0-9_-]{5,}\\.[a-z0-9_-]{5,}\\.[a-z0-9_-]{5,}", "eyj", 0},
    // private key blocks (the header line and whatever follows on it)
    {"^-----BEGIN [A-Z ]*PRIVATE KEY-----.*", "-----begin ", 0},
    // user:password@ in URLs
    {"^([a-z][a-z0-9+.-]*://)[^/[:space:]:@]+:[^/[:space:]@]+@", "://", 1, 1, true},
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
        p->scheme_before = b.scheme_before;
        for (std::string_view a = b.anchors; !a.empty();) {
            const auto bar = a.find('|');
            p->anchors.emplace_back(a.substr(0, bar));
            a = bar == std::string_view::npos ? std::string_view() : a.substr(bar + 1);
        }
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

namespace {

bool is_scheme_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '.' || c == '-';
}

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// Replaces [from, to) of both the line and its lower-case twin by the mask.
void mask(std::string& out, std::string& low, std::size_t from, std::size_t to) {
    out.replace(from, to - from, k_mask);
    low.replace(from, to - from, "[redacted]");
}

// A configured pattern: searched from every position, as the operator wrote it.
void apply_unanchored(const Pattern& p, std::string& out, std::string& low) {
    std::size_t pos = 0;
    while (pos <= out.size()) {
        regmatch_t m[2]{};
        const int flags = pos > 0 ? REG_NOTBOL : 0;
        if (::regexec(&p.re, out.c_str() + pos, 2, m, flags) != 0) break;
        const std::size_t from = pos + static_cast<std::size_t>(m[0].rm_so);
        const std::size_t to = pos + static_cast<std::size_t>(m[0].rm_eo);
        if (to <= from) {  // an empty match (a pattern such as "x*"): step over
            pos = to + 1;
            continue;
        }
        mask(out, low, from, to);
        pos = from + k_mask.size();
    }
}

// A built-in pattern: tried only where one of its anchors occurs.
void apply_anchored(const Pattern& p, std::string& out, std::string& low) {
    for (const auto& anchor : p.anchors) {
        std::size_t hit = 0;
        while ((hit = low.find(anchor, hit)) != std::string::npos) {
            std::size_t start = hit;
            if (p.scheme_before) {
                while (start > 0 && is_scheme_char(low[start - 1])) --start;
                if (start == hit) {
                    hit += anchor.size();
                    continue;
                }
            }
            regmatch_t m[2]{};
            if (::regexec(&p.re, out.c_str() + start, 2, m, 0) != 0 || m[0].rm_so != 0) {
                hit += anchor.size();
                continue;
            }
            std::size_t from = start;
            const std::size_t end = start + static_cast<std::size_t>(m[0].rm_eo);
            const std::size_t to = end - static_cast<std::size_t>(p.keep_tail);
            if (p.keep > 0 && m[1].rm_so >= 0) from = start + static_cast<std::size_t>(m[1].rm_eo);
            if (to <= from) {
                hit += anchor.size();
                continue;
            }
            mask(out, low, from, to);
            hit = from + k_mask.size();
        }
    }
}

}  // namespace

std::string Redactor::redact(std::string_view line) const {
    std::string out(line);
    // regexec stops at NUL; no secret may hide behind one.
    for (auto& c : out)
        if (c == '\0') c = ' ';
    std::string low(out.size(), ' ');
    for (std::size_t i = 0; i < out.size(); ++i) low[i] = lower(out[i]);
    for (const auto& p : m_impl->patterns) {
        if (p->anchors.empty()) apply_unanchored(*p, out, low);
        else apply_anchored(*p, out, low);
    }
    return out;
}

}  // namespace boxmon
