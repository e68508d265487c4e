#pragma once
// CheckSpec: the JSON configuration of one checker, one element of the agent config's
// `checkers` array:
//   {"type": "etcd", "name": "etcd-main", "interval": "10s", "timeout": "5s",
//    "failure_threshold": 2, "success_threshold": 1, "severity": "critical",
//    ...type-specific keys, e.g. "endpoints": ["http://127.0.0.1:2379"]}
// Durations are strings with a unit ("500ms", "10s", "2m", "1h") or plain numbers of seconds.
// nlohmann::json stays out of this header (json_fwd only); checkers read their type-specific
// keys through SpecReader (checkers/spec_reader.hpp).

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "checkers/probe.hpp"

namespace vigil::checkers {

struct CheckSpec {
  /// Checker type, a key of the CheckerRegistry ("etcd", "disk", ...). Required.
  std::string type;
  /// Instance name, the `checker` field of probes; unique within the agent. Default: the type.
  std::string name;
  /// Time between the starts of two runs. Default 10s; minimum 1s (smaller values are an error).
  Duration interval = std::chrono::seconds(10);
  /// Time a run may take; after it the run is reported as a timeout failure and its late
  /// result discarded. Default 5s; must be > 0 and <= interval.
  Duration timeout = std::chrono::seconds(5);
  /// Consecutive failed runs before a running probe is reported failed (flap damping).
  /// Default 2 (a single blip is not reported); minimum 1.
  int failure_threshold = 2;
  /// Consecutive successful runs before a failed probe is reported running again. Default 1.
  int success_threshold = 1;
  /// The highest severity this checker reports: "critical" (default) keeps what the checker
  /// says; "warning" turns its critical failures into warnings (never degrades the node).
  Severity severity = Severity::critical;
  /// The whole JSON object, for the type-specific keys (read them with SpecReader). Never null
  /// after parse_check_spec().
  std::shared_ptr<const nlohmann::json> params;
};

/// A parsed spec or an error line ("checkers[2] (etcd): interval: must be >= 1s").
struct SpecResult {
  CheckSpec spec;
  std::string error;  ///< empty on success
};

/// Parses one checker object. Does not know the type-specific keys (the factory checks them).
SpecResult parse_check_spec(const nlohmann::json& j);
/// Parses one checker object from JSON text (convenience for tests and `vigil check`).
SpecResult parse_check_spec(std::string_view json_text);
/// The same for a std::string (an exact match: std::string converts to both of the above).
inline SpecResult parse_check_spec(const std::string& json_text) {
  return parse_check_spec(std::string_view(json_text));
}
/// The same for a string literal.
inline SpecResult parse_check_spec(const char* json_text) {
  return parse_check_spec(std::string_view(json_text));
}
/// Parses a duration: "250ms", "10s", "1.5s", "2m", "1h", "1us", "100ns", or a JSON number of
/// seconds. Returns false on malformed or negative input.
bool parse_duration(std::string_view text, Duration& out);
/// Formats a duration compactly ("1.5s", "250ms", "0s").
std::string format_duration(Duration d);

/// The common keys every checker accepts (the SpecReader of a factory knows them already).
const std::vector<std::string>& common_spec_keys();

}  // namespace vigil::checkers
