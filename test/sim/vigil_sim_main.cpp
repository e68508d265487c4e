// vigil-sim: runs one simulated scenario and prints one JSON object (simulated seconds,
// except wall_s). Example: vigil-sim --nodes 1000 --scenario kill --seed 7 --json
// The status layer: vigil-sim --nodes 1000 --scenario status --checkers 4 --churn 0.01
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "scenarios.hpp"
#include "status_scenario.hpp"

namespace {
int usage(const char* msg) {
  std::fprintf(
      stderr,
      "vigil-sim: %s\nusage: vigil-sim --nodes N --scenario "
      "{converge,kill,loss,stall,partition,leave,restart,status} --seed S [--loss P] "
      "[--minutes M] [--partition-seconds S] [--profile lan|wan|local] [--warm] "
      "[--trust-all-verdicts] [--checkers K] [--churn C] [--warmup S] [--window S] [--cold] "
      "[--json]\n",
      msg);
  return 2;
}
}  // namespace

int main(int argc, char** argv) {
  vigil::sim::ScenarioOptions o;
  vigil::sim::StatusOptions so;
  bool loss_set = false;
  int user_mult = -1;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    const char* v = nullptr;
    if (a == "--json") continue;
    if (a == "--warm") {
      o.warm = true;
      continue;
    }
    if (a == "--cold") {
      so.cold = true;
      continue;
    }
    if (a == "--trust-all-verdicts") {  // memberlist's behaviour, for comparison
      o.trust_all_verdicts = true;
      continue;
    }
    if (!(v = value())) return usage(("missing value for " + a).c_str());
    char* end = nullptr;
    if (a == "--nodes")
      o.nodes = std::strtoull(v, &end, 10);
    else if (a == "--seed")
      o.seed = std::strtoull(v, &end, 10);
    else if (a == "--loss")
      o.loss = std::strtod(v, &end), loss_set = true;
    else if (a == "--checkers")
      so.checkers = static_cast<int>(std::strtol(v, &end, 10));
    else if (a == "--churn")
      so.churn = std::strtod(v, &end);
    else if (a == "--warmup")
      so.warmup_s = std::strtod(v, &end);
    else if (a == "--window")
      so.window_s = std::strtod(v, &end);
    else if (a == "--user-retransmit-mult")
      user_mult = static_cast<int>(std::strtol(v, &end, 10));
    else if (a == "--minutes")
      o.minutes = std::strtod(v, &end);
    else if (a == "--partition-seconds")
      o.partition_s = std::strtod(v, &end);
    else if (a == "--scenario")
      o.scenario = v, end = const_cast<char*>(v + std::strlen(v));
    else if (a == "--profile") {
      std::string p = v;
      if (p == "lan")
        o.config = vigil::gossip::GossipConfig::lan();
      else if (p == "wan")
        o.config = vigil::gossip::GossipConfig::wan();
      else if (p == "local")
        o.config = vigil::gossip::GossipConfig::local();
      else
        return usage(("unknown profile " + p).c_str());
      end = const_cast<char*>(v + std::strlen(v));
    } else {
      return usage(("unknown flag " + a).c_str());
    }
    if (!end || *end) return usage(("bad value for " + a + ": " + v).c_str());
  }
  if (o.nodes < 2) return usage("--nodes must be at least 2");
  if (o.loss < 0 || o.loss >= 1) return usage("--loss must be in [0, 1)");
  if (so.checkers < 0 || so.checkers > 64) return usage("--checkers must be in [0, 64]");
  if (so.churn < 0 || so.churn > 60) return usage("--churn must be in [0, 60] per minute");
  if (so.warmup_s < 0 || so.window_s < 0) return usage("--warmup/--window must not be negative");
  if (o.scenario == "status") {
    so.nodes = o.nodes, so.seed = o.seed, so.config = o.config;
    if (user_mult >= 0) so.config.user_retransmit_mult = user_mult;
    so.loss = loss_set ? o.loss : 0;
    auto r = vigil::sim::run_status(so);
    std::printf("%s\n", vigil::sim::to_json(r).c_str());
    return r.ok ? 0 : 1;
  }
  static const char* known[] = {"converge",  "kill",  "loss",   "stall",
                                "partition", "leave", "restart"};
  bool ok = false;
  for (const char* k : known) ok |= o.scenario == k;
  if (!ok) return usage(("unknown scenario " + o.scenario).c_str());
  auto r = vigil::sim::run_scenario(o);
  std::printf("%s\n", vigil::sim::to_json(r).c_str());
  return r.ok ? 0 : 1;
}
