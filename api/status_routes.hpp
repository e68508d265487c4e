#pragma once
// Routes of the cluster status: GET /v1/status (200 running / 503 degraded), /v1/status/local
// (this node's entry; 200 / 503 likewise), and /v1/history with its filters. Handlers read
// the ClusterView the loop publishes (rendered once per snapshot and cached) and call the
// injected history query (api/ does not depend on store/; the agent adapts HistoryStore).
//
// /v1/history -> JSON array of events, oldest first; its parameters: api/history_query.hpp.
// Any parameter on /v1/status(/local), any other or repeated parameter or an invalid value on
// /v1/history -> 400 {"error": "..."}.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "api/history_query.hpp"
#include "api/snapshot.hpp"
#include "api/status_view.hpp"

namespace vigil::api {

class HttpServer;
struct HttpRequest;
struct HttpResponse;

struct HistoryRow {
  std::int64_t id = 0;
  std::int64_t timestamp_ms = 0;
  std::string type, node, checker, old_state, new_state, detail;
};

struct HistoryAnswer {
  std::vector<HistoryRow> events;  ///< oldest first
  std::string error;               ///< non-empty: the query failed (-> 503 with this text)
};

/// Runs a history query; called on HTTP worker threads (must be thread-safe).
using HistoryQueryFn = std::function<HistoryAnswer(const HistoryQuery&)>;
/// Wall clock in ms (injectable for tests).
using WallClockFn = std::function<std::int64_t()>;

/// JSON array of events: [{id, timestamp, type, node, checker, old_state, new_state, detail}].
std::string history_json(const std::vector<HistoryRow>& rows);

/// Registers /v1/status, /v1/status/local and /v1/history. `cell` must outlive `server`.
/// `history` may be empty (then /v1/history answers 503).
void add_status_routes(HttpServer& server, const SnapshotCell<ClusterView>& cell,
                       HistoryQueryFn history, WallClockFn now = {});

}  // namespace vigil::api
