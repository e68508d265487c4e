// StatusExtension in two in-process Agents on 127.0.0.1: a probe failing on node a shows up
// in node b's /v1/status (degraded, with the error) and in b's /v1/history (ProbeFailed);
// SIGTERM ends both. Polls with generous bounded deadlines; no fixed sleeps as assertions.
#include <doctest/doctest.h>
#include <httplib.h>
#include <signal.h>
#include <unistd.h>

#include <asio.hpp>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <thread>

#include "agent/agent.hpp"
#include "agent/status_extension.hpp"
#include "store/history_store.hpp"
#include "test/ports.hpp"

using namespace vigil;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

using vigil::test::free_port;  // test/ports.hpp: reserved for this test process

// Forwards to a StatusExtension and keeps the loop's io_context, so the test can post work
// (feeding a probe result) onto the loop thread as the checkers' scheduler would.
struct Forward : agent::AgentExtension {
  agent::StatusExtension inner;
  std::atomic<asio::io_context*> io{nullptr};
  Forward(std::string name, std::string dir, agent::StatusExtensionOptions o = {})
      : inner(std::move(name), std::move(dir), std::move(o)) {}
  gossip::Delegate* delegate() override { return inner.delegate(); }
  void register_routes(api::HttpServer& h) override { inner.register_routes(h); }
  void start(agent::AgentContext& ctx) override {
    inner.start(ctx);
    io = &ctx.io;
  }
  void on_events(const std::vector<gossip::Event>& e) override { inner.on_events(e); }
  void on_publish() override { inner.on_publish(); }
  void write_metrics(api::MetricsText& out) override { inner.write_metrics(out); }
  void stop() override { inner.stop(); }
};

struct Node {
  std::string dir;
  int http = free_port();
  int gossip = free_port();
  std::FILE* log_file = std::tmpfile();
  agent::Logger log{agent::LogLevel::warn, agent::LogFormat::text, log_file};
  std::unique_ptr<agent::Agent> agent;
  Forward* ext = nullptr;
  std::thread runner;
  std::atomic<int> rc{-1};

  Node(const std::string& name, std::optional<int> join, agent::StatusExtensionOptions o = {}) {
    dir = (std::filesystem::temp_directory_path() /
           ("vigil-ext-" + name + "-" + std::to_string(::getpid())))
              .string();
    std::filesystem::create_directories(dir);
    agent::AgentFlags f;
    f.name = name;
    f.bind = "127.0.0.1:" + std::to_string(gossip);
    f.http = "127.0.0.1:" + std::to_string(http);
    f.profile = "local";
    f.data_dir = dir;
    if (join) f.join = std::vector<std::string>{"127.0.0.1:" + std::to_string(*join)};
    agent = std::make_unique<agent::Agent>(agent::resolve_config(f), log);
    auto e = std::make_unique<Forward>(name, dir, std::move(o));
    ext = e.get();
    agent->add_extension(std::move(e));
    runner = std::thread([this] { rc = agent->run(); });
  }
  ~Node() {
    if (runner.joinable()) runner.join();
    agent.reset();
    std::fclose(log_file);
    std::filesystem::remove_all(dir);
  }
  std::string url() const { return "127.0.0.1:" + std::to_string(http); }
};

// Polls `f` every 100 ms until it returns true or `limit` passes.
bool eventually(const std::function<bool()>& f, std::chrono::seconds limit = 30s) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (f()) return true;
    std::this_thread::sleep_for(100ms);
  }
  return f();
}

json get(const std::string& url, const std::string& path, int* status = nullptr) {
  httplib::Client c(url);
  c.set_read_timeout(5s);
  auto r = c.Get(path);
  if (!r) return json();
  if (status) *status = r->status;
  return json::parse(r->body, nullptr, false);
}

}  // namespace

