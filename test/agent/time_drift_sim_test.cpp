// time-drift end to end on the simulated network: each node's HealthState is its Membership's
// delegate, so acks carry the node's wall clock; one node's wall clock is skewed by 2 s. The
// real time-drift checker, fed by the gossip peer clock, must blame that node from every
// observer, and the skewed node must see that its own clock is the culprit.
#include <doctest/doctest.h>

#include "agent/health_state.hpp"
#include "checkers/registry.hpp"
#include "checkers/run_once.hpp"
#include "sim_network.hpp"

using namespace vigil;
using namespace std::chrono_literals;

namespace {

checkers::Probe run_time_drift(agent::HealthState& hs, const std::string& node) {
  checkers::CheckerRegistry registry;
  checkers::register_builtin_checkers(registry);
  auto specs = checkers::parse_check_specs(
      R"([{"type": "time-drift", "warning": "100ms", "critical": "1s"}])");
  REQUIRE(specs.error.empty());
  checkers::CheckerContext cctx;
  cctx.node_name = node;
  auto made = registry.make(specs.specs.front(), cctx);
  REQUIRE(made.checker);
  checkers::CheckContext ctx;
  ctx.node_name = node;
  ctx.peer_clock = hs.peer_clock();
  return made.checker->run(ctx, checkers::Deadline{checkers::Clock::now() + 2s});
}

}  // namespace

TEST_CASE("time-drift names the node whose clock is skewed, measured through gossip acks") {
  constexpr std::size_t kNodes = 6;
  constexpr std::size_t kSkewed = 3;
  const std::int64_t epoch_us = 1'790'000'000'000'000;  // some wall time in 2026
  sim::SimNetwork net(31, gossip::GossipConfig::lan());
  std::vector<std::unique_ptr<agent::HealthState>> health;
  for (std::size_t i = 0; i < kNodes; ++i) {
    agent::HealthOptions opt;
    const std::int64_t skew_us = i == kSkewed ? 2'000'000 : 0;
    opt.wall_us = [&net, epoch_us, skew_us] {
      return epoch_us + skew_us +
             std::chrono::duration_cast<std::chrono::microseconds>(net.now() - net.start()).count();
    };
    health.push_back(std::make_unique<agent::HealthState>("node-" + std::to_string(i), opt));
  }
  net.delegate_for = [&](std::size_t i) -> gossip::Delegate* { return health[i].get(); };
  for (std::size_t i = 0; i < kNodes; ++i) net.add_node();
  for (std::size_t i = 1; i < kNodes; ++i) net.join(i, 0);
  net.run_for(30s);  // ~30 probes per node: every pair measured several times

  for (std::size_t i = 0; i < kNodes; ++i) {
    const std::string name = "node-" + std::to_string(i);
    const checkers::Probe p = run_time_drift(*health[i], name);
    INFO("observer " << name << ": " << p.error << " | " << p.detail);
    REQUIRE(p.failed());
    CHECK(p.severity == checkers::Severity::critical);  // 2 s > the 1 s critical threshold
    if (i == kSkewed) {
      // Every peer looks 2 s behind: the node's own clock is the likely culprit.
      CHECK(p.error.find(std::to_string(kNodes - 1) + " peers") != std::string::npos);
      CHECK(p.detail.find("its own clock is the likely culprit") != std::string::npos);
    } else {
      CHECK(p.error.find("1 peer: node-3") != std::string::npos);
    }
  }
}

TEST_CASE("time-drift stays quiet when every clock agrees") {
  sim::SimNetwork net(32, gossip::GossipConfig::lan());
  std::vector<std::unique_ptr<agent::HealthState>> health;
  for (std::size_t i = 0; i < 4; ++i) {
    agent::HealthOptions opt;
    opt.wall_us = [&net] {
      return std::chrono::duration_cast<std::chrono::microseconds>(net.now().time_since_epoch())
          .count();
    };
    health.push_back(std::make_unique<agent::HealthState>("node-" + std::to_string(i), opt));
  }
  net.delegate_for = [&](std::size_t i) -> gossip::Delegate* { return health[i].get(); };
  for (std::size_t i = 0; i < 4; ++i) net.add_node();
  for (std::size_t i = 1; i < 4; ++i) net.join(i, 0);
  net.run_for(20s);
  for (std::size_t i = 0; i < 4; ++i) {
    const checkers::Probe p = run_time_drift(*health[i], "node-" + std::to_string(i));
    INFO(p.error << " | " << p.detail);
    CHECK(p.running());
    CHECK(p.detail.find("3 peers measured") != std::string::npos);
  }
}
