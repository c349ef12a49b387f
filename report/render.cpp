// Writing a Document as text (the report file), markdown or JSON.
#include <algorithm>
#include <cctype>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "report/document.hpp"

namespace boxmon::report {

namespace detail {

namespace {

std::string pad(const std::string& s, std::size_t width) {
    const std::size_t w = display_width(s);
    return w >= width ? s : s + std::string(width - w, ' ');
}

std::string rstrip(std::string s) {
    while (!s.empty() && s.back() == ' ') s.pop_back();
    return s;
}

void text_fields(std::string& out, const Fields& f) {
    std::size_t width = 0;
    for (const auto& [k, v] : f.items) width = std::max(width, display_width(k));
    for (const auto& [k, v] : f.items) out += rstrip(fmt::format("  {}  {}", pad(k, width), v)) + "\n";
}

void text_table(std::string& out, const Table& t) {
    std::vector<std::size_t> widths(t.header.size(), 0);
    for (std::size_t c = 0; c < t.header.size(); ++c) widths[c] = display_width(t.header[c]);
    for (const auto& row : t.rows)
        for (std::size_t c = 0; c < row.size() && c < widths.size(); ++c)
            widths[c] = std::max(widths[c], display_width(row[c]));
    auto line = [&](const std::vector<std::string>& cells) {
        std::string l = " ";
        for (std::size_t c = 0; c < cells.size() && c < widths.size(); ++c) l += " " + pad(cells[c], widths[c]) + " ";
        out += rstrip(l) + "\n";
    };
    line(t.header);
    std::vector<std::string> rule;
    for (auto w : widths) rule.push_back(std::string(w, '-'));
    line(rule);
    for (const auto& row : t.rows) line(row);
}

}  // namespace

std::string write_text(const Document& doc) {
    std::string out = doc.title + "\n" + std::string(display_width(doc.title), '=') + "\n";
    for (const auto& [k, v] : doc.header) out += fmt::format("{}: {}\n", k, v);
    for (const auto& s : doc.sections) {
        out += fmt::format("\n== {} ==\n", s.title);
        if (!s.unavailable.empty()) {
            out += fmt::format("  unavailable: {}\n", s.unavailable);
            continue;
        }
        bool first = true;
        for (const auto& b : s.blocks) {
            if (!first) out += "\n";
            first = false;
            if (const auto* f = std::get_if<Fields>(&b)) text_fields(out, *f);
            if (const auto* t = std::get_if<Table>(&b)) text_table(out, *t);
            if (const auto* n = std::get_if<Note>(&b)) out += "  " + n->text + "\n";
            if (const auto* p = std::get_if<Preformatted>(&b)) {
                if (!p->caption.empty()) out += "  " + p->caption + ":\n";
                for (const auto& l : p->lines) out += rstrip("    | " + l) + "\n";
            }
        }
    }
    return out;
}

namespace {

std::string md_cell(const std::string& s) {
    std::string out;
    for (char c : s) {
        if (c == '|' || c == '\\' || c == '`' || c == '*' || c == '_' || c == '<' || c == '[') out += '\\';
        out += c;
    }
    return out.empty() ? std::string(" ") : out;
}

void md_table(std::string& out, const std::vector<std::string>& header,
              const std::vector<std::vector<std::string>>& rows) {
    out += "|";
    for (const auto& h : header) out += " " + md_cell(h) + " |";
    out += "\n|";
    for (std::size_t i = 0; i < header.size(); ++i) out += " --- |";
    out += "\n";
    for (const auto& row : rows) {
        out += "|";
        for (std::size_t c = 0; c < header.size(); ++c) out += " " + md_cell(c < row.size() ? row[c] : "") + " |";
        out += "\n";
    }
}

}  // namespace

std::string write_markdown(const Document& doc) {
    std::string out = "# " + md_cell(doc.title) + "\n\n";
    for (const auto& [k, v] : doc.header) out += fmt::format("- **{}**: {}\n", md_cell(k), md_cell(v));
    for (const auto& s : doc.sections) {
        out += fmt::format("\n## {}\n\n", md_cell(s.title));
        if (!s.unavailable.empty()) {
            out += fmt::format("_unavailable: {}_\n", md_cell(s.unavailable));
            continue;
        }
        for (const auto& b : s.blocks) {
            if (const auto* f = std::get_if<Fields>(&b)) {
                std::vector<std::vector<std::string>> rows;
                for (const auto& [k, v] : f->items) rows.push_back({k, v});
                md_table(out, {"", ""}, rows);
            }
            if (const auto* t = std::get_if<Table>(&b)) md_table(out, t->header, t->rows);
            if (const auto* n = std::get_if<Note>(&b)) out += md_cell(n->text) + "\n";
            if (const auto* p = std::get_if<Preformatted>(&b)) {
                if (!p->caption.empty()) out += md_cell(p->caption) + ":\n\n";
                // An indented code block: no fence that a line of outside text could close.
                for (const auto& l : p->lines) out += "    " + l + "\n";
            }
            out += "\n";
        }
    }
    return out;
}

std::string write_json(const Document& doc) {
    // Ordered: keys appear as the report shows them (title, sections in order, id before blocks).
    using json = nlohmann::ordered_json;
    json j;
    j["title"] = doc.title;
    for (const auto& [k, v] : doc.header) {
        std::string key = k;
        std::transform(key.begin(), key.end(), key.begin(), [](unsigned char c) { return std::tolower(c); });
        j[key] = v;
    }
    json sections = json::array();
    for (const auto& s : doc.sections) {
        json js{{"id", s.id}, {"title", s.title}};
        if (!s.unavailable.empty()) js["unavailable"] = s.unavailable;
        json blocks = json::array();
        for (const auto& b : s.blocks) {
            if (const auto* f = std::get_if<Fields>(&b)) {
                json o = json::object();
                for (const auto& [k, v] : f->items) o[k] = v;
                blocks.push_back({{"type", "fields"}, {"fields", o}});
            }
            if (const auto* t = std::get_if<Table>(&b)) {
                json rows = json::array();
                for (const auto& row : t->rows) {
                    json r = json::object();
                    for (std::size_t c = 0; c < t->header.size() && c < row.size(); ++c) r[t->header[c]] = row[c];
                    rows.push_back(r);
                }
                blocks.push_back({{"type", "table"}, {"columns", t->header}, {"rows", rows}});
            }
            if (const auto* n = std::get_if<Note>(&b)) blocks.push_back({{"type", "note"}, {"text", n->text}});
            if (const auto* p = std::get_if<Preformatted>(&b))
                blocks.push_back({{"type", "text"}, {"caption", p->caption}, {"lines", p->lines}});
        }
        js["blocks"] = blocks;
        sections.push_back(js);
    }
    j["sections"] = sections;
    // Every string is already valid UTF-8; `replace` keeps dump() from throwing regardless.
    return j.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace detail

std::string render(const ReportInput& input, const ReportOptions& options, Format format) {
    const detail::Document doc = detail::build_document(input, options);
    switch (format) {
        case Format::text: return detail::write_text(doc);
        case Format::markdown: return detail::write_markdown(doc);
        case Format::json: return detail::write_json(doc);
    }
    return detail::write_text(doc);
}

}  // namespace boxmon::report