TEST_CASE("status extension: a probe failing on a reaches b's /v1/status and history") {
  auto a = std::make_unique<Node>("node-a", std::nullopt);
  auto b = std::make_unique<Node>("node-b", a->gossip);
  const bool both = eventually([&] {
    json s = get(b->url(), "/v1/status");
    return s.is_object() && s["nodes"].size() == 2 && s["status"] == "running";
  });
  CHECK(both);

  // What the checkers' scheduler does on a's loop thread.
  REQUIRE(eventually([&] { return a->ext->io.load() != nullptr; }));
  asio::post(*a->ext->io.load(), [&a] {
    checkers::Probe p = checkers::Probe::fail(checkers::Severity::critical,
                                              "GET http://127.0.0.1:2379/health: 503");
    p.checker = p.type = "etcd";
    a->ext->inner.health().set_local_probe(p, 1'795'442'700'000);
  });
  int code = 0;
  const bool seen = eventually([&] {
    json s = get(b->url(), "/v1/status", &code);
    if (!s.is_object() || s["status"] != "degraded") return false;
    for (const json& n : s["nodes"]) {
      if (n["name"] != "node-a" || n["status"] != "degraded") continue;
      for (const json& p : n["probes"]) {
        if (p["checker"] == "etcd" && p["error"] == "GET http://127.0.0.1:2379/health: 503") {
          return true;
        }
      }
    }
    return false;
  });
  CHECK(seen);
  CHECK(code == 503);
  json local = get(b->url(), "/v1/status/local", &code);
  CHECK(code == 200);
  CHECK(local["name"] == "node-b");
  const bool recorded = eventually([&] {
    json h = get(b->url(), "/v1/history?type=ProbeFailed&node=node-a");
    return h.is_array() && h.size() == 1 && h[0]["checker"] == "etcd";
  });
  CHECK(recorded);
  int bad = 0;
  json err = get(b->url(), "/v1/history?limit=0", &bad);
  CHECK(bad == 400);
  httplib::Client mc(b->url());
  auto m = mc.Get("/metrics");
  REQUIRE(m);
  CHECK(m->body.find("vigil_node_up{node=\"node-a\"} 0") != std::string::npos);
  CHECK(m->body.find("vigil_cluster_up 0") != std::string::npos);
  CHECK(m->body.find("vigil_store_errors_total 0") != std::string::npos);

  kill(getpid(), SIGTERM);
  a.reset();
  b.reset();
}

TEST_CASE("status extension: vigil_node_up/probe_up for itself and at most max_nodes others") {
  auto a = std::make_unique<Node>("node-a", std::nullopt);
  auto b = std::make_unique<Node>("node-b", a->gossip);
  agent::StatusExtensionOptions o;
  o.metrics_max_nodes = 1;
  auto c = std::make_unique<Node>("node-c", a->gossip, o);
  REQUIRE(eventually([&] {
    json s = get(c->url(), "/v1/status");
    return s.is_object() && s["nodes"].size() == 3;
  }));
  auto metrics = [&] {
    httplib::Client mc(c->url());
    auto m = mc.Get("/metrics");
    return m ? m->body : std::string();
  };
  auto has = [](const std::string& body, const std::string& node) {
    return body.find("vigil_node_up{node=\"" + node + "\"}") != std::string::npos;
  };
  // Healthy: itself, then one other by name.
  std::string body = metrics();
  CHECK(has(body, "node-c"));
  CHECK(has(body, "node-a"));
  CHECK_FALSE(has(body, "node-b"));

  // b degraded: it takes the one slot, ahead of a.
  REQUIRE(eventually([&] { return b->ext->io.load() != nullptr; }));
  asio::post(*b->ext->io.load(), [&b] {
    checkers::Probe p = checkers::Probe::fail(checkers::Severity::critical, "disk full");
    p.checker = p.type = "disk";
    b->ext->inner.health().set_local_probe(p, 1'795'442'700'000);
  });
  CHECK(eventually([&] {
    std::string m = metrics();
    return has(m, "node-c") && has(m, "node-b") && !has(m, "node-a") &&
           m.find("vigil_probe_up{node=\"node-b\",checker=\"disk\"} 0") != std::string::npos;
  }));
  CHECK(metrics().find("vigil_probe_up{node=\"node-a\"") == std::string::npos);

  kill(getpid(), SIGTERM);
  a.reset();
  b.reset();
  c.reset();
}

