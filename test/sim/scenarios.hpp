#pragma once
// Named simulation scenarios shared by the doctest suite (sim_test.cpp) and the vigil-sim
// benchmark binary. All times are simulated seconds unless named wall.

#include <cstdint>
#include <string>

#include "gossip/config.hpp"

namespace vigil::sim {

struct ScenarioOptions {
  std::string scenario = "converge";  ///< converge, kill, loss, stall, partition, leave, restart
  std::size_t nodes = 100;
  std::uint64_t seed = 1;
  double loss = 0.05;       ///< loss scenario: datagram loss on every link
  double minutes = 1.0;     ///< steady-state / fault duration
  double partition_s = 60;  ///< partition scenario: how long the cut lasts
  bool warm = false;        ///< start converged (Membership::restore) instead of joining: large n
  gossip::GossipConfig config = gossip::GossipConfig::lan();
  /// config.doubt_returnee_verdicts = false after the profile is chosen (memberlist behaviour)
  bool trust_all_verdicts = false;
};

struct ScenarioResult {
  std::string scenario;
  std::size_t nodes = 0;
  std::uint64_t seed = 0;
  double converge_s = -1;                ///< all nodes know all nodes alive (after the joins)
  double detect_first_s = -1;            ///< kill: first observer marks the victim failed
  double detect_all_s = -1;              ///< kill: every survivor marks it failed
  double heal_s = -1;                    ///< partition/restart: back to all alive everywhere
  double left_all_s = -1;                ///< leave: every node marks the leaver left
  std::uint64_t false_failures = 0;      ///< failed events about nodes that were up
  std::uint64_t failures_of_faulty = 0;  ///< stall: failed events about the stalled node
  std::uint64_t suspicions = 0;
  double msgs_per_node_s = 0;   ///< steady state: datagrams + streams sent per node per second
  double bytes_per_node_s = 0;  ///< steady state: bytes sent per node per second
  double suspicion_min_s = 0, suspicion_max_s = 0;  ///< for the detection bound
  double swim_bound_first_s = 0;  ///< ~1.58 probe periods + minimum suspicion timeout
  double wall_s = 0;
  bool ok = true;  ///< the scenario reached its end state within its caps
};

ScenarioResult run_scenario(const ScenarioOptions& o);
std::string to_json(const ScenarioResult& r);

}  // namespace vigil::sim
