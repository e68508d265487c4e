// Lifeguard local health awareness: clamping and timeout scaling (memberlist awareness_test.go).
#include <doctest/doctest.h>

#include "gossip/awareness.hpp"

using namespace vigil::gossip;
using std::chrono::seconds;

TEST_CASE("Awareness clamps to [0, max-1] and scales timeouts by score+1") {
  struct Case {
    int delta, score;
    Duration timeout;
  };
  // memberlist TestAwareness, max multiplier 8.
  const Case cases[] = {
      {0, 0, seconds(1)},  {-1, 0, seconds(1)}, {-10, 0, seconds(1)}, {1, 1, seconds(2)},
      {-1, 0, seconds(1)}, {10, 7, seconds(8)}, {-1, 6, seconds(7)},  {-1, 5, seconds(6)},
      {-1, 4, seconds(5)}, {-1, 3, seconds(4)}, {-1, 2, seconds(3)},  {-1, 1, seconds(2)},
      {-1, 0, seconds(1)}, {-1, 0, seconds(1)},
  };
  Awareness a(8);
  int i = 0;
  for (const auto& c : cases) {
    CAPTURE(i++);
    a.apply_delta(c.delta);
    CHECK(a.score() == c.score);
    CHECK(a.scale(seconds(1)) == c.timeout);
  }
}

TEST_CASE("Awareness with max 1 never scales") {
  Awareness a(1);
  a.apply_delta(5);
  CHECK(a.score() == 0);
  CHECK(a.scale(seconds(3)) == seconds(3));
}
