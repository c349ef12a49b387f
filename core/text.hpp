#pragma once
// Text hygiene shared by everything that shows outside data (log lines, process names, mount
// points, receivers' replies): valid UTF-8, no control characters reaching a terminal or a
// header, truncation at a code-point boundary.

#include <cstddef>
#include <string>
#include <string_view>

namespace boxmon {

// The text with every invalid UTF-8 sequence replaced by U+FFFD.
std::string sanitize_utf8(std::string_view text);

// The text with control characters (C0, DEL, and the C1 range U+0080-U+009F) written as
// escapes: \n \r \t \xNN. Safe to print on a terminal or in a one-line message.
std::string escape_control(std::string_view text);

// Outside text made safe for a terminal and for one line: sanitize_utf8, then escape_control.
// Everything a human-readable output prints of outside data (series labels: mount points,
// interface and GPU names; receivers' replies; collector errors) goes through this.
std::string printable(std::string_view text);

// At most `max_bytes` bytes: if the text is longer it is cut at a UTF-8 code-point boundary and
// `marker` appended (the result, marker included, fits in max_bytes).
std::string truncate_utf8(std::string_view text, std::size_t max_bytes, std::string_view marker = "…");

// True if `text` is valid UTF-8.
bool is_valid_utf8(std::string_view text);

}  // namespace boxmon
