// status_bench: one agent's cluster view with N nodes, filled through the real gossip layer,
// served by the real HTTP server and status routes until killed, so wrk can measure
// /v1/status. scripts/bench-status.sh drives it.
//
// The fill: N small HealthStates (one per origin) issue their probe records and reachability
// summaries the way an agent does (set_local_probe, add_peer_results); a "seed" node merges
// their push-pull states and knows all N members (Membership::restore). The serving node,
// whose Membership has the real HealthState as its delegate, then joins the seed on the
// simulated network: one push-pull carries the N members and every health record through the
// gossip stream codec and the health codec, the path a real agent's view takes. The seed and
// the per-origin states are then freed, so the process RSS is the serving node's: its
// Membership, HealthState, the published ClusterView and the cached rendering.
// (The former fill, N simulated cores gossiping for minutes, took too long at 1,000 nodes.)
//
// Usage: status_bench [--nodes N] [--probes P] [--seed S]   (prints "port=<p>" when serving)
#include <malloc.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
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

namespace {

constexpr std::int64_t kEpochUs = 1'790'000'000'000'000;  // a wall time in 2026

long rss_kib() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
  return -1;
}

/// Origin `i`'s records, issued by its own HealthState as an agent would: `probes` checker
/// results (every 97th node warns about a disk) and a ping run's per-peer results.
void issue_origin(agent::HealthState& h, std::size_t i, std::size_t nodes, std::size_t probes) {
  for (std::size_t p = 0; p < probes; ++p) {
    checkers::Probe probe =
        (i % 97 == 0 && p == 0)
            ? checkers::Probe::fail(checkers::Severity::warning, "disk /var: 84% used", "warn 80%")
            : checkers::Probe::ok("fine");
    probe.checker = "check-" + std::to_string(p);
    probe.type = "disk";
    h.set_local_probe(probe, kEpochUs / 1000);
  }
  std::vector<checkers::PeerResult> peers;
  for (std::size_t k = 1; k <= 24 && k < nodes; ++k) {  // a full summary: 24 peers
    checkers::PeerResult r;
    r.peer = "node-" + std::to_string((i + k * 37) % nodes);
    r.protocol = "icmp";
    r.sent = 30;
    r.lost = 0;
    r.rtt = std::chrono::microseconds(300 + (i * 7 + k * 13) % 600);
    peers.push_back(std::move(r));
  }
  h.add_peer_results(peers);
}

}  // namespace

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
  if (nodes < 2) nodes = 2;
  const long rss_start = rss_kib();
  const auto wall0 = std::chrono::steady_clock::now();

  sim::SimNetwork net(seed, gossip::GossipConfig::lan());
  agent::HealthOptions opt;
  opt.wall_us = [&net] {
    return kEpochUs +
           std::chrono::duration_cast<std::chrono::microseconds>(net.now() - net.start()).count();
  };
  opt.steady_now = [&net] { return net.now(); };
  // node-0 serves; node-1 is the seed holding everyone's state.
  auto server = std::make_unique<agent::HealthState>("node-0", opt);
  auto seed_health = std::make_unique<agent::HealthState>("node-1", opt);
  net.delegate_for = [&](std::size_t i) -> gossip::Delegate* {
    return i == 0 ? server.get() : seed_health.get();
  };
  net.add_node();
  net.add_node();
  server->set_broadcaster([&net](std::string key, gossip::Bytes payload, int priority) {
    net.node(0).queue_broadcast(std::move(key), std::move(payload), priority);
  });
  issue_origin(*server, 0, nodes, probes);
  for (std::size_t i = 1; i < nodes; ++i) {
    agent::HealthState origin("node-" + std::to_string(i), opt);
    issue_origin(origin, i, nodes, probes);
    seed_health->merge_remote_state(origin.full_state(), false);
  }
  std::vector<gossip::Member> all;
  for (std::size_t i = 0; i < nodes; ++i) {
    const std::string name = "node-" + std::to_string(i);
    const std::string addr = "10." + std::to_string((i >> 16) & 255) + "." +
                             std::to_string((i >> 8) & 255) + "." + std::to_string(i & 255) +
                             ":7946";
    all.push_back(gossip::Member{name,
                                 addr,
                                 {{"zone", std::string(1, "abc"[i % 3])}},
                                 1,
                                 gossip::MemberState::alive,
                                 net.now()});
  }
  net.node(1).restore(all, net.now());

  // The push-pull: node-0 joins node-1 and merges what comes back (members + health state).
  net.join(0, 1);
  std::size_t have = 0, members = 0;
  for (int step = 0; step < 100 && (have < nodes * probes || members < nodes); ++step) {
    net.run_for(10ms);  // well under a probe timeout: nobody is suspected meanwhile
    have = 0;
    for (const auto& [origin, h] : server->nodes()) have += h.probes.size();
    members = net.node(0).members().size();
  }
  const double fill_wall_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  if (have < nodes * probes || members < nodes) {
    std::fprintf(stderr, "fill incomplete: %zu of %zu probes, %zu of %zu members\n", have,
                 nodes * probes, members, nodes);
    return 1;
  }
  const std::size_t state_bytes = server->full_state().size();

  api::SnapshotCell<api::ClusterView> cell;
  cell.publish(std::make_shared<api::ClusterView>(
      agent::build_cluster_view("node-0", opt.wall_us() / 1000, net.node(0).members(), *server)));
  // Drop the seed (its core and its copy of the state): what remains is the serving node.
  net.crash(1);
  seed_health.reset();
  malloc_trim(0);

  api::HttpServer http;
  api::add_status_routes(http, cell, [](const api::HistoryQuery&) { return api::HistoryAnswer{}; });
  const int port = http.bind("127.0.0.1", 0);
  http.start();
  std::printf(
      "{\"nodes\": %zu, \"members\": %zu, \"probes_in_view\": %zu, \"health_state_bytes\": %zu, "
      "\"fill_wall_s\": %.2f, \"rss_start_kib\": %ld, \"rss_filled_kib\": %ld}\nport=%d\n",
      nodes, members, have, state_bytes, fill_wall_s, rss_start, rss_kib(), port);
  std::fflush(stdout);
  for (int i = 0; i < 3600; ++i) std::this_thread::sleep_for(1s);  // bounded; killed by PID
  return 0;
}