TEST_CASE("status extension: vigil_probe_failed names each failed probe's severity") {
  auto a = std::make_unique<Node>("node-s", std::nullopt);
  REQUIRE(eventually([&] { return a->ext->io.load() != nullptr; }));
  auto set_probe = [&a](const std::string& name, std::optional<checkers::Severity> sev) {
    asio::post(*a->ext->io.load(), [&a, name, sev] {
      checkers::Probe p =
          sev ? checkers::Probe::fail(*sev, name + " failed") : checkers::Probe::ok();
      p.checker = p.type = name;
      a->ext->inner.health().set_local_probe(p, 1'795'442'700'000);
    });
  };
  auto metrics = [&] {
    httplib::Client mc(a->url());
    auto m = mc.Get("/metrics");
    return m ? m->body : std::string();
  };
  auto has = [](const std::string& body, const std::string& line) {
    return body.find(line + "\n") != std::string::npos;
  };
  set_probe("etcd", checkers::Severity::critical);
  set_probe("disk", checkers::Severity::warning);
  CHECK(eventually([&] {
    const std::string m = metrics();
    return has(m, R"(vigil_probe_up{node="node-s",checker="etcd"} 0)") &&
           has(m, R"(vigil_probe_up{node="node-s",checker="disk"} 0)") &&
           has(m, R"(vigil_probe_failed{node="node-s",checker="etcd",severity="critical"} 1)") &&
           has(m, R"(vigil_probe_failed{node="node-s",checker="disk",severity="warning"} 1)");
  }));
  // Sparse: a running probe has no vigil_probe_failed series (the history store's probe is
  // running from the start); the family is always declared.
  set_probe("etcd", std::nullopt);
  CHECK(eventually([&] {
    const std::string m = metrics();
    return has(m, R"(vigil_probe_up{node="node-s",checker="etcd"} 1)") &&
           m.find(R"(vigil_probe_failed{node="node-s",checker="etcd")") == std::string::npos;
  }));
  const std::string m = metrics();
  CHECK(has(m, "# TYPE vigil_probe_failed gauge"));
  CHECK(has(m, R"(vigil_probe_failed{node="node-s",checker="disk",severity="warning"} 1)"));
  CHECK(m.find(R"(vigil_probe_failed{node="node-s",checker="store")") == std::string::npos);

  kill(getpid(), SIGTERM);
  a.reset();
}

TEST_CASE("status extension: the config file's history.retention prunes the node's history") {
  // history.db written before the agent starts (events 3 h and 10 min old), then an agent whose
  // config says history.retention 1h: at start the 3 h old event goes, the other stays. With the
  // default (7 days) both would stay.
  const std::string name = "node-r";
  const std::string dir = (std::filesystem::temp_directory_path() /
                           ("vigil-ext-" + name + "-" + std::to_string(::getpid())))
                              .string();  // Node's data dir
  std::filesystem::create_directories(dir);
  {
    store::StoreConfig sc;
    sc.data_dir = dir;
    store::HistoryStore st(sc);
    st.start();
    const auto now =
        std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
    for (const auto& [node, age] :
         {std::pair<const char*, std::chrono::minutes>{"old", 3h}, {"recent", 10min}}) {
      store::Event e;
      e.timestamp = now - age;
      e.type = store::EventType::NodeFailed;
      e.node = node;
      e.old_state = "alive";
      e.new_state = "failed";
      st.append(e);
    }
    REQUIRE(st.flush());
  }
  agent::AgentFlags f;
  f.name = name;
  f.config = "vigil.json";
  const agent::AgentConfig cfg =
      agent::parse_config(f, std::string_view(R"({"history": {"retention": "1h"}})"));
  REQUIRE(cfg.history_retention == 1h);
  auto a = std::make_unique<Node>(name, std::nullopt, agent::status_options(cfg));
  auto failed_nodes = [&] {
    std::set<std::string> out;
    json h = get(a->url(), "/v1/history?since=30d&type=NodeFailed");
    if (h.is_array())
      for (const json& e : h) out.insert(e["node"].get<std::string>());
    return out;
  };
  CHECK(eventually([&] { return failed_nodes() == std::set<std::string>{"recent"}; }));

  kill(getpid(), SIGTERM);
  a.reset();
}
