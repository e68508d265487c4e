#pragma once
// Lifeguard dynamic suspicion (memberlist suspicion.go): the timeout starts at `max` and
// shrinks towards `min` as independent confirmations arrive:
//   timeout(c) = max(min, max - (max - min) * log(c + 1) / log(k + 1))

#include <cstddef>
#include <string>
#include <vector>

#include "gossip/types.hpp"

namespace vigil::gossip {

class Suspicion {
 public:
  /// `from`: who raised the suspicion (not a confirmation). `k`: confirmations expected
  /// (0 means: use `min` at once).
  Suspicion(std::string from, int k, Duration min, Duration max, TimePoint start);

  /// Records a confirmation from `from`. Returns true when it was new and counted (the caller
  /// then re-gossips the suspicion), false for a duplicate or once k were counted.
  bool confirm(const std::string& from);

  TimePoint deadline() const { return deadline_; }
  int confirmations() const { return n_; }

  /// The total timeout after `n` of `k` confirmations (pure; exposed for table tests).
  static Duration timeout(int n, int k, Duration min, Duration max);

 private:
  int k_;
  int n_ = 0;
  Duration min_, max_;
  TimePoint start_, deadline_;
  std::vector<std::string> seen_;  ///< small: at most k + 1 names
};

}  // namespace vigil::gossip
