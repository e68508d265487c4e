// StatusExtension in two in-process Agents on 127.0.0.1: a probe failing on node a shows up
// in node b's /v1/status (degraded, with the error) and in b's /v1/history (ProbeFailed);
// SIGTERM ends both. Polls with generous bounded deadlines; no fixed sleeps as assertions.
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <asio.hpp>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <thread>

#include "agent/agent.hpp"
#include "agent/status_extension.hpp"

using namespace vigil;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

int free_port() {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  close(s);
  return ntohs(a.sin_port);
}

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
