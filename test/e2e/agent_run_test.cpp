// Agent in-process: an AgentExtension is wired (routes, metrics, start/stop, events) and
// SIGTERM ends run() with 0 after the graceful leave.
#include <doctest/doctest.h>
#include <httplib.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <thread>

#include "agent/agent.hpp"
#include "api/http_server.hpp"
#include "api/metrics_text.hpp"
#include "test/ports.hpp"

using namespace vigil;
using namespace std::chrono_literals;

namespace {

struct TestExtension : agent::AgentExtension {
  std::atomic<int> started{0}, stopped{0}, publishes{0};
  void register_routes(api::HttpServer& http) override {
    http.get("/v1/ext",
             [](const api::HttpRequest&) { return api::HttpResponse::json(R"({"ok":true})"); });
  }
  void start(agent::AgentContext& ctx) override {
    CHECK(ctx.config.name == "solo");
    ++started;
  }
  void on_publish() override { ++publishes; }
  void write_metrics(api::MetricsText& out) override {
    out.family("vigil_test_extension", "gauge", "Test extension.");
    out.sample("vigil_test_extension", {}, 1.0);
  }
  void stop() override { ++stopped; }
};

}  // namespace

TEST_CASE("agent: extension wiring and SIGTERM exit 0") {
  agent::AgentFlags f;
  f.name = "solo";
  f.bind = "127.0.0.1:0";
  const int http_port = test::free_port();  // reserved for this test process (test/ports.hpp)
  f.http = "127.0.0.1:" + std::to_string(http_port);
  f.profile = "local";
  agent::AgentConfig cfg = agent::resolve_config(f);
  std::FILE* log_file = std::tmpfile();
  REQUIRE(log_file);
  agent::Logger log(agent::LogLevel::info, agent::LogFormat::text, log_file);
  agent::Agent a(std::move(cfg), log);
  auto ext = std::make_unique<TestExtension>();
  TestExtension* e = ext.get();
  a.add_extension(std::move(ext));

  std::atomic<int> rc{-1};
  std::thread runner([&] { rc = a.run(); });
  httplib::Client c("127.0.0.1", http_port);
  bool up = false;
  for (int i = 0; i < 300 && !up; ++i) {
    auto r = c.Get("/v1/ext");
    up = r && r->status == 200;
    if (!up) std::this_thread::sleep_for(50ms);
  }
  CHECK(up);
  CHECK(e->started == 1);
  CHECK(e->publishes >= 1);
  auto m = c.Get("/metrics");
  REQUIRE(m);
  CHECK(m->body.find("vigil_test_extension 1\n") != std::string::npos);
  CHECK(m->body.find("vigil_members{status=\"alive\"} 1\n") != std::string::npos);
  auto ready = c.Get("/readyz");
  REQUIRE(ready);
  CHECK(ready->status == 200);  // alone by configuration

  kill(getpid(), SIGTERM);
  runner.join();
  CHECK(rc == 0);
  CHECK(e->stopped == 1);
  std::fclose(log_file);
}
