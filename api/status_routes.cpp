#include "api/status_routes.hpp"

#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>

#include "api/http_server.hpp"
#include "api/status_json.hpp"
#include "api/time_format.hpp"

namespace vigil::api {
namespace {

std::int64_t system_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The rendered documents of one snapshot: built on first use, shared by every request that
// reads the same snapshot (a 1000-node status is rendered once, not per request).
struct Rendered {
  std::shared_ptr<const ClusterView> view;
  std::shared_ptr<const std::string> status, local;  // served without a copy
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
    r->status = std::make_shared<const std::string>(status_json(*view));
    r->degraded = cluster_degraded(*view);
    r->local = std::make_shared<const std::string>(local_status_json(*view));
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
  server.get("/v1/status", [&cell, cache](const HttpRequest& req) {
    if (auto bad = reject_query_params(req.params); !bad.empty()) {
      return HttpResponse::error(400, bad);
    }
    auto view = cell.load();
    if (!view) return HttpResponse::error(503, "status not available yet");
    auto r = cache->get(view);
    return HttpResponse::shared_json(r->status, r->degraded ? 503 : 200);
  });
  server.get("/v1/status/local", [&cell, cache](const HttpRequest& req) {
    if (auto bad = reject_query_params(req.params); !bad.empty()) {
      return HttpResponse::error(400, bad);
    }
    auto view = cell.load();
    if (!view) return HttpResponse::error(503, "status not available yet");
    auto r = cache->get(view);
    if (r->local->empty()) return HttpResponse::error(503, "this node is not in its own view yet");
    return HttpResponse::shared_json(r->local, r->local_degraded ? 503 : 200);
  });
  server.get("/v1/history", [history = std::move(history), now](const HttpRequest& req) {
    auto parsed = parse_history_query(req.params, now());
    if (!parsed.query) return HttpResponse::error(400, parsed.error);
    if (!history) return HttpResponse::error(503, "history is not enabled on this agent");
    HistoryAnswer a = history(*parsed.query);
    if (!a.error.empty()) return HttpResponse::error(503, "history: " + a.error);
    return HttpResponse::json(history_json(a.events));
  });
}

}  // namespace vigil::api
