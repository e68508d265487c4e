// /v1/status JSON shape and rules on synthetic ClusterViews, the routes over a real
// HttpServer on 127.0.0.1, and every bad /v1/history parameter -> 400 JSON.
#include <doctest/doctest.h>
#include <httplib.h>

#include <nlohmann/json.hpp>

#include "api/http_server.hpp"
#include "api/status_json.hpp"
#include "api/status_routes.hpp"
#include "api/time_format.hpp"

using namespace vigil::api;
using nlohmann::json;

namespace {

constexpr std::int64_t kStatusNow = 1'795'442'700'123;  // 2026-11-23T14:05:00.123Z

NodeView node(std::string name, std::string status = "alive", std::string zone = "eu-1a") {
  NodeView n;
  n.member = {name, "10.0.0.1:7946", status, 3, {{"role", "worker"}, {"zone", zone}}};
  n.updated_ms = kStatusNow - 2000;
  n.probes.push_back({"docker", "docker", "running", "critical", kStatusNow - 60000, "", ""});
  return n;
}

ClusterView three_nodes(std::string observer = "node-2") {
  ClusterView v;
  v.observer = observer;
  v.timestamp_ms = kStatusNow;
  v.nodes = {node("node-1"), node("node-2"), node("node-3")};
  return v;
}

std::string without_observer(json j) {
  j.erase("observer");
  j.erase("timestamp");
  return j.dump();
}

}  // namespace

TEST_CASE("time formats: RFC 3339 with ms, ages") {
  CHECK(format_rfc3339_ms(kStatusNow) == "2026-11-23T14:05:00.123Z");
  CHECK(format_rfc3339_ms(0) == "1970-01-01T00:00:00.000Z");
  CHECK(parse_rfc3339_ms("2026-11-23T14:05:00.123Z") == kStatusNow);
  CHECK(parse_rfc3339_ms("2026-11-23T14:05:00.123456Z") == kStatusNow);
  CHECK(parse_rfc3339_ms("2026-11-23T16:05:00.123+02:00") == kStatusNow);
  CHECK(parse_rfc3339_ms("2026-11-23t14:05:00z") == kStatusNow - 123);
  for (const char* bad : {"", "2026-11-23", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z",
                          "2026-11-23T25:00:00Z", "2026-11-23T14:05:00", "2026-11-23T14:05:00.Z",
                          "2026-11-23T14:05:00Zjunk", "2026-11-23 14:05:00Z"}) {
    CHECK_MESSAGE(!parse_rfc3339_ms(bad), bad);
  }
  CHECK(parse_age_ms("1h") == 3'600'000);
  CHECK(parse_age_ms("1h30m") == 5'400'000);
  CHECK(parse_age_ms("500ms") == 500);
  CHECK(parse_age_ms("7d") == 7 * 86'400'000LL);
  for (const char* bad : {"", "h", "1", "-1h", "1x", "1.5h", "99999999999999999999h", "1h "}) {
    CHECK_MESSAGE(!parse_age_ms(bad), bad);
  }
  CHECK(parse_time_or_age_ms("1h", kStatusNow) == kStatusNow - 3'600'000);
}

TEST_CASE("status JSON: shape of a healthy cluster") {
  ClusterView v = three_nodes();
  json j = json::parse(status_json(v));
  CHECK(j["status"] == "running");
  CHECK(j["timestamp"] == "2026-11-23T14:05:00.123Z");
  CHECK(j["summary"] == "all 3 nodes running");
  CHECK(j["observer"] == "node-2");
  REQUIRE(j["nodes"].size() == 3);
  const json& n1 = j["nodes"][0];
  CHECK(n1["name"] == "node-1");
  CHECK(n1["status"] == "running");
  CHECK(n1["member_status"]["name"] == "node-1");
  CHECK(n1["member_status"]["addr"] == "10.0.0.1:7946");
  CHECK(n1["member_status"]["status"] == "alive");
  CHECK(n1["member_status"]["incarnation"] == 3);
  CHECK(n1["member_status"]["tags"]["zone"] == "eu-1a");
  CHECK(n1["updated"] == "2026-11-23T14:04:58.123Z");
  REQUIRE(n1["probes"].size() == 1);
  CHECK(n1["probes"][0]["checker"] == "docker");
  CHECK(n1["probes"][0]["status"] == "running");
  CHECK_FALSE(n1["probes"][0].contains("severity"));  // only failed probes carry severity
  CHECK_FALSE(n1["probes"][0].contains("error"));
  CHECK(j["diagnosis"].is_array());
  CHECK(j["diagnosis"].empty());
  // Field order as design.md writes it.
  const std::string raw = status_json(v);
  CHECK(raw.find("\"status\"") < raw.find("\"timestamp\""));
  CHECK(raw.find("\"summary\"") < raw.find("\"observer\""));
  CHECK(raw.find("\"observer\"") < raw.find("\"nodes\""));
}

