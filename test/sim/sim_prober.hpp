#pragma once
// SimIcmpProber: the ping checker's measurements on the simulated network. Every node pings a
// rotating subset of its live peers (the real checkers::PeerRotation, the ping checker's
// defaults: every 10 s, 5 echoes to each of at most 8 peers), and each echo is answered or
// lost according to the SimNetwork's faults at that moment: the request must get from the
// prober to the peer and the reply back (SimNetwork::delivery both ways; a powered-off host
// answers nothing, a crashed process still lets its host answer). RTT = two one-way latency
// draws. Results come out as checkers::PeerResult, exactly what the ping checker hands the
// agent (HealthState::add_peer_results).
//
// One extra fault lives here because it is about ICMP only: drop_requests(a, b) models a
// filter on b that drops the echo requests a sends (replies to b's own echoes still pass):
// a's probes to b are lost while b's probes to a are fine, the asymmetric link of the
// diagnosis. (One-way *datagram* loss, SimNetwork::set_link_loss, loses both sides' echoes:
// a round-trip probe cannot tell the direction.)
//
// Not thread-safe; runs on the simulation's thread between SimNetwork::run_for() calls.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <random>
#include <utility>
#include <vector>

#include "checkers/peer_rotation.hpp"
#include "checkers/probe.hpp"
#include "sim_network.hpp"

namespace vigil::sim {

struct ProberOptions {
  Duration interval = std::chrono::seconds(10);  ///< time between runs (ping default 10s)
  int count = 5;                                 ///< echoes per peer per run (default 5)
  std::size_t max_peers_per_round = 8;           ///< rotation width (default 8)
};

class SimIcmpProber {
 public:
  using Sink = std::function<void(std::size_t node, const std::vector<checkers::PeerResult>&)>;

  /// `net` must outlive the prober. `seed` drives the echo coins and RTTs (not the network).
  SimIcmpProber(SimNetwork& net, std::uint64_t seed, ProberOptions options = {});

  /// Echo requests from `from` to `to` are dropped with probability `p` (0 clears it).
  void drop_requests(std::size_t from, std::size_t to, double p);

  /// Runs every node whose next run is due at the network's current time (first runs are
  /// staggered randomly over one interval) and hands each result to `sink`. Call it at least
  /// once per simulated second. Nodes whose process is down do not probe.
  void step(const Sink& sink);

 private:
  std::vector<checkers::PeerResult> run(std::size_t node);
  checkers::PeerResult ping(std::size_t from, std::size_t to);

  SimNetwork& net_;
  ProberOptions opt_;
  std::mt19937_64 rng_;
  std::vector<checkers::PeerRotation> rotation_;
  std::vector<TimePoint> next_run_;
  std::map<std::pair<std::size_t, std::size_t>, double> request_drop_;
};

}  // namespace vigil::sim
