#include "store/event.hpp"

#include <array>

namespace vigil::store {
namespace {

constexpr std::array<std::string_view, 10> kTypeNames = {
    "NodeAdded",   "NodeRemoved", "NodeFailed",     "NodeRecovered",   "NodeDegraded",
    "NodeHealthy", "ProbeFailed", "ProbeSucceeded", "ClusterDegraded", "ClusterHealthy",
};

}  // namespace

std::string_view to_string(EventType t) {
  const auto i = static_cast<std::size_t>(t);
  return i < kTypeNames.size() ? kTypeNames[i] : std::string_view{"Unknown"};
}

std::optional<EventType> parse_event_type(std::string_view name) {
  for (std::size_t i = 0; i < kTypeNames.size(); ++i) {
    if (kTypeNames[i] == name) return static_cast<EventType>(i);
  }
  return std::nullopt;
}

bool matches(const EventFilter& f, const Event& e) {
  if (f.since && e.timestamp < *f.since) return false;
  if (f.until && e.timestamp >= *f.until) return false;
  if (f.node && e.node != *f.node) return false;
  if (f.checker && e.checker != *f.checker) return false;
  if (f.type && e.type != *f.type) return false;
  return true;
}

}  // namespace vigil::store
