#pragma once
// ManualClock for gossip tests: time moves only when the test says so (no sleeps, no real
// clock). Uses gossip's TimePoint (steady_clock) and starts one hour after its epoch so that
// "now - duration" never underflows. Header-only; single-threaded.
//
// Lives in vigil::gossip::test (not vigil::test) so it never clashes with the checkers'
// ManualClock in test/fakes/fake_executor.hpp.

#include <chrono>

#include "gossip/types.hpp"

namespace vigil::gossip::test {

class ManualClock {
 public:
  explicit ManualClock(TimePoint start = TimePoint{} + std::chrono::hours(1)) : now_(start) {}

  TimePoint now() const { return now_; }
  void advance(Duration d) { now_ += d; }
  void set(TimePoint t) { now_ = t; }

 private:
  TimePoint now_;
};

}  // namespace vigil::gossip::test
