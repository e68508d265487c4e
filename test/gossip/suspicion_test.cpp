// Lifeguard dynamic suspicion: the timeout formula as a table (memberlist suspicion_test.go),
// confirmation counting and de-duplication.
#include <doctest/doctest.h>

#include "gossip/suspicion.hpp"

using namespace vigil::gossip;
using std::chrono::milliseconds;
using std::chrono::seconds;

TEST_CASE("Suspicion::timeout matches memberlist's remainingSuspicionTime table") {
  // memberlist TestSuspicion_remainingSuspicionTime: {n, k, elapsed, min, max, remaining};
  // our timeout() is the total, i.e. remaining + elapsed.
  struct Case {
    int n, k;
    Duration elapsed, min, max, remaining;
  };
  const Case cases[] = {
      {0, 3, seconds(0), seconds(2), seconds(30), seconds(30)},
      {1, 3, seconds(2), seconds(2), seconds(30), seconds(14)},
      {2, 3, seconds(3), seconds(2), seconds(30), milliseconds(4810)},
      {3, 3, seconds(4), seconds(2), seconds(30), seconds(-2)},
      {4, 3, seconds(5), seconds(2), seconds(30), seconds(-3)},
      {5, 3, seconds(10), seconds(2), seconds(30), seconds(-8)},
  };
  for (const auto& c : cases) {
    CAPTURE(c.n);
    CHECK(Suspicion::timeout(c.n, c.k, c.min, c.max) - c.elapsed == c.remaining);
  }
}

TEST_CASE("Suspicion::timeout: more values of the formula") {
  // max - (max - min) * log(n + 1) / log(k + 1), floored to ms, never below min.
  const Duration min = milliseconds(500), max = seconds(2);
  CHECK(Suspicion::timeout(0, 3, min, max) == max);
  CHECK(Suspicion::timeout(1, 3, min, max) == milliseconds(1250));
  CHECK(Suspicion::timeout(2, 3, min, max) == milliseconds(811));  // 811.28 floored
  CHECK(Suspicion::timeout(3, 3, min, max) == min);
  CHECK(Suspicion::timeout(1, 1, min, max) == min);
  CHECK(Suspicion::timeout(1, 2, seconds(4), seconds(24)) == milliseconds(11381));
  // min == max: constant
  for (int n = 0; n < 5; ++n) CHECK(Suspicion::timeout(n, 4, seconds(3), seconds(3)) == seconds(3));
}

TEST_CASE("Suspicion: deadline starts at max and shrinks with each new confirmation") {
  const TimePoint t0 = TimePoint{} + std::chrono::hours(1);
  const Duration min = milliseconds(500), max = seconds(2);
  Suspicion s("me", 3, min, max, t0);
  CHECK(s.deadline() == t0 + max);
  CHECK(s.confirmations() == 0);

  // memberlist TestSuspicion_Timer: {from, newInfo} pairs.
  CHECK_FALSE(s.confirm("me"));  // who raised it is not a confirmation
  CHECK(s.confirmations() == 0);
  CHECK(s.confirm("foo"));
  CHECK(s.deadline() == t0 + milliseconds(1250));
  CHECK_FALSE(s.confirm("foo"));  // duplicate
  CHECK_FALSE(s.confirm("foo"));
  CHECK(s.confirmations() == 1);
  CHECK(s.deadline() == t0 + milliseconds(1250));
  CHECK(s.confirm("bar"));
  CHECK(s.deadline() == t0 + milliseconds(811));
  CHECK(s.confirm("baz"));
  CHECK(s.deadline() == t0 + min);
  CHECK(s.confirmations() == 3);
  CHECK_FALSE(s.confirm("zoo"));  // k reached: nothing more to count
  CHECK(s.confirmations() == 3);
  CHECK(s.deadline() == t0 + min);
}

TEST_CASE("Suspicion with k < 1 uses the minimum at once and counts nothing") {
  const TimePoint t0 = TimePoint{} + std::chrono::hours(1);
  Suspicion s("me", 0, seconds(1), seconds(30), t0);
  CHECK(s.deadline() == t0 + seconds(1));
  CHECK_FALSE(s.confirm("foo"));
  CHECK(s.confirmations() == 0);
  CHECK(s.deadline() == t0 + seconds(1));
}

TEST_CASE("Suspicion: a late confirmation may move the deadline into the past") {
  // memberlist TestSuspicion_Timer_Immediate: the caller fires on the next tick.
  const TimePoint t0 = TimePoint{} + std::chrono::hours(1);
  Suspicion s("me", 1, milliseconds(100), seconds(30), t0);
  const TimePoint now = t0 + milliseconds(200);
  CHECK(s.deadline() > now);
  CHECK(s.confirm("foo"));
  CHECK(s.deadline() <= now);
}
