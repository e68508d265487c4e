#include "api/http_server.hpp"

#include <doctest/doctest.h>
#include <httplib.h>

#include <nlohmann/json.hpp>
#include <stdexcept>

#include "api/members_routes.hpp"
#include "api/metrics_text.hpp"

using namespace vigil::api;

namespace {
struct PlainServer {
  HttpServer server;
  int port = 0;
  PlainServer() = default;
  void start() {
    port = server.bind("127.0.0.1", 0);
    server.start();
  }
  ~PlainServer() { server.stop(); }
};
}  // namespace

TEST_CASE("http_server: routes, params, JSON errors") {
  PlainServer r;
  r.server.get("/echo", [](const HttpRequest& req) {
    return HttpResponse::json(nlohmann::json{{"q", req.param("q", "none")}}.dump());
  });
  r.server.get(R"(/item/(\w+))", [](const HttpRequest& req) {
    return HttpResponse::json(nlohmann::json{{"id", req.matches.at(1)}}.dump());
  });
  r.server.get("/boom",
               [](const HttpRequest&) -> HttpResponse { throw std::runtime_error("kaboom"); });
  r.server.get("/bad", [](const HttpRequest&) { return HttpResponse::error(400, "bad since"); });
  r.start();
  httplib::Client c("127.0.0.1", r.port);

  auto res = c.Get("/echo?q=hi");
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(res->get_header_value("Content-Type") == "application/json");
  CHECK(nlohmann::json::parse(res->body)["q"] == "hi");

  res = c.Get("/item/abc");
  REQUIRE(res);
  CHECK(nlohmann::json::parse(res->body)["id"] == "abc");

  res = c.Get("/nope");
  REQUIRE(res);
  CHECK(res->status == 404);
  CHECK(nlohmann::json::parse(res->body)["error"] == "not found: /nope");

  res = c.Get("/boom");
  REQUIRE(res);
  CHECK(res->status == 500);
  CHECK(nlohmann::json::parse(res->body)["error"] == "internal error: kaboom");

  res = c.Get("/bad");
  REQUIRE(res);
  CHECK(res->status == 400);
  CHECK(nlohmann::json::parse(res->body)["error"] == "bad since");
}

TEST_CASE("http_server: bind conflict throws one line") {
  PlainServer a;
  a.start();
  HttpServer b;
  CHECK_THROWS_AS(b.bind("127.0.0.1", a.port), std::runtime_error);
}

TEST_CASE("members routes: members JSON, readyz states, metrics") {
  SnapshotCell<MembersSnapshot> cell;
  PlainServer r;
  add_members_routes(r.server, cell);
  r.start();
  httplib::Client c("127.0.0.1", r.port);

  auto res = c.Get("/readyz");
  REQUIRE(res);
  CHECK(res->status == 503);
  res = c.Get("/healthz");
  REQUIRE(res);
  CHECK(res->status == 200);

  auto snap = std::make_shared<MembersSnapshot>();
  snap->self = "n1";
  snap->members = {{"n1", "127.0.0.1:7946", "alive", 2, {{"zone", "a"}}},
                   {"n2", "[::1]:7946", "failed", 5, {}}};
  snap->ready = true;
  cell.publish(snap);
  res = c.Get("/v1/members");
  REQUIRE(res);
  CHECK(res->status == 200);
  auto j = nlohmann::json::parse(res->body);
  REQUIRE(j.is_array());
  REQUIRE(j.size() == 2);
  CHECK(j[0]["name"] == "n1");
  CHECK(j[0]["tags"]["zone"] == "a");
  CHECK(j[0]["incarnation"] == 2);
  CHECK(j[1]["status"] == "failed");
  CHECK(j[1]["tags"].is_object());
  res = c.Get("/readyz");
  REQUIRE(res);
  CHECK(res->status == 200);

  auto leaving = std::make_shared<MembersSnapshot>(*snap);
  leaving->leaving = true;
  cell.publish(leaving);
  res = c.Get("/readyz");
  REQUIRE(res);
  CHECK(res->status == 503);

  GossipMetrics gm;
  gm.messages_in = {{"ping", 4}};
  gm.messages_out = {{"ack", 4}};
  gm.members_by_status = {{"alive", 1}, {"failed", 1}};
  gm.decrypt_errors = 9;
  MetricsText mt;
  write_gossip_metrics(mt, gm);
  CHECK(mt.str().find("vigil_gossip_messages_total{type=\"ping\",direction=\"in\"} 4\n") !=
        std::string::npos);
  CHECK(mt.str().find("vigil_gossip_decrypt_errors_total 9\n") != std::string::npos);
  CHECK(mt.str().find("# TYPE vigil_members gauge\n") != std::string::npos);
}
