#include "checkers/large_echo.hpp"

namespace vigil::checkers {

std::vector<std::size_t> LargeEchoSchedule::due(const std::vector<std::string>& targets,
                                                TimePoint now) {
  std::vector<std::size_t> out;
  if (interval_ <= Duration::zero()) return out;
  // Entries older than the interval are due anyway: dropping them keeps the map to the targets
  // probed within one interval (a peer that left is forgotten the same way).
  const Duration due_after = interval_ - interval_ / 10;
  std::erase_if(last_, [&](const auto& e) { return now - e.second >= due_after; });
  for (std::size_t i = 0; i < targets.size(); ++i) {
    if (last_.emplace(targets[i], now).second) out.push_back(i);
  }
  return out;
}

}  // namespace vigil::checkers
