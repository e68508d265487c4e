#pragma once
// GossipPeerClock: the time-drift checker's source of per-peer clock offsets
// (checkers::PeerClock), fed by gossip probe acks. Every ack this node sends carries its wall
// clock (HealthState::ack_payload); when a direct probe of a peer completes, the offset is
//   offset = peer_clock - (local_send + rtt / 2),   local_send = local_now - rtt
// i.e. the peer's timestamp against our clock at the midpoint of the exchange (NTP's idea with
// one timestamp: the error is at most rtt/2, which the checker accounts for).
//
// Threads: record() on the loop thread; offsets() from checker pool threads. A mutex guards
// the small map (one entry per peer); neither side blocks for long.

#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "checkers/checker.hpp"

namespace vigil::agent {

class GossipPeerClock final : public checkers::PeerClock {
 public:
  /// Records one sample for `peer`. Loop thread.
  void record(const std::string& peer, std::chrono::nanoseconds offset, checkers::Duration rtt,
              checkers::TimePoint now);
  /// Drops a peer (it left or was reaped). Loop thread.
  void forget(const std::string& peer);

  // checkers::PeerClock
  std::vector<checkers::PeerClockOffset> offsets() const override;

 private:
  mutable std::mutex mu_;
  std::map<std::string, checkers::PeerClockOffset> peers_;
};

/// offset = peer_wall - (local_wall_now - rtt / 2): the peer's clock minus ours.
std::chrono::nanoseconds clock_offset(std::chrono::microseconds peer_wall,
                                      std::chrono::microseconds local_wall_now,
                                      checkers::Duration rtt);

}  // namespace vigil::agent
