#include "gossip/awareness.hpp"

#include <algorithm>

namespace vigil::gossip {

void Awareness::apply_delta(int delta) {
  score_ = std::clamp(score_ + delta, 0, max_ - 1);
}

}  // namespace vigil::gossip
