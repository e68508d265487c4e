// The status layer in the simulator at a size the test run affords (vigil-sim --scenario
// status measures the large ones): what an idle, converged mesh sends, what a verdict change
// costs and how fast it arrives everywhere. Deterministic per seed; the bounds are derived from
// the gossip config, not from timings of this machine.
#include <doctest/doctest.h>

#include <cmath>

#include "status_scenario.hpp"

using namespace vigil;

namespace {

sim::StatusOptions small(double churn) {
  sim::StatusOptions o;
  o.nodes = 60;
  o.seed = 3;
  o.churn = churn;
  o.warmup_s = 60;
  o.window_s = 240;  // > 2 push-pull periods (30 s scaled for 60 nodes: 60 s)
  return o;
}

}  // namespace

TEST_CASE("status layer, idle: nothing is re-broadcast; converged push-pulls send digests only") {
  const sim::StatusResult r = sim::run_status(small(0));
  INFO(sim::to_json(r));
  CHECK(r.changes == 0);
  // No refresh of unchanged records at all: the status layer is silent while nothing changes.
  CHECK(r.status_bytes_per_node_s < 1.0);
  CHECK(r.push_pull_in_sync_share == doctest::Approx(1.0));
  CHECK(r.push_pull_in_sync_bytes > 0);
  CHECK(r.push_pull_in_sync_bytes <= 200);
  CHECK(r.records_per_node == 60 * 5);  // 4 checkers + 1 summary per origin, everywhere
}

TEST_CASE("status layer with churn: every change reaches every node, within the epidemic bound") {
  sim::StatusOptions o = small(0.2);  // 12 flips per minute in 60 nodes
  const sim::StatusResult r = sim::run_status(o);
  INFO(sim::to_json(r));
  REQUIRE(r.changes >= 20);
  CHECK(r.changes_incomplete == 0);
  // The bounds (99% of nodes within 3 s at p99, all within 10 s). A broadcast goes out
  // every gossip interval (200 ms) to 3 nodes: log_3(60) ~ 4 rounds reach most nodes; a node
  // the epidemic misses (p ~ e^-L per node) would wait for push-pull.
  CHECK(r.reach99_s.p99 <= 3.0);
  CHECK(r.reach100_s.max <= 10.0);
  // What each node sends for a change: at most the retransmit limit (60 nodes: 12) times one
  // record of ~100 bytes, per change in the cluster.
  const int limit = gossip::user_retransmit_limit(o.config, o.nodes);
  CHECK(limit == 12);
  const double changes_per_s = r.changes / (r.window_s - 15);
  CHECK(r.status_bytes_per_node_s <= changes_per_s * limit * 130 + 1.0);
  CHECK(r.status_bytes_per_node_s >= changes_per_s * 1 * 60);  // each node got each change
}
