#include "gossip/suspicion.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace vigil::gossip {

Suspicion::Suspicion(std::string from, int k, Duration min, Duration max, TimePoint start)
    : k_(k), min_(min), max_(max), start_(start) {
  seen_.push_back(std::move(from));
  deadline_ = start_ + (k_ < 1 ? min_ : timeout(0, k_, min_, max_));
}

Duration Suspicion::timeout(int n, int k, Duration min, Duration max) {
  using dsec = std::chrono::duration<double>;
  const double frac = std::log(n + 1.0) / std::log(k + 1.0);
  const double raw = dsec(max).count() - frac * (dsec(max).count() - dsec(min).count());
  const auto t = std::chrono::milliseconds(static_cast<long long>(std::floor(1000.0 * raw)));
  return std::max<Duration>(t, min);
}

bool Suspicion::confirm(const std::string& from) {
  if (n_ >= k_) return false;
  if (std::find(seen_.begin(), seen_.end(), from) != seen_.end()) return false;
  seen_.push_back(from);
  ++n_;
  deadline_ = start_ + timeout(n_, k_, min_, max_);
  return true;
}

}  // namespace vigil::gossip
