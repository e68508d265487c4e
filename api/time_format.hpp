#pragma once
// Wall-clock text of the API: RFC 3339 UTC with milliseconds ("2026-11-23T14:05:00.123Z"),
// and the `since`/`until` forms of /v1/history (an RFC 3339 time or an age like "1h").
// Pure functions; no time zone database (UTC only; offsets like +02:00 are accepted).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vigil::api {

/// "2026-11-23T14:05:00.123Z" for `unix_ms` (milliseconds since the Unix epoch).
std::string format_rfc3339_ms(std::int64_t unix_ms);
/// Parses RFC 3339 ("2026-11-23T14:05:00Z", fractional seconds and a numeric offset
/// allowed, 't'/'z' lower case too); milliseconds since the epoch, nullopt when invalid.
std::optional<std::int64_t> parse_rfc3339_ms(std::string_view text);
/// Parses a non-negative age "90s", "15m", "1h30m", "7d", "500ms" (units ms, s, m, h, d) into
/// milliseconds; nullopt when invalid or absurd (more than ~100 years).
std::optional<std::int64_t> parse_age_ms(std::string_view text);
/// A point in time for history filters: an RFC 3339 time, or an age before `now_ms`.
std::optional<std::int64_t> parse_time_or_age_ms(std::string_view text, std::int64_t now_ms);

}  // namespace vigil::api
