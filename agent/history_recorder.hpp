#pragma once
// HistoryRecorder: turns membership events and health changes of ANY node (so every agent
// records the whole cluster's history and any survivor can answer /v1/history) into the
// change-only events of design.md, appended to a sink (store::HistoryStore in the agent, an
// in-memory vector in tests):
//   NodeAdded      a member joined                       "" -> alive
//   NodeFailed     a member was declared dead            alive|suspect -> failed
//   NodeRecovered  a failed member is alive again        failed -> alive
//   NodeRemoved    a member left, or a failed one was reaped    -> left | removed
//   ProbeFailed    a probe became failed (or its severity changed)   running|"" -> failed
//   ProbeSucceeded a failed probe runs again             failed -> running
//   NodeDegraded / NodeHealthy     the node's status (design.md rule: a failed critical probe
//                                  or not alive) changed            running <-> degraded
//   ClusterDegraded / ClusterHealthy  any / no node degraded        running <-> degraded
// Members that left are not counted in the node/cluster verdicts (they left on purpose).
// Probe events carry the origin's own time of the change (`since`), the rest the local time.
//
// Threads: loop thread only (the sink's append must not block: HistoryStore::append queues).

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "agent/health_state.hpp"
#include "gossip/events.hpp"
#include "store/event.hpp"
#include "store/history.hpp"

namespace vigil::agent {

/// Where events go (store::HistoryStore, or a fake in tests). Not owned by the recorder.
using HistorySink = store::HistoryWriter;

class HistoryRecorder {
 public:
  /// `self` is this node (alive from the start). `wall_ms`: default system clock.
  HistoryRecorder(HistorySink& sink, std::string self, std::function<std::int64_t()> wall_ms = {});

  /// Membership events (Node's event handler). Events about `self` are ignored.
  void on_member_events(const std::vector<gossip::Event>& events);
  void on_member_event(const gossip::Event& e);
  /// A probe of any origin changed (HealthState's change handler).
  void on_probe_change(const ProbeChange& c);

  /// The verdicts the recorder currently holds (for tests and diagnostics).
  bool node_degraded(const std::string& node) const;
  bool cluster_degraded() const { return cluster_degraded_; }

 private:
  struct NodeState {
    bool member = false;  // known to the membership (else: health arrived first)
    gossip::MemberState state = gossip::MemberState::alive;
    std::map<std::string, ProbeFields> failing;  // failed probes by checker
    bool degraded = false;
  };
  void emit(store::EventType type, const std::string& node, const std::string& checker,
            std::string old_state, std::string new_state, std::string detail,
            std::int64_t at_ms = 0);
  void evaluate(const std::string& name);
  void evaluate_cluster();
  static bool counted(const NodeState& n);
  static std::string reasons(const NodeState& n);

  HistorySink& sink_;
  std::string self_;
  std::function<std::int64_t()> wall_ms_;
  std::map<std::string, NodeState> nodes_;
  bool cluster_degraded_ = false;
};

}  // namespace vigil::agent
