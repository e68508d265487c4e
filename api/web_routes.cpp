#include "api/web_routes.hpp"

#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <utility>

#include "api/http_server.hpp"
#include "api/query_params.hpp"
#include "api/status_json.hpp"
#include "api/time_format.hpp"
#include "api/web_page.hpp"

namespace vigil::api {
namespace {

using Json = nlohmann::ordered_json;

// The rendered /v1/reachability of the last snapshot asked for: rendered once per snapshot
// (under the lock, so concurrent requests for a new snapshot wait for one rendering). Served as
// a shared body (HttpResponse::shared_json): no copy per request, and httplib does not compress
// it. Compressed by httplib's brotli (any browser asks for br), 2 MB of links cost the agent
// ~3.4 s of CPU per request (500 nodes, dev machine), longer than the page's 4 s timeout allows.
class ReachCache {
 public:
  std::shared_ptr<const std::string> get(const std::shared_ptr<const ClusterView>& view) {
    std::lock_guard lock(mu_);
    if (view != view_) {
      body_ = std::make_shared<const std::string>(reachability_json(*view));
      view_ = view;
    }
    return body_;
  }

 private:
  std::mutex mu_;
  std::shared_ptr<const ClusterView> view_;
  std::shared_ptr<const std::string> body_;
};

// The rendered /v1/overview of the last snapshot asked for (same scheme as ReachCache; the
// reachability part comes from `reach`, so a snapshot's links are rendered once for both routes).
class OverviewCache {
 public:
  explicit OverviewCache(std::shared_ptr<ReachCache> reach) : reach_(std::move(reach)) {}

  struct Rendered {
    std::shared_ptr<const std::string> body;
    bool degraded = false;
  };

  Rendered get(const std::shared_ptr<const ClusterView>& view) {
    std::lock_guard lock(mu_);
    if (view != view_) {
      const auto reach = reach_->get(view);
      std::string body = "{\"status\":";
      body += status_json(*view);
      body += ",\"reachability\":";
      body += *reach;
      body += '}';
      cur_ = {std::make_shared<const std::string>(std::move(body)), cluster_degraded(*view)};
      view_ = view;
    }
    return cur_;
  }

 private:
  std::shared_ptr<ReachCache> reach_;
  std::mutex mu_;
  std::shared_ptr<const ClusterView> view_;
  Rendered cur_;
};

}  // namespace

std::string reachability_json(const ClusterView& v) {
  Json links = Json::array();
  for (const NodeView& n : v.nodes) {
    for (const ReachView& r : n.reach) {
      Json l{{"from", n.member.name}, {"to", r.peer}, {"protocol", r.protocol}, {"sent", r.sent}};
      if (r.counts_loss) l["lost"] = r.lost;
      l["rtt_ms"] = r.rtt_ms;
      if (r.large_sent > 0) {  // large echoes (MTU probe), when the row carries them
        l["large_sent"] = r.large_sent;
        l["large_lost"] = r.large_lost;
        l["large_bytes"] = r.large_bytes;
      }
      links.push_back(std::move(l));
    }
  }
  Json doc{{"observer", v.observer},
           {"timestamp", format_rfc3339_ms(v.timestamp_ms)},
           {"window_seconds", v.reach_window.count()},
           {"links", std::move(links)}};
  return doc.dump(-1, ' ', false, Json::error_handler_t::replace);
}

void add_web_routes(HttpServer& server, const SnapshotCell<ClusterView>& cell) {
  server.get("/", [](const HttpRequest&) {
    HttpResponse r{200, std::string(web_page_html()), "text/html; charset=utf-8"};
    r.headers.emplace_back("Cache-Control", "no-cache");
    return r;
  });
  auto cache = std::make_shared<ReachCache>();
  server.get("/v1/reachability", [&cell, cache](const HttpRequest&) {
    auto view = cell.load();
    if (!view) return HttpResponse::error(503, "status not available yet");
    return HttpResponse::shared_json(cache->get(view));
  });
  auto overview = std::make_shared<OverviewCache>(cache);
  server.get("/v1/overview", [&cell, overview](const HttpRequest& req) {
    if (auto bad = reject_query_params(req.params); !bad.empty()) {
      return HttpResponse::error(400, bad);
    }
    auto view = cell.load();
    if (!view) return HttpResponse::error(503, "status not available yet");
    const auto r = overview->get(view);
    return HttpResponse::shared_json(r.body, r.degraded ? 503 : 200);
  });
}

}  // namespace vigil::api
