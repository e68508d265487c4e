#pragma once
// Lifeguard local health awareness (memberlist awareness.go): a score in [0, max - 1] raised by
// missed acks/nacks and refutations, lowered by successful probes. Timeouts scale by score + 1,
// so a node that is itself slow (CPU starvation, a saturated NIC) probes less aggressively and
// gives peers more time before suspecting them.

#include "gossip/types.hpp"

namespace vigil::gossip {

class Awareness {
 public:
  explicit Awareness(int max_multiplier) : max_(max_multiplier) {}
  void apply_delta(int delta);
  int score() const { return score_; }
  Duration scale(Duration d) const { return d * (score_ + 1); }

 private:
  int max_;
  int score_ = 0;
};

}  // namespace vigil::gossip
