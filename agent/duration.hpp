#pragma once
// Durations as users write them in flags and the config file: "500ms", "30s", "1m30s", "2h".
// Units: ns, us (or µs), ms, s, m, h. A bare "0" is zero. Negative values are rejected.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace vigil::agent {

/// Parses a Go-style duration; nullopt on any syntax error, unknown unit or overflow.
std::optional<std::chrono::nanoseconds> parse_duration(std::string_view text);
/// The shortest exact text for `d` ("1m30s", "500ms", "0s").
std::string format_duration(std::chrono::nanoseconds d);

}  // namespace vigil::agent
