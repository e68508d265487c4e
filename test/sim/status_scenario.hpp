#pragma once
// The status layer at scale, simulated: every node runs the real gossip core (SimNetwork), the
// real agent::HealthState as its delegate, `checkers` simulated checkers (a verdict each, a
// detail that moves every run like an RTT does) and the simulated ping checker (SimIcmpProber,
// feeding the reachability summaries). Churn: each node flips one verdict with probability
// churn per simulated minute. Measured over an idle window after a warm-up: bytes and messages
// per node split into membership and status, push-pull cost, the time a verdict change takes
// to reach 50/99/100% of live nodes, and the state each node holds. Deterministic per seed.
//
// Memory is O(n^2): every node holds every node's records (about 2 KB per origin with 4
// checkers and a 24-peer summary), so 2,000 nodes need ~8 GB.

#include <cstdint>
#include <string>

#include "gossip/config.hpp"

namespace vigil::sim {

struct StatusOptions {
  std::size_t nodes = 100;
  std::uint64_t seed = 1;
  int checkers = 4;       ///< simulated checkers per node (each runs every 10 s)
  double churn = 0.01;    ///< probability per node per minute of one verdict flip
  double warmup_s = 120;  ///< excluded from the measurement
  /// Measured window; 0: at least 5 minutes and twice the longest periodic activity
  /// (push-pull scaled for n).
  double window_s = 0;
  double loss = 0;  ///< datagram loss on every link
  /// Start cold: every node's first records and summary spread by gossip (the start-up storm
  /// of a DaemonSet rolled out on the whole cluster), not pre-seeded.
  bool cold = false;
  gossip::GossipConfig config = gossip::GossipConfig::lan();
};

struct Percentiles {
  double p50 = -1, p99 = -1, max = -1;
};

struct StatusResult {
  std::size_t nodes = 0;
  std::uint64_t seed = 0;
  int checkers = 0;
  double churn = 0;
  double window_s = 0;
  double push_pull_interval_s = 0;  ///< as scaled for n
  double bytes_per_node_s = 0;      ///< everything sent (datagrams + streams)
  double membership_bytes_per_node_s = 0;
  double status_bytes_per_node_s = 0;            ///< status broadcasts + push-pull user state
  double msgs_per_node_s = 0;                    ///< datagrams + streams sent
  double status_msgs_per_node_s = 0;             ///< status records sent (piggybacked or not)
  double push_pull_bytes_per_exchange = 0;       ///< all frames of an exchange, both ways, mean
  double push_pull_in_sync_bytes = 0;            ///< an exchange between converged nodes, mean
  double push_pull_in_sync_share = 0;            ///< exchanges that found both sides converged
  std::uint64_t changes = 0;                     ///< verdict flips measured
  std::uint64_t changes_incomplete = 0;          ///< flips that never reached every live node
  Percentiles reach50_s, reach99_s, reach100_s;  ///< over all changes
  double state_bytes_per_node = 0;               ///< one node's whole view, encoded (full state)
  double records_per_node = 0;
  double rss_peak_mb = 0;
  double cold_converge_s = -1;  ///< cold: every node holds every record (5 s resolution)
  double wall_s = 0;
  bool ok = true;
};

StatusResult run_status(const StatusOptions& o);
std::string to_json(const StatusResult& r);

}  // namespace vigil::sim
