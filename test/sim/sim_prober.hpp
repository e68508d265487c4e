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
// Large echoes (the `mtu-blackhole` evidence): besides the small echoes, each peer gets one
// large echo of `mtu` bytes at most every `mtu_interval`, with the run that probes it (the
// real checkers::LargeEchoSchedule). set_node_mtu(n, bytes) is the fault: node n's link
// silently drops packets above `bytes` both ways (a lowered MTU on its veth or bridge port),
// so a large echo to or from it is lost while the small ones still pass. Gossip's own
// datagrams are not sized in SimNetwork (they keep flowing); the real agents' UDP gossip is
// checked by the netns suite instead.
//
// Not thread-safe; runs on the simulation's thread between SimNetwork::run_for() calls.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <random>
#include <utility>
#include <vector>

#include "checkers/large_echo.hpp"
#include "checkers/peer_rotation.hpp"
#include "checkers/probe.hpp"
#include "sim_network.hpp"

namespace vigil::sim {

struct ProberOptions {
  Duration interval = std::chrono::seconds(10);      ///< time between runs (ping default 10s)
  int count = 5;                                     ///< echoes per peer per run (default 5)
  std::size_t max_peers_per_round = 8;               ///< rotation width (default 8)
  int mtu = 1500;                                    ///< large echo, IP bytes (ping default)
  Duration mtu_interval = std::chrono::seconds(30);  ///< per peer (ping default)
};

class SimIcmpProber {
 public:
  using Sink = std::function<void(std::size_t node, const std::vector<checkers::PeerResult>&)>;

  /// `net` must outlive the prober. `seed` drives the echo coins and RTTs (not the network).
  SimIcmpProber(SimNetwork& net, std::uint64_t seed, ProberOptions options = {});

  /// Echo requests from `from` to `to` are dropped with probability `p` (0 clears it).
  void drop_requests(std::size_t from, std::size_t to, double p);
  /// Packets larger than `bytes` to or from `node` are dropped silently (0 clears it).
  void set_node_mtu(std::size_t node, int bytes);

  /// Runs every node whose next run is due at the network's current time (first runs are
  /// staggered randomly over one interval) and hands each result to `sink`. Call it at least
  /// once per simulated second. Nodes whose process is down do not probe.
  void step(const Sink& sink);

 private:
  std::vector<checkers::PeerResult> run(std::size_t node);
  checkers::PeerResult ping(std::size_t from, std::size_t to, bool large);

  SimNetwork& net_;
  ProberOptions opt_;
  std::mt19937_64 rng_;
  std::mt19937_64 large_rng_;  ///< large echoes' coins: the small echoes' sequence stays as it was
  std::vector<checkers::PeerRotation> rotation_;
  std::vector<checkers::LargeEchoSchedule> large_;
  std::map<std::size_t, int> node_mtu_;
  std::vector<TimePoint> next_run_;
  std::map<std::pair<std::size_t, std::size_t>, double> request_drop_;
};

}  // namespace vigil::sim
