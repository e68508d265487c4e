#pragma once
// The query of GET /v1/history, validated from the request's decoded parameters. Pure (no
// HTTP, no clock): the route passes the parameters and the wall clock; test/fuzz fuzzes it.
//
// /v1/history?since=&until=&node=&checker=&type=&limit=
//   since, until  RFC 3339 time or an age before now ("1h", "30m", "7d"); since < until
//   node, checker exact names (1..256 bytes)
//   type          one of the design.md event types (NodeAdded ... ClusterHealthy)
//   limit         1..10000 (default 1000): the newest `limit` matches, oldest first
// Any other parameter, a repeated one, or an invalid value is an error (the route answers
// 400 {"error": "..."}).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "api/query_params.hpp"

namespace vigil::api {

/// A validated history query (times in wall ms since the epoch).
struct HistoryQuery {
  std::optional<std::int64_t> since_ms, until_ms;
  std::optional<std::string> node, checker, type;
  std::size_t limit = 1000;
};

/// Bounds of the parameters.
inline constexpr std::size_t kMaxHistoryNameParam = 256;
inline constexpr std::size_t kMaxHistoryLimit = 10000;

/// The design.md event type names, in contract order.
const std::vector<std::string>& history_event_types();

/// The validated query, or the error text (one line) on failure.
struct ParsedHistoryQuery {
  std::optional<HistoryQuery> query;
  std::string error;
};
/// Validates the parameters of /v1/history; `now_ms` resolves ages ("1h" = now - 1 h).
ParsedHistoryQuery parse_history_query(const QueryParams& params, std::int64_t now_ms);

}  // namespace vigil::api
