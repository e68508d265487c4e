#include "api/history_query.hpp"

#include <algorithm>
#include <charconv>
#include <set>
#include <string_view>

#include "api/time_format.hpp"

namespace vigil::api {

const std::vector<std::string>& history_event_types() {
  static const std::vector<std::string> types = {
      "NodeAdded",   "NodeRemoved", "NodeFailed",     "NodeRecovered",   "NodeDegraded",
      "NodeHealthy", "ProbeFailed", "ProbeSucceeded", "ClusterDegraded", "ClusterHealthy"};
  return types;
}

ParsedHistoryQuery parse_history_query(const QueryParams& params, std::int64_t now_ms) {
  static const std::set<std::string> known = {"since", "until", "node", "checker", "type", "limit"};
  ParsedHistoryQuery out;
  auto fail = [&out](std::string msg) {
    out.error = std::move(msg);
    return out;
  };
  for (const auto& [k, v] : params) {
    if (!known.count(k)) {
      return fail("unknown parameter " + quote_param(k) +
                  " (expected since, until, node, checker, type, limit)");
    }
    if (params.count(k) > 1) return fail("parameter " + quote_param(k) + " given more than once");
  }
  auto value = [&params](const char* key) -> const std::string* {
    auto it = params.find(key);
    return it == params.end() ? nullptr : &it->second;
  };
  HistoryQuery q;
  for (const char* key : {"since", "until"}) {
    const std::string* v = value(key);
    if (!v) continue;
    auto t = parse_time_or_age_ms(*v, now_ms);
    if (!t) {
      return fail(std::string("invalid '") + key +
                  "': want an RFC 3339 time (2026-11-23T14:05:00Z) or an age (1h, 30m, 7d)");
    }
    (std::string_view(key) == "since" ? q.since_ms : q.until_ms) = *t;
  }
  if (q.since_ms && q.until_ms && *q.since_ms >= *q.until_ms) {
    return fail("'since' must be before 'until'");
  }
  for (const char* key : {"node", "checker"}) {
    const std::string* v = value(key);
    if (!v) continue;
    if (v->empty() || v->size() > kMaxHistoryNameParam) {
      return fail(std::string("invalid '") + key + "': want 1 to 256 bytes");
    }
    (std::string_view(key) == "node" ? q.node : q.checker) = *v;
  }
  if (const std::string* v = value("type")) {
    const auto& types = history_event_types();
    if (std::find(types.begin(), types.end(), *v) == types.end()) {
      std::string all;
      for (const auto& t : types) all += (all.empty() ? "" : ", ") + t;
      return fail("invalid 'type': want one of " + all);
    }
    q.type = *v;
  }
  if (const std::string* v = value("limit")) {
    std::size_t n = 0;
    auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
    if (v->empty() || ec != std::errc{} || p != v->data() + v->size() || n < 1 ||
        n > kMaxHistoryLimit) {
      return fail("invalid 'limit': want an integer from 1 to 10000");
    }
    q.limit = n;
  }
  out.query = std::move(q);
  return out;
}

}  // namespace vigil::api
