#pragma once
// Presentation of a sample: the human table of `boxmon sample --print` and the JSON of
// `--json` (also used by status and the HTTP endpoint).

#include <string>

#include <nlohmann/json.hpp>

#include "core/sample.hpp"

namespace boxmon::agent {

// {"ts": ISO 8601, "points": [{"series", "name", "labels", "value"}], "collectors": [...]}.
nlohmann::json sample_to_json(const Sample& sample);

// Aligned columns SERIES / VALUE (with units), sorted by series; failing collectors listed last.
std::string render_sample_table(const Sample& sample);

}  // namespace boxmon::agent
