// status_bench: fills one agent's cluster view with N nodes through the real gossip layer (N
// Membership cores on the simulated network, each with the real HealthState as its delegate
// and a few probes), then serves that view with the real HTTP server and status routes until
// killed, so wrk can measure /v1/status. scripts/bench-status.sh drives it.
// Usage: status_bench [--nodes N] [--probes P] [--seed S]   (prints "port=<p>" when serving)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "agent/health_state.hpp"
#include "agent/status_glue.hpp"
#include "api/http_server.hpp"
#include "api/snapshot.hpp"
#include "api/status_routes.hpp"
#include "checkers/probe.hpp"
#include "sim_network.hpp"

using namespace vigil;
using namespace std::chrono_literals;

int main(int argc, char** argv) {
  std::size_t nodes = 1000, probes = 3;
  std::uint64_t seed = 1;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--nodes"))
      nodes = std::strtoull(argv[i + 1], nullptr, 10);
    else if (!std::strcmp(argv[i], "--probes"))
      probes = std::strtoull(argv[i + 1], nullptr, 10);
    else if (!std::strcmp(argv[i], "--seed"))
      seed = std::strtoull(argv[i + 1], nullptr, 10);
  }
  const auto wall0 = std::chrono::steady_clock::now();
  sim::SimNetwork net(seed, gossip::GossipConfig::lan());
  std::vector<std::unique_ptr<agent::HealthState>> health;
  for (std::size_t i = 0; i < nodes; ++i) {
    agent::HealthOptions opt;
    opt.wall_us = [&net] {
      return 1'790'000'000'000'000 +
             std::chrono::duration_cast<std::chrono::microseconds>(net.now() - net.start()).count();
    };
    health.push_back(std::make_unique<agent::HealthState>("node-" + std::to_string(i), opt));
  }
  net.delegate_for = [&](std::size_t i) -> gossip::Delegate* { return health[i].get(); };
  for (std::size_t i = 0; i < nodes; ++i) {
    net.add_node();
    health[i]->set_broadcaster([&net, i](std::string key, gossip::Bytes payload) {
      net.node(i).queue_broadcast(std::move(key), std::move(payload));
    });
  }
  net.warm_start();
  for (std::size_t i = 0; i < nodes; ++i) {
    for (std::size_t p = 0; p < probes; ++p) {
      checkers::Probe probe = (i % 97 == 0 && p == 0)
                                  ? checkers::Probe::fail(checkers::Severity::warning,
                                                          "disk /var: 84% used", "warn 80%")
                                  : checkers::Probe::ok("fine");
      probe.checker = "check-" + std::to_string(p);
      probe.type = "disk";
      health[i]->set_local_probe(probe, 1'790'000'000'000);
    }
  }
  // Run until node-0 holds every node's probes (bounded: 10 simulated minutes).
  std::size_t have = 0;
  for (int step = 0; step < 600; ++step) {
    net.run_for(1s);
    have = 0;
    for (const auto& [origin, h] : health[0]->nodes()) have += h.probes.size();
    if (have >= nodes * probes) break;
  }
  const double fill_sim_s = net.seconds_since_start();
  const double fill_wall_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();

  api::SnapshotCell<api::ClusterView> cell;
  cell.publish(std::make_shared<api::ClusterView>(agent::build_cluster_view(
      "node-0", 1'790'000'000'000 + static_cast<std::int64_t>(fill_sim_s * 1000),
      net.node(0).members(), *health[0])));
  api::HttpServer http;
  api::add_status_routes(http, cell, [](const api::HistoryQuery&) { return api::HistoryAnswer{}; });
  const int port = http.bind("127.0.0.1", 0);
  http.start();
  std::printf(
      "{\"nodes\": %zu, \"probes_in_view\": %zu, \"fill_simulated_s\": %.1f, \"fill_wall_s\": "
      "%.1f}\nport=%d\n",
      nodes, have, fill_sim_s, fill_wall_s, port);
  std::fflush(stdout);
  for (int i = 0; i < 3600; ++i) std::this_thread::sleep_for(1s);  // bounded; killed by PID
  return 0;
}
