#include "agent/peer_clock.hpp"

namespace vigil::agent {

void GossipPeerClock::record(const std::string& peer, std::chrono::nanoseconds offset,
                             checkers::Duration rtt, checkers::TimePoint now) {
  std::lock_guard lock(mu_);
  auto& e = peers_[peer];
  e.peer = peer;
  e.offset = offset;
  e.rtt = rtt;
  e.samples += 1;
  e.measured_at = now;
}

void GossipPeerClock::forget(const std::string& peer) {
  std::lock_guard lock(mu_);
  peers_.erase(peer);
}

std::vector<checkers::PeerClockOffset> GossipPeerClock::offsets() const {
  std::lock_guard lock(mu_);
  std::vector<checkers::PeerClockOffset> out;
  out.reserve(peers_.size());
  for (const auto& [name, e] : peers_) out.push_back(e);
  return out;
}

std::chrono::nanoseconds clock_offset(std::chrono::microseconds peer_wall,
                                      std::chrono::microseconds local_wall_now,
                                      checkers::Duration rtt) {
  using std::chrono::nanoseconds;
  const nanoseconds midpoint = nanoseconds(local_wall_now) - nanoseconds(rtt) / 2;
  return nanoseconds(peer_wall) - midpoint;
}

}  // namespace vigil::agent
