#pragma once
// Deadline: the absolute steady-clock time by which a Checker::run must return.

#include <algorithm>
#include <chrono>

#include "checkers/probe.hpp"

namespace vigil::checkers {

/// A point on the steady clock. Checkers use it for socket timeouts and poll() waits; a run
/// that passes its deadline is reported as a timeout by the scheduler and its result dropped.
struct Deadline {
  TimePoint at{};

  /// A deadline `d` from now (real steady clock).
  static Deadline in(Duration d) { return Deadline{Clock::now() + d}; }
  /// Time left, never negative.
  Duration remaining() const { return std::max(Duration::zero(), at - Clock::now()); }
  /// Time left in whole milliseconds, rounded up, never negative (for poll()).
  int remaining_ms() const {
    auto ms = std::chrono::ceil<std::chrono::milliseconds>(remaining()).count();
    return static_cast<int>(std::min<long long>(ms, 1 << 30));
  }
  bool expired() const { return Clock::now() >= at; }
  /// The earlier of this deadline and now + d.
  Deadline capped(Duration d) const { return Deadline{std::min(at, Clock::now() + d)}; }
};

}  // namespace vigil::checkers
