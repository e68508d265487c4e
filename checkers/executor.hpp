#pragma once
// Executor: how the Scheduler reaches threads and time. Injected, so tests drive it with a
// FakeExecutor and a manual clock (test/checkers/), and the agent with Asio + a bounded pool.

#include <cstdint>
#include <functional>

#include "checkers/probe.hpp"

namespace vigil::checkers {

/// The time source of the Scheduler (steady, monotonic).
class TimeSource {
 public:
  virtual ~TimeSource() = default;
  virtual TimePoint now() const = 0;
};

/// The real steady clock.
class SteadyTimeSource final : public TimeSource {
 public:
  TimePoint now() const override { return Clock::now(); }
};

/// Threads and timers for the Scheduler. The "loop" is one thread that owns the Scheduler's
/// state; the "pool" is a small bounded set of worker threads for blocking checker runs.
class Executor {
 public:
  using Task = std::function<void()>;
  using TimerId = std::uint64_t;

  virtual ~Executor() = default;
  /// Runs `task` later on the loop thread. Callable from any thread.
  virtual void post(Task task) = 0;
  /// Runs `task` on a pool thread (queued when all are busy). Callable from the loop thread.
  virtual void run_blocking(Task task) = 0;
  /// Runs `task` on the loop thread at (or soon after) `at`. Callable from the loop thread.
  virtual TimerId schedule_at(TimePoint at, Task task) = 0;
  /// Cancels a timer that has not fired yet (no-op otherwise). Loop thread only.
  virtual void cancel(TimerId id) = 0;
};

}  // namespace vigil::checkers
