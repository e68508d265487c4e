#pragma once
// ClusterView: the immutable snapshot of the whole cluster's health that the agent's loop
// publishes (SnapshotCell<ClusterView>) and /v1/status, /v1/status/local and the web page
// read. Plain values (api/ depends on neither gossip/ nor checkers/): the agent converts.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "api/members_view.hpp"

namespace vigil::api {

/// One probe result of a node, as its owner last reported it.
struct ProbeView {
  std::string checker;        ///< instance name ("etcd")
  std::string type;           ///< checker type ("etcd")
  std::string status;         ///< "running" | "failed"
  std::string severity;       ///< "critical" | "warning" (meaningful when failed)
  std::int64_t since_ms = 0;  ///< wall ms when `status` began (0 = unknown)
  std::string error;
  std::string detail;
  bool failed() const { return status == "failed"; }
  bool critical() const { return failed() && severity != "warning"; }
};

/// One measured link from a node to a peer over the owner's recent window.
struct ReachView {
  std::string peer;
  std::string protocol;  ///< "icmp", "gossip", ...
  std::uint32_t sent = 0;
  std::uint32_t lost = 0;
  double rtt_ms = 0.0;  ///< mean RTT of answered probes
  /// True when `lost` is measured (gossip samples only count answers: lost is always 0).
  bool counts_loss = true;
  /// Large echoes (ping `mtu`: DF, sized to the MTU): how many were sent, lost, and their IP
  /// size. Peers gossip them only while they are lost and the small probes pass (an MTU
  /// blackhole); 0 otherwise (the owner's own row shows them always).
  std::uint32_t large_sent = 0;
  std::uint32_t large_lost = 0;
  std::uint32_t large_bytes = 0;
};

struct NodeView {
  MemberInfo member;              ///< membership entry (status "alive"/"suspect"/"failed"/"left")
  std::int64_t updated_ms = 0;    ///< newest health record of this node (0 = none received yet)
  std::vector<ProbeView> probes;  ///< sorted by checker
  std::vector<ReachView> reach;   ///< this node's row of the reachability matrix
};

struct ClusterView {
  std::string observer;           ///< the node that built this view
  std::int64_t timestamp_ms = 0;  ///< wall ms when it was built
  std::vector<NodeView> nodes;    ///< sorted by name; members that `left` are not listed
  /// The window reachability samples cover (for diagnosis evidence "... for 60s").
  std::chrono::seconds reach_window{60};
  /// The observer's own evidence that it is cut off ("" = none): it then names itself
  /// node-isolated and blames no one (agent/status_glue.hpp cut_off_evidence).
  std::string observer_cut_off;
};

}  // namespace vigil::api
