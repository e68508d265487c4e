#include "api/status_routes.hpp"

#include <algorithm>
#include <charconv>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>

#include "api/http_server.hpp"
#include "api/status_json.hpp"
#include "api/time_format.hpp"

namespace vigil::api {
namespace {

constexpr std::size_t kMaxNameParam = 256;
constexpr std::size_t kMaxLimit = 10000;

std::int64_t system_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The rendered documents of one snapshot: built on first use, shared by every request that
// reads the same snapshot (a 1000-node status is rendered once, not per request).
struct Rendered {
  std::shared_ptr<const ClusterView> view;
  std::string status, local;
  bool degraded = false, local_degraded = false;
};

// Stale-while-rendering: while one request renders a new snapshot, the others are answered
// from the previous rendering, so only one request per published snapshot pays for it.
class StatusCache {
 public:
  std::shared_ptr<const Rendered> get(const std::shared_ptr<const ClusterView>& view) {
    {
      std::lock_guard lock(mu_);
      if (cur_ && cur_->view == view) return cur_;
      if (rendering_ && cur_) return cur_;
      rendering_ = true;
    }
    auto r = render(view);
    std::lock_guard lock(mu_);
    rendering_ = false;
    cur_ = r;
    return r;
  }

 private:
  static std::shared_ptr<const Rendered> render(const std::shared_ptr<const ClusterView>& view) {
    auto r = std::make_shared<Rendered>();
    r->view = view;
    r->status = status_json(*view);
    r->degraded = cluster_degraded(*view);
    r->local = local_status_json(*view);
    for (const NodeView& n : view->nodes) {
      if (n.member.name == view->observer) r->local_degraded = node_degraded(n);
    }
    return r;
  }

  std::mutex mu_;
  bool rendering_ = false;
  std::shared_ptr<const Rendered> cur_;
};

}  // namespace

const std::vector<std::string>& history_event_types() {
  static const std::vector<std::string> types = {
      "NodeAdded",   "NodeRemoved", "NodeFailed",     "NodeRecovered",   "NodeDegraded",
      "NodeHealthy", "ProbeFailed", "ProbeSucceeded", "ClusterDegraded", "ClusterHealthy"};
  return types;
}

ParsedHistoryQuery parse_history_query(const HttpRequest& req, std::int64_t now_ms) {
  static const std::set<std::string> known = {"since", "until", "node", "checker", "type", "limit"};
  ParsedHistoryQuery out;
  auto fail = [&out](std::string msg) {
    out.error = std::move(msg);
    return out;
  };
  for (const auto& [k, v] : req.params) {
    if (!known.count(k)) {
      return fail("unknown parameter '" + k +
                  "' (expected since, until, node, checker, type, limit)");
    }
    if (req.params.count(k) > 1) return fail("parameter '" + k + "' given more than once");
  }
  HistoryQuery q;
  for (const char* key : {"since", "until"}) {
    if (!req.has_param(key)) continue;
    const std::string v = req.param(key);
    auto t = parse_time_or_age_ms(v, now_ms);
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
    if (!req.has_param(key)) continue;
    const std::string v = req.param(key);
    if (v.empty() || v.size() > kMaxNameParam) {
      return fail(std::string("invalid '") + key + "': want 1 to 256 bytes");
    }
    (std::string_view(key) == "node" ? q.node : q.checker) = v;
  }
  if (req.has_param("type")) {
    const std::string v = req.param("type");
    const auto& types = history_event_types();
    if (std::find(types.begin(), types.end(), v) == types.end()) {
      std::string all;
      for (const auto& t : types) all += (all.empty() ? "" : ", ") + t;
      return fail("invalid 'type': want one of " + all);
    }
    q.type = v;
  }
  if (req.has_param("limit")) {
    const std::string v = req.param("limit");
    std::size_t n = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (v.empty() || ec != std::errc{} || p != v.data() + v.size() || n < 1 || n > kMaxLimit) {
      return fail("invalid 'limit': want an integer from 1 to 10000");
    }
    q.limit = n;
  }
  out.query = std::move(q);
  return out;
}

std::string history_json(const std::vector<HistoryRow>& rows) {
  nlohmann::ordered_json arr = nlohmann::ordered_json::array();
  for (const HistoryRow& r : rows) {
    arr.push_back({{"id", r.id},
                   {"timestamp", format_rfc3339_ms(r.timestamp_ms)},
                   {"type", r.type},
                   {"node", r.node},
                   {"checker", r.checker},
                   {"old_state", r.old_state},
                   {"new_state", r.new_state},
                   {"detail", r.detail}});
  }
  return arr.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

void add_status_routes(HttpServer& server, const SnapshotCell<ClusterView>& cell,
                       HistoryQueryFn history, WallClockFn now) {
  if (!now) now = system_now_ms;
  auto cache = std::make_shared<StatusCache>();
  server.get("/v1/status", [&cell, cache](const HttpRequest&) {
    auto view = cell.load();
    if (!view) return HttpResponse::error(503, "status not available yet");
    auto r = cache->get(view);
    return HttpResponse::json(r->status, r->degraded ? 503 : 200);
  });
  server.get("/v1/status/local", [&cell, cache](const HttpRequest&) {
    auto view = cell.load();
    if (!view) return HttpResponse::error(503, "status not available yet");
    auto r = cache->get(view);
    if (r->local.empty()) return HttpResponse::error(503, "this node is not in its own view yet");
    return HttpResponse::json(r->local, r->local_degraded ? 503 : 200);
  });
  server.get("/v1/history", [history = std::move(history), now](const HttpRequest& req) {
    auto parsed = parse_history_query(req, now());
    if (!parsed.query) return HttpResponse::error(400, parsed.error);
    if (!history) return HttpResponse::error(503, "history is not enabled on this agent");
    HistoryAnswer a = history(*parsed.query);
    if (!a.error.empty()) return HttpResponse::error(503, "history: " + a.error);
    return HttpResponse::json(history_json(a.events));
  });
}

}  // namespace vigil::api
