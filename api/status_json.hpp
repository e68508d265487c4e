#pragma once
// The /v1/status document of design.md, built from a ClusterView. Pure: the same view gives
// the same bytes, so two observers with identical views answer identically except for
// `observer` and `timestamp`.
//   - a node is `degraded` iff one of its probes is failed and critical, or its member status
//     is not `alive`; the cluster is `degraded` iff any node is;
//   - `summary`: "all 3 nodes running" / "1 of 3 nodes degraded";
//   - timestamps are RFC 3339 UTC with milliseconds;
//   - `diagnosis`: api::diagnose() over the nodes' reachability rows and member states/zones.

#include <string>
#include <vector>

#include "api/diagnosis.hpp"
#include "api/status_view.hpp"

namespace vigil::api {

/// The design.md rule for one node.
bool node_degraded(const NodeView& n);
/// Any node degraded.
bool cluster_degraded(const ClusterView& v);
/// "1 of 3 nodes degraded", "all 3 nodes running", "no nodes known".
std::string status_summary(const ClusterView& v);
/// The diagnosis input of a view: every node with its zone tag and member status, every
/// loss-counting reachability sample as a link (gossip RTT-only samples are left out).
DiagnosisInput diagnosis_input(const ClusterView& v);

/// The full /v1/status JSON document.
std::string status_json(const ClusterView& v, const DiagnosisConfig& cfg = {});
/// /v1/status/local: the observer's own node object (same shape as one entry of `nodes`);
/// empty string when the observer is not in the view.
std::string local_status_json(const ClusterView& v);

}  // namespace vigil::api
