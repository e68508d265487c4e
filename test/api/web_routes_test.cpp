#include "api/web_routes.hpp"

#include <doctest/doctest.h>
#include <httplib.h>

#include <memory>
#include <nlohmann/json.hpp>

#include "api/http_server.hpp"
#include "api/web_page.hpp"

using namespace vigil::api;

namespace {

ClusterView two_nodes() {
  // (Designated initializers: GCC 12 -Wrestrict misfires on `v.observer = "a"` at -O2.)
  ClusterView v{.observer = "a",
                .timestamp_ms = 1'795'000'000'123,
                .nodes = {},
                .reach_window = std::chrono::seconds(60),
                .observer_cut_off = {}};
  NodeView a;
  a.member = {"a", "10.0.0.1:7946", "alive", 1, {{"zone", "z1"}}};
  a.reach = {{"b", "icmp", 10, 3, 0.25, true}, {"b", "gossip", 4, 0, 0.5, false}};
  NodeView b;
  b.member = {"b", "10.0.0.2:7946", "failed", 2, {}};
  b.reach = {{"a", "icmp", 5, 0, 0.125, true}};
  v.nodes = {a, b};
  return v;
}

}  // namespace

TEST_CASE("web: reachability_json lists every measured link; lost only where counted") {
  auto j = nlohmann::json::parse(reachability_json(two_nodes()));
  CHECK(j["observer"] == "a");
  CHECK(j["timestamp"] == "2026-11-18T11:06:40.123Z");
  CHECK(j["window_seconds"] == 60);
  REQUIRE(j["links"].size() == 3);
  CHECK(j["links"][0] == nlohmann::json{{"from", "a"},
                                        {"to", "b"},
                                        {"protocol", "icmp"},
                                        {"sent", 10},
                                        {"lost", 3},
                                        {"rtt_ms", 0.25}});
  CHECK(j["links"][1]["protocol"] == "gossip");
  CHECK_FALSE(j["links"][1].contains("lost"));  // gossip does not measure loss
  CHECK(j["links"][2]["from"] == "b");
  CHECK(j["links"][2]["lost"] == 0);

  ClusterView empty;
  CHECK(nlohmann::json::parse(reachability_json(empty))["links"].empty());
}

TEST_CASE("web: GET / serves the self-contained page; /v1/reachability reads the snapshot") {
  SnapshotCell<ClusterView> cell;
  HttpServer server;
  add_web_routes(server, cell);
  const int port = server.bind("127.0.0.1", 0);
  server.start();
  httplib::Client c("127.0.0.1", port);

  auto res = c.Get("/");
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(res->get_header_value("Content-Type") == "text/html; charset=utf-8");
  CHECK(res->get_header_value("Cache-Control") == "no-cache");
  CHECK(res->body == web_page_html());
  CHECK(res->body.rfind("<!DOCTYPE html>", 0) == 0);
  CHECK(res->body.find("</html>") != std::string::npos);
  // Self-contained: nothing loaded from elsewhere.
  for (const char* external : {"<script src", "<link", "@import", "url(http", "//cdn"})
    CHECK_MESSAGE(res->body.find(external) == std::string::npos, external);
  // The page polls the routes with relative URLs (works behind a proxy prefix).
  CHECK(res->body.find("getJson(\"v1/status\")") != std::string::npos);
  CHECK(res->body.find("getJson(\"v1/reachability\")") != std::string::npos);

  res = c.Get("/v1/reachability");
  REQUIRE(res);
  CHECK(res->status == 503);  // nothing published yet
  CHECK(nlohmann::json::parse(res->body).contains("error"));

  cell.publish(std::make_shared<const ClusterView>(two_nodes()));
  res = c.Get("/v1/reachability");
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(nlohmann::json::parse(res->body)["links"].size() == 3);

  // A new snapshot is rendered anew (the cache is per snapshot).
  ClusterView v = two_nodes();
  v.nodes[0].reach.clear();
  cell.publish(std::make_shared<const ClusterView>(v));
  res = c.Get("/v1/reachability");
  REQUIRE(res);
  CHECK(nlohmann::json::parse(res->body)["links"].size() == 1);

  res = c.Get("/index.html");  // only "/" is the page
  REQUIRE(res);
  CHECK(res->status == 404);
  server.stop();
}
