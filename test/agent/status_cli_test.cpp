// `vigil status` / `vigil history`: rendering (pure, JSON -> text) and exit codes against a
// real api::HttpServer on 127.0.0.1 serving synthetic ClusterViews.
#include <doctest/doctest.h>

#include <memory>

#include "agent/status_client.hpp"
#include "api/http_server.hpp"
#include "api/status_json.hpp"
#include "api/status_routes.hpp"

using namespace vigil;
using namespace vigil::agent;

namespace {

constexpr std::int64_t kNow = 1'795'442'700'123;  // 2026-11-23T14:05:00.123Z

api::NodeView node(std::string name, std::string status = "alive") {
  api::NodeView n;
  n.member = {name, "10.0.0.1:7946", status, 1, {{"zone", "z1"}}};
  n.updated_ms = kNow - 3000;
  n.probes.push_back({"docker", "docker", "running", "critical", kNow - 60000, "", ""});
  return n;
}

api::ClusterView degraded_view() {
  api::ClusterView v;
  v.observer = "node-2";
  v.timestamp_ms = kNow;
  v.nodes = {node("node-1"), node("node-2"), node("node-3", "failed")};
  v.nodes[0].probes.push_back({"etcd", "etcd", "failed", "critical", kNow - 5000,
                               "GET http://127.0.0.1:2379/health: 503", ""});
  v.nodes[0].probes.push_back(
      {"disk", "disk", "failed", "warning", kNow - 5000, "", "/var: 84% used (warn 80%)"});
  v.nodes[2].updated_ms = kNow - 600'000;
  return v;
}

api::ClusterView healthy_view() {
  api::ClusterView v;
  v.observer = "node-1";
  v.timestamp_ms = kNow;
  v.nodes = {node("node-1"), node("node-2")};
  return v;
}

bool has(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

struct Agent {
  api::HttpServer http;
  api::SnapshotCell<api::ClusterView> cell;
  int port = 0;
  Agent() {
    api::add_status_routes(
        http, cell,
        [](const api::HistoryQuery& q) {
          api::HistoryAnswer a;
          a.events.push_back({1, kNow - 5000, "ProbeFailed", "node-1", "etcd", "running", "failed",
                              "critical: GET http://127.0.0.1:2379/health: 503"});
          a.events.push_back({2, kNow - 4000, "ClusterDegraded", "", "", "running", "degraded",
                              "1 of 3 nodes degraded: node-1"});
          if (q.limit == 1) a.events.erase(a.events.begin());
          return a;
        },
        [] { return kNow; });
    port = http.bind("127.0.0.1", 0);
    http.start();
  }
  ~Agent() { http.stop(); }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port); }
};

}  // namespace

TEST_CASE("render_status: verdict and diagnosis on top, one line per node, marks") {
  const std::string doc = api::status_json(degraded_view());
  const std::string t = render_status(doc, false);
  MESSAGE("\n" << t);
  CHECK(t.rfind("DEGRADED  2 of 3 nodes degraded  (observer node-2, 2026-11-23T14:05:00.123Z)",
                0) == 0);
  CHECK(has(t, "NODE    MEMBER  STATUS    UPDATED  PROBES"));
  CHECK(has(
      t,
      "node-1  alive   degraded  3s ago   [\xC3\x97] etcd: GET http://127.0.0.1:2379/health: 503"));
  CHECK(has(t, "[!] disk: /var: 84% used (warn 80%)"));
  CHECK(has(t, "node-2  alive   running   3s ago   1 probe ok"));
  CHECK(has(t, "node-3  failed  degraded  10m ago  1 probe ok"));
  CHECK_FALSE(has(t, "\033["));  // no colour unless asked (not a TTY)
  // The critical failure comes before the warning, which sits on a continuation line.
  CHECK(t.find("[\xC3\x97] etcd") < t.find("[!] disk"));
  const std::string c = render_status(doc, true);
  CHECK(has(c, "\033[31m"));
  CHECK(has(c, "\033[33m[!] disk"));
  CHECK(status_exit_code(doc) == 1);
  CHECK(status_exit_code(api::status_json(healthy_view())) == 0);
  CHECK(status_exit_code("{\"status\":\"weird\"}") == 2);
  CHECK(status_exit_code("not json") == 2);
  CHECK(render_status("[1,2]", false) == "unreadable status document\n");
  const std::string h = render_status(api::status_json(healthy_view()), false);
  CHECK(h.rfind("RUNNING  all 2 nodes running", 0) == 0);
  CHECK_FALSE(has(h, "diagnosis"));
}

