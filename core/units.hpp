#pragma once
// Durations ("90s", "30m", "1h30m", "500ms", "7d") and sizes ("512m", "2g", "1.5GiB") as
// they appear in configuration and on the command line, and their display forms.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace boxmon {

// Largest duration accepted anywhere (100 years): beyond it arithmetic would overflow.
inline constexpr std::chrono::milliseconds k_max_duration{100LL * 365 * 24 * 3600 * 1000};

// Parses a duration: one or more <number><unit> groups, units ms s m h d w y (y = 365 d).
// Fails (kind usage) on a missing unit, a negative value, or more than 100 years.
Result<std::chrono::milliseconds> parse_duration(std::string_view text);

// Parses a size in bytes: a number with an optional unit, k m g t and KiB MiB GiB TiB being
// powers of 1024, KB MB GB TB powers of 1000. Fails (kind usage) on bad text or overflow.
Result<std::uint64_t> parse_size(std::string_view text);

// "1h30m", "90s" -> "1m30s", "250ms"; zero is "0s".
std::string format_duration(std::chrono::milliseconds d);
// "512 B", "1.5 KiB", "2.0 GiB".
std::string format_bytes(double bytes);

}  // namespace boxmon
