#include "api/web_routes.hpp"

#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>

#include "api/http_server.hpp"
#include "api/time_format.hpp"
#include "api/web_page.hpp"

namespace vigil::api {
namespace {

using Json = nlohmann::ordered_json;

// The rendered /v1/reachability of the last snapshot asked for: rendered once per snapshot
// (under the lock, so concurrent requests for a new snapshot wait for one rendering).
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

}  // namespace

std::string reachability_json(const ClusterView& v) {
  Json links = Json::array();
  for (const NodeView& n : v.nodes) {
    for (const ReachView& r : n.reach) {
      Json l{{"from", n.member.name}, {"to", r.peer}, {"protocol", r.protocol}, {"sent", r.sent}};
      if (r.counts_loss) l["lost"] = r.lost;
      l["rtt_ms"] = r.rtt_ms;
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
    return HttpResponse::json(*cache->get(view));
  });
}

}  // namespace vigil::api