TEST_CASE("render_history: table of events") {
  const std::string doc = api::history_json(
      {{1, kNow, "ProbeFailed", "node-1", "etcd", "running", "failed", "critical: down"},
       {2, kNow, "NodeAdded", "node-4", "", "", "alive", "addr 10.0.0.4:7946"}});
  const std::string t = render_history(doc, false);
  MESSAGE("\n" << t);
  CHECK(
      has(t, "TIME                      TYPE         NODE    CHECKER  CHANGE             DETAIL"));
  CHECK(has(
      t,
      "2026-11-23T14:05:00.123Z  ProbeFailed  node-1  etcd     running -> failed  critical: down"));
  CHECK(has(t, "NodeAdded    node-4           alive"));
  CHECK(render_history("[]", false) == "no events\n");
  CHECK(has(render_history(doc, true), "\033[31mProbeFailed"));
}

TEST_CASE("vigil status exit codes: 0 running, 1 degraded, 2 unreachable or error") {
  Agent a;
  StatusCliOptions o;
  o.addr = a.url();
  o.timeout = std::chrono::seconds(10);
  CliOutcome r = run_status_client(o);  // nothing published yet: the agent answers an error
  CHECK(r.exit_code == 2);
  CHECK(has(r.err, "status not available yet"));

  a.cell.publish(std::make_shared<api::ClusterView>(healthy_view()));
  r = run_status_client(o);
  CHECK(r.exit_code == 0);
  CHECK(r.err.empty());
  CHECK(has(r.out, "RUNNING"));

  a.cell.publish(std::make_shared<api::ClusterView>(degraded_view()));
  r = run_status_client(o);  // HTTP 503 with a status document is "degraded", not an error
  CHECK(r.exit_code == 1);
  CHECK(has(r.out, "node-1"));
  o.json = true;
  r = run_status_client(o);
  CHECK(r.exit_code == 1);
  CHECK(has(r.out, "\"summary\": \"2 of 3 nodes degraded\""));
  o.json = false;
  o.local = true;  // node-2 itself is fine
  r = run_status_client(o);
  CHECK(r.exit_code == 0);
  CHECK(has(r.out, "node-2"));
  CHECK(has(r.out, "CHECKER"));

  // Unreachable: a port nobody listens on any more.
  int dead_port = 0;
  {
    api::HttpServer s;
    dead_port = s.bind("127.0.0.1", 0);
  }
  o.addr = "127.0.0.1:" + std::to_string(dead_port);
  o.timeout = std::chrono::seconds(5);
  r = run_status_client(o);
  CHECK(r.exit_code == 2);
  CHECK(has(r.err, "cannot reach the agent"));
  o.addr = "http://[not a url";
  CHECK(run_status_client(o).exit_code == 2);
}

TEST_CASE("vigil history: table, JSON, and a 400 from the agent is exit 2 with its message") {
  Agent a;
  HistoryCliOptions o;
  o.addr = a.url();
  o.since = "1h";
  o.node = "node-1";
  CliOutcome r = run_history_client(o);
  CHECK(r.exit_code == 0);
  CHECK(has(r.out, "ProbeFailed"));
  CHECK(has(r.out, "ClusterDegraded"));
  o.limit = 1;
  o.json = true;
  r = run_history_client(o);
  CHECK(r.exit_code == 0);
  CHECK_FALSE(has(r.out, "ProbeFailed"));
  CHECK(has(r.out, "\"type\": \"ClusterDegraded\""));
  o.since = "yesterday";
  r = run_history_client(o);
  CHECK(r.exit_code == 2);
  CHECK(has(r.err, "HTTP 400"));
  CHECK(has(r.err, "invalid 'since'"));
}
