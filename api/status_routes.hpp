#pragma once
// Routes of the cluster status: GET /v1/status (200 running / 503 degraded), /v1/status/local
// (this node's entry; 200 / 503 likewise), and /v1/history with its filters. Handlers read
// the ClusterView the loop publishes (rendered once per snapshot and cached) and call the
// injected history query (api/ does not depend on store/; the agent adapts HistoryStore).
//
// /v1/history?since=&until=&node=&checker=&type=&limit=  -> JSON array of events, oldest first:
//   since, until  RFC 3339 time or an age before now ("1h", "30m", "7d"); since < until
//   node, checker exact names (1..256 bytes)
//   type          one of the design.md event types (NodeAdded ... ClusterHealthy)
//   limit         1..10000 (default 1000): the newest `limit` matches, oldest first
// Any other parameter, a repeated one, or an invalid value -> 400 {"error": "..."}.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "api/snapshot.hpp"
#include "api/status_view.hpp"

namespace vigil::api {

class HttpServer;
struct HttpRequest;
struct HttpResponse;

/// A validated history query (times in wall ms since the epoch).
struct HistoryQuery {
  std::optional<std::int64_t> since_ms, until_ms;
  std::optional<std::string> node, checker, type;
  std::size_t limit = 1000;
};

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

/// The design.md event type names, in contract order.
const std::vector<std::string>& history_event_types();

/// Validates the query string of /v1/history; the error text on failure.
struct ParsedHistoryQuery {
  std::optional<HistoryQuery> query;
  std::string error;
};
ParsedHistoryQuery parse_history_query(const HttpRequest& req, std::int64_t now_ms);

/// JSON array of events: [{id, timestamp, type, node, checker, old_state, new_state, detail}].
std::string history_json(const std::vector<HistoryRow>& rows);

/// Registers /v1/status, /v1/status/local and /v1/history. `cell` must outlive `server`.
/// `history` may be empty (then /v1/history answers 503).
void add_status_routes(HttpServer& server, const SnapshotCell<ClusterView>& cell,
                       HistoryQueryFn history, WallClockFn now = {});

}  // namespace vigil::api
