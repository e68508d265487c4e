#pragma once
// Routes of the web view:
//   GET /                 the page (api/web/index.html): verdict, diagnosis, the nodes with a
//                         problem, the healthy ones counted by zone, node x checker grid and
//                         node x node reachability matrix grouped by zone; it polls
//                         /v1/overview (one request per refresh) with a relative URL, so it
//                         also works behind a proxy path (kubectl proxy, an ingress prefix).
//   GET /v1/reachability  the measured links of the ClusterView as JSON (the matrix data).
//                         Kept out of /v1/status so that stays small and satellite-shaped:
//                         each node reports at most 24 peers, so this grows as 24 x nodes.
//   GET /v1/overview      the page's data in one answer: {"status": <the /v1/status document>,
//                         "reachability": <the /v1/reachability document>}, both of the same
//                         snapshot (the matrix and the node states always agree); 200 when
//                         running, 503 when degraded, like /v1/status; no query parameters.
// Handlers read the published ClusterView (rendered once per snapshot and cached).
//
// /v1/reachability:
//   {"observer": "n1", "timestamp": "...Z", "window_seconds": 60,
//    "links": [{"from": "n0", "to": "n1", "protocol": "icmp", "sent": 10, "lost": 0,
//               "rtt_ms": 0.05}, ...]}
//   `from` is the node that measured (its last gossiped summary), `to` its peer; `lost` is
//   absent when the protocol does not measure loss (gossip only counts answers).

#include <string>

#include "api/snapshot.hpp"
#include "api/status_view.hpp"

namespace vigil::api {

class HttpServer;

/// The /v1/reachability document of `v` (links in node order, then as each node reported).
std::string reachability_json(const ClusterView& v);

/// Registers GET /, GET /v1/reachability and GET /v1/overview. `cell` must outlive `server`.
void add_web_routes(HttpServer& server, const SnapshotCell<ClusterView>& cell);

}  // namespace vigil::api
