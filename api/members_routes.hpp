#pragma once
// Routes of the membership view: GET /v1/members, /healthz, /readyz, and the gossip part of
// /metrics (write_gossip_metrics, combined with other modules' writers by the agent).

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "api/members_view.hpp"
#include "api/snapshot.hpp"

namespace vigil::api {

class HttpServer;
class MetricsText;

/// JSON array of members: [{name, addr, status, incarnation, tags{}}], sorted by name.
std::string members_json(const MembersSnapshot& snap);

/// Registers /v1/members, /healthz and /readyz reading `cell` (which must outlive `server`).
/// /readyz answers 503 until the snapshot says ready, and while leaving. None of them takes
/// query parameters: any gives 400 {"error": ...}.
void add_members_routes(HttpServer& server, const SnapshotCell<MembersSnapshot>& cell);

/// Writes the vigil_gossip_*, vigil_members, vigil_health_awareness and
/// vigil_suspicions_total families.
void write_gossip_metrics(MetricsText& out, const GossipMetrics& m);

}  // namespace vigil::api