TEST_CASE("degraded rules: failed critical or not alive; warnings do not count") {
  ClusterView v = three_nodes();
  v.nodes[0].probes.push_back({"disk", "disk", "failed", "warning", kStatusNow - 1000, "",
                               "/var: 84% used (warn 80%, crit 90%)"});
  CHECK_FALSE(node_degraded(v.nodes[0]));
  CHECK_FALSE(cluster_degraded(v));
  CHECK(json::parse(status_json(v))["status"] == "running");

  v.nodes[0].probes.push_back({"etcd", "etcd", "failed", "critical", kStatusNow - 5000,
                               "GET http://127.0.0.1:2379/health: 503", ""});
  CHECK(node_degraded(v.nodes[0]));
  json j = json::parse(status_json(v));
  CHECK(j["status"] == "degraded");
  CHECK(j["summary"] == "1 of 3 nodes degraded");
  CHECK(j["nodes"][0]["status"] == "degraded");
  const json& etcd = j["nodes"][0]["probes"][2];
  CHECK(etcd["checker"] == "etcd");
  CHECK(etcd["severity"] == "critical");
  CHECK(etcd["since"] == "2026-11-23T14:04:55.123Z");
  CHECK(etcd["error"] == "GET http://127.0.0.1:2379/health: 503");
  CHECK(j["nodes"][0]["probes"][1]["severity"] == "warning");
  CHECK(j["nodes"][0]["probes"][1]["detail"] == "/var: 84% used (warn 80%, crit 90%)");

  for (const char* st : {"suspect", "failed"}) {
    ClusterView w = three_nodes();
    w.nodes[2].member.status = st;
    CHECK(node_degraded(w.nodes[2]));
    json k = json::parse(status_json(w));
    CHECK(k["status"] == "degraded");
    CHECK(k["nodes"][2]["status"] == "degraded");
    CHECK(k["nodes"][2]["member_status"]["status"] == st);
    CHECK(k["nodes"][2]["probes"].size() == 1);  // last known probes kept
  }
  ClusterView one;
  one.nodes = {node("solo")};
  CHECK(status_summary(one) == "1 node running");
  CHECK(status_summary(ClusterView{}) == "no nodes known");
}

TEST_CASE("identical views from two observers give identical documents but observer/time") {
  ClusterView a = three_nodes("node-1");
  ClusterView b = three_nodes("node-3");
  b.timestamp_ms = kStatusNow + 777;
  a.nodes[1].probes.push_back(
      {"etcd", "etcd", "failed", "critical", kStatusNow - 5000, "down", ""});
  b.nodes[1].probes = a.nodes[1].probes;
  const json ja = json::parse(status_json(a)), jb = json::parse(status_json(b));
  CHECK(ja["observer"] == "node-1");
  CHECK(jb["observer"] == "node-3");
  CHECK(ja["timestamp"] != jb["timestamp"]);
  CHECK(without_observer(ja) == without_observer(jb));
}

TEST_CASE("diagnosis is fed by the reachability rows and member states") {
  ClusterView v;
  v.observer = "n1";
  v.timestamp_ms = kStatusNow;
  for (int i = 1; i <= 5; ++i) v.nodes.push_back(node("n" + std::to_string(i)));
  // Every peer loses everything to n5; n5's own row is gone (it is down); the rest are fine.
  for (int i = 1; i <= 4; ++i) {
    for (int k = 1; k <= 5; ++k) {
      if (k == i) continue;
      v.nodes[i - 1].reach.push_back(
          {"n" + std::to_string(k), "icmp", 60, k == 5 ? 60u : 0u, 0.4, true});
      // Gossip RTT-only samples never count as evidence.
      v.nodes[i - 1].reach.push_back({"n" + std::to_string(k), "gossip", 30, 0, 0.3, false});
    }
  }
  v.nodes[4].member.status = "failed";
  DiagnosisInput in = diagnosis_input(v);
  CHECK(in.nodes.size() == 5);
  CHECK(in.links.size() == 16);
  CHECK(in.nodes[0].zone == "eu-1a");
  CHECK(in.nodes[4].status == PeerStatus::failed);
  json j = json::parse(status_json(v));
  REQUIRE_FALSE(j["diagnosis"].empty());
  CHECK(j["diagnosis"][0]["kind"] == "node-unreachable");
  CHECK(j["diagnosis"][0]["node"] == "n5");
  CHECK(j["diagnosis"][0]["evidence"].get<std::string>().find("n5") != std::string::npos);
}

