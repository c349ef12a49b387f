#pragma once
// Line and field scanning shared by the /proc parsers: no copies, no allocation beyond the
// caller's reused vector.

#include <string_view>
#include <vector>

namespace boxmon::collector::kernel {

// Walks a text line by line. The last line need not end with '\n'.
class LineReader {
public:
    explicit LineReader(std::string_view text) : m_rest(text) {}

    // The next line without its '\n'; false at the end of the text.
    bool next(std::string_view& line) {
        if (m_rest.empty()) return false;
        const auto nl = m_rest.find('\n');
        line = m_rest.substr(0, nl);
        m_rest = nl == std::string_view::npos ? std::string_view{} : m_rest.substr(nl + 1);
        ++m_number;
        return true;
    }
    // 1-based number of the line `next` returned last.
    int number() const { return m_number; }

private:
    std::string_view m_rest;
    int m_number = 0;
};

inline bool is_field_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

// Splits a line on runs of blanks into `out` (cleared first; its capacity is reused line after
// line).
inline void split_fields(std::string_view line, std::vector<std::string_view>& out) {
    out.clear();
    std::size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && is_field_space(line[i])) ++i;
        const std::size_t start = i;
        while (i < line.size() && !is_field_space(line[i])) ++i;
        if (i > start) out.push_back(line.substr(start, i - start));
    }
}

}  // namespace boxmon::collector::kernel
