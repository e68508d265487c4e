#pragma once
// Plain record types of the history store (design.md, "History events"). No SQLite, no I/O,
// header-only: the API may include it (and store/history.hpp) without linking `store`.

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vigil::store {

/// Wall-clock time in UTC with millisecond precision (what the `timestamp` column holds).
using Timestamp = std::chrono::time_point<std::chrono::system_clock, std::chrono::milliseconds>;

/// Milliseconds since the Unix epoch, and back.
inline std::int64_t to_unix_ms(Timestamp t) {
  return t.time_since_epoch().count();
}
inline Timestamp from_unix_ms(std::int64_t ms) {
  return Timestamp{std::chrono::milliseconds{ms}};
}

/// The kinds of change recorded. Stored by name (to_string), so values may be reordered freely;
/// names are part of the product contract (design.md) and must not change.
enum class EventType : std::uint8_t {
  NodeAdded,
  NodeRemoved,
  NodeFailed,
  NodeRecovered,
  NodeDegraded,
  NodeHealthy,
  ProbeFailed,
  ProbeSucceeded,
  ClusterDegraded,
  ClusterHealthy,
};

/// The contract names, indexed by EventType.
inline constexpr std::array<std::string_view, 10> kEventTypeNames = {
    "NodeAdded",   "NodeRemoved", "NodeFailed",     "NodeRecovered",   "NodeDegraded",
    "NodeHealthy", "ProbeFailed", "ProbeSucceeded", "ClusterDegraded", "ClusterHealthy",
};

/// "NodeAdded", "ProbeFailed", ...: the contract names.
inline std::string_view to_string(EventType t) {
  const auto i = static_cast<std::size_t>(t);
  return i < kEventTypeNames.size() ? kEventTypeNames[i] : std::string_view{"Unknown"};
}
/// The EventType named `name` (exact, case-sensitive), or nullopt.
inline std::optional<EventType> parse_event_type(std::string_view name) {
  for (std::size_t i = 0; i < kEventTypeNames.size(); ++i) {
    if (kEventTypeNames[i] == name) return static_cast<EventType>(i);
  }
  return std::nullopt;
}

/// One change-only history row.
struct Event {
  std::int64_t id = 0;    ///< row id assigned by the store; 0 = not persisted (yet)
  Timestamp timestamp{};  ///< when it happened (UTC, ms); epoch 0 = "now" at append()
  EventType type = EventType::NodeAdded;
  std::string node;       ///< the node the event is about ("" for cluster events)
  std::string checker;    ///< checker name for Probe* events, else ""
  std::string old_state;  ///< previous state ("running", "alive", ...), "" if none
  std::string new_state;  ///< new state
  std::string detail;     ///< free text (probe error, ...), stored as given

  friend bool operator==(const Event&, const Event&) = default;
};

/// A history query. Every set field narrows the result; values are always bound as SQL
/// parameters, never pasted into SQL text.
struct EventFilter {
  std::optional<Timestamp> since{};      ///< timestamp >= since
  std::optional<Timestamp> until{};      ///< timestamp < until
  std::optional<std::string> node{};     ///< exact node name
  std::optional<std::string> checker{};  ///< exact checker name
  std::optional<EventType> type{};       ///< exact type
  /// At most this many events: the NEWEST `limit` matches, still returned oldest first (what
  /// `vigil history --limit 20` wants). 0 = no limit. Default 1000.
  std::size_t limit = 1000;
};

/// True when `e` passes every field of `f` except `limit`.
inline bool matches(const EventFilter& f, const Event& e) {
  if (f.since && e.timestamp < *f.since) return false;
  if (f.until && e.timestamp >= *f.until) return false;
  if (f.node && e.node != *f.node) return false;
  if (f.checker && e.checker != *f.checker) return false;
  if (f.type && e.type != *f.type) return false;
  return true;
}

}  // namespace vigil::store