TEST_CASE("status JSON escapes everything and replaces invalid UTF-8") {
  ClusterView v = three_nodes();
  const std::string nasty = std::string(
      "quote\" back\\ nl\n tab\t bell\x07 \xC3\xA9 bad\xFF\xC3 "
      "overlong\xC0\xAF sur\xED\xA0\x80 ok\xF0\x9F\x94\xA5");
  v.nodes[0].probes.push_back({"exec", "exec", "failed", "critical", kStatusNow, nasty, nasty});
  v.nodes[0].member.tags.push_back({"zone", "dup"});  // a duplicate key must not break JSON
  json j = json::parse(status_json(v));               // throws on invalid JSON or invalid UTF-8
  const std::string err = j["nodes"][0]["probes"][1]["error"];
  CHECK(err.find("quote\" back\\ nl\n tab\t bell\x07 \xC3\xA9 bad") == 0);
  CHECK(err.find("\xEF\xBF\xBD") != std::string::npos);
  CHECK(err.find("ok\xF0\x9F\x94\xA5") != std::string::npos);
  CHECK(err.find("\xFF") == std::string::npos);
  CHECK(j["nodes"][0]["member_status"]["tags"]["zone"] == "eu-1a");
  CHECK(json::parse(local_status_json(three_nodes())).is_object());
}

TEST_CASE("local status is the observer's node object") {
  ClusterView v = three_nodes("node-2");
  json l = json::parse(local_status_json(v));
  CHECK(l["name"] == "node-2");
  CHECK(l["status"] == "running");
  CHECK(l["member_status"]["status"] == "alive");
  v.observer = "ghost";
  CHECK(local_status_json(v).empty());
}

namespace {

struct Server {
  HttpServer http;
  SnapshotCell<ClusterView> cell;
  std::vector<HistoryQuery> queries;
  std::mutex mu;
  int port = 0;
  explicit Server(bool with_history = true) {
    HistoryQueryFn fn;
    if (with_history) {
      fn = [this](const HistoryQuery& q) {
        std::lock_guard lock(mu);
        queries.push_back(q);
        HistoryAnswer a;
        a.events.push_back({7, kStatusNow, "ProbeFailed", "node-1", "etcd", "running", "failed",
                            "critical: down"});
        return a;
      };
    }
    add_status_routes(http, cell, fn, [] { return kStatusNow; });
    port = http.bind("127.0.0.1", 0);
    http.start();
  }
  ~Server() { http.stop(); }
};

}  // namespace

TEST_CASE("routes: /v1/status 200/503, /v1/status/local, not ready yet") {
  Server s;
  httplib::Client c("127.0.0.1", s.port);
  auto res = c.Get("/v1/status");
  REQUIRE(res);
  CHECK(res->status == 503);
  CHECK(json::parse(res->body).contains("error"));

  s.cell.publish(std::make_shared<ClusterView>(three_nodes()));
  res = c.Get("/v1/status");
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(res->get_header_value("Content-Type") == "application/json");
  CHECK(json::parse(res->body)["status"] == "running");
  res = c.Get("/v1/status/local");
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(json::parse(res->body)["name"] == "node-2");

  ClusterView bad = three_nodes();
  bad.nodes[0].member.status = "failed";
  s.cell.publish(std::make_shared<ClusterView>(bad));
  res = c.Get("/v1/status");
  REQUIRE(res);
  CHECK(res->status == 503);
  CHECK(json::parse(res->body)["status"] == "degraded");
  res = c.Get("/v1/status/local");  // node-2 itself is fine
  REQUIRE(res);
  CHECK(res->status == 200);
  bad.nodes[1].probes.push_back({"etcd", "etcd", "failed", "critical", kStatusNow, "down", ""});
  s.cell.publish(std::make_shared<ClusterView>(bad));
  res = c.Get("/v1/status/local");
  REQUIRE(res);
  CHECK(res->status == 503);
  CHECK(json::parse(res->body)["status"] == "degraded");
}

