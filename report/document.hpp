#pragma once
// The report as a format-neutral document (internal to report/): sections of fields, tables,
// preformatted text and notes. Sections are built from ReportInput (sections.cpp) and written as
// text, markdown or JSON (render.cpp). Every string in a Document is already clean: valid UTF-8,
// no control characters.

#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "report/report.hpp"

namespace boxmon::report::detail {

struct Fields {
    std::vector<std::pair<std::string, std::string>> items;
};
struct Table {
    std::vector<std::string> header;
    std::vector<std::vector<std::string>> rows;
};
struct Preformatted {
    std::string caption;
    std::vector<std::string> lines;
};
struct Note {
    std::string text;
};
using Block = std::variant<Fields, Table, Preformatted, Note>;

struct Section {
    std::string id;           // stable key for JSON: "host", "metrics" ...
    std::string title;
    std::string unavailable;  // non-empty: why the section has no content
    std::vector<Block> blocks;
};

struct Document {
    std::string title;
    std::vector<std::pair<std::string, std::string>> header;  // generated, window ...
    std::vector<Section> sections;
};

// One cell or field value: valid UTF-8, control characters escaped, at most `max_bytes`.
std::string clean(std::string_view text, std::size_t max_bytes = 1024);
// Multi-line outside text as clean lines (tabs expanded), at most `max_lines` (then a marker).
std::vector<std::string> clean_lines(std::string_view text, std::size_t max_lines);
// Columns a clean string takes on a terminal (code points; every one counted as one column).
std::size_t display_width(std::string_view text);

Document build_document(const ReportInput& input, const ReportOptions& options);
std::string write_text(const Document& doc);
std::string write_markdown(const Document& doc);
std::string write_json(const Document& doc);

}  // namespace boxmon::report::detail