TEST_CASE("routes: /v1/history passes validated filters and renders events") {
  Server s;
  httplib::Client c("127.0.0.1", s.port);
  auto res = c.Get(
      "/v1/history?since=1h&until=2026-11-23T14:05:00Z&node=node-1&checker=etcd&type=ProbeFailed"
      "&limit=20");
  REQUIRE(res);
  CHECK(res->status == 200);
  json j = json::parse(res->body);
  REQUIRE(j.is_array());
  REQUIRE(j.size() == 1);
  CHECK(j[0]["id"] == 7);
  CHECK(j[0]["timestamp"] == "2026-11-23T14:05:00.123Z");
  CHECK(j[0]["type"] == "ProbeFailed");
  CHECK(j[0]["old_state"] == "running");
  CHECK(j[0]["new_state"] == "failed");
  std::lock_guard lock(s.mu);
  REQUIRE(s.queries.size() == 1);
  const HistoryQuery& q = s.queries[0];
  CHECK(q.since_ms == kStatusNow - 3'600'000);
  CHECK(q.until_ms == kStatusNow - 123);
  CHECK(q.node == "node-1");
  CHECK(q.checker == "etcd");
  CHECK(q.type == "ProbeFailed");
  CHECK(q.limit == 20);
}

TEST_CASE("routes: every bad /v1/history parameter -> 400 JSON, the query never runs") {
  Server s;
  httplib::Client c("127.0.0.1", s.port);
  const char* bad[] = {
      "since=yesterday",
      "since=",
      "since=-1h",
      "until=2026-13-01T00:00:00Z",
      "since=1h&until=2h",  // since after until
      "since=2026-11-23T14:00:00Z&until=2026-11-23T14:00:00Z",
      "node=",
      "checker=",
      "type=ProbeExploded",
      "type=probefailed",
      "limit=0",
      "limit=10001",
      "limit=-5",
      "limit=abc",
      "limit=10abc",
      "limit=",
      "limit=99999999999999999999999",
      "nodes=node-1",
      "node=a&node=b",
      "node=x%27%3B%20DROP%20TABLE%20events%3B--&limit=0",
  };
  for (const char* q : bad) {
    auto res = c.Get(std::string("/v1/history?") + q);
    REQUIRE(res);
    CHECK_MESSAGE(res->status == 400, q);
    auto j = json::parse(res->body, nullptr, false);
    CHECK_MESSAGE((j.is_object() && j["error"].is_string() && !j["error"].empty()), q);
  }
  auto res = c.Get("/v1/history?node=" + std::string(300, 'x'));
  REQUIRE(res);
  CHECK(res->status == 400);
  std::lock_guard lock(s.mu);
  CHECK(s.queries.empty());
}

TEST_CASE("routes: /v1/history without a store answers 503 JSON") {
  Server s(false);
  httplib::Client c("127.0.0.1", s.port);
  auto res = c.Get("/v1/history");
  REQUIRE(res);
  CHECK(res->status == 503);
  CHECK(json::parse(res->body).contains("error"));
}

TEST_CASE("bench: rendering /v1/status for 1000 nodes x 10 probes (prints, never fails)") {
  ClusterView v;
  v.observer = "node-0000";
  v.timestamp_ms = kStatusNow;
  for (int i = 0; i < 1000; ++i) {
    char name[16];
    std::snprintf(name, sizeof name, "node-%04d", i);
    NodeView n = node(name);
    for (int k = 1; k < 10; ++k) {
      n.probes.push_back({"check-" + std::to_string(k), "tcp",
                          k == 3 && i % 50 == 0 ? "failed" : "running", "critical",
                          kStatusNow - 1000, k == 3 ? "connect 10.0.0.1:443: refused" : "",
                          "ok in 3ms"});
    }
    for (int p = 1; p <= 8; ++p) {
      char peer[16];
      std::snprintf(peer, sizeof peer, "node-%04d", (i + p) % 1000);
      n.reach.push_back({peer, "icmp", 60, 0, 0.4, true});
    }
    v.nodes.push_back(std::move(n));
  }
  const auto t0 = std::chrono::steady_clock::now();
  std::string doc;
  const int rounds = 3;
  for (int r = 0; r < rounds; ++r) doc = status_json(v);
  const auto ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() /
      rounds;
  MESSAGE("status_json: 1000 nodes x 10 probes + 8 links each -> " << doc.size() << " bytes in "
                                                                   << ms << " ms (rendered once "
                                                                   << "per published snapshot)");
  CHECK(json::parse(doc)["nodes"].size() == 1000);
}
