#include "agent/history_recorder.hpp"

#include <chrono>

namespace vigil::agent {
namespace {

using store::EventType;

std::string state_name(gossip::MemberState s) {
  return std::string(gossip::to_string(s));
}

std::string severity_name(WireSeverity s) {
  return s == WireSeverity::warning ? "warning" : "critical";
}

bool critical_failure(const ProbeFields& p) {
  return p.status == WireStatus::failed && p.severity == WireSeverity::critical;
}

}  // namespace

HistoryRecorder::HistoryRecorder(HistorySink& sink, std::string self,
                                 std::function<std::int64_t()> wall_ms)
    : sink_(sink), self_(std::move(self)), wall_ms_(std::move(wall_ms)) {
  if (!wall_ms_) {
    wall_ms_ = [] {
      return std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
          .count();
    };
  }
  nodes_[self_].member = true;
}

void HistoryRecorder::emit(EventType type, const std::string& node, const std::string& checker,
                           std::string old_state, std::string new_state, std::string detail,
                           std::int64_t at_ms) {
  store::Event e;
  e.timestamp = store::from_unix_ms(at_ms > 0 ? at_ms : wall_ms_());
  e.type = type;
  e.node = node;
  e.checker = checker;
  e.old_state = std::move(old_state);
  e.new_state = std::move(new_state);
  e.detail = std::move(detail);
  sink_.append(std::move(e));
}

bool HistoryRecorder::counted(const NodeState& n) {
  return n.member && n.state != gossip::MemberState::left;
}

std::string HistoryRecorder::reasons(const NodeState& n) {
  std::string out;
  auto add = [&out](const std::string& s) { out += (out.empty() ? "" : "; ") + s; };
  if (n.state != gossip::MemberState::alive) add("member " + state_name(n.state));
  for (const auto& [checker, p] : n.failing) {
    if (critical_failure(p)) add(checker + " failed" + (p.error.empty() ? "" : ": " + p.error));
  }
  return out;
}

bool HistoryRecorder::node_degraded(const std::string& node) const {
  auto it = nodes_.find(node);
  return it != nodes_.end() && it->second.degraded;
}

void HistoryRecorder::on_member_events(const std::vector<gossip::Event>& events) {
  for (const gossip::Event& e : events) on_member_event(e);
}

void HistoryRecorder::on_member_event(const gossip::Event& e) {
  using gossip::EventKind;
  using gossip::MemberState;
  const std::string& name = e.member.name;
  if (name == self_) return;
  NodeState& n = nodes_[name];
  const bool was_member = n.member;
  const MemberState before = n.state;
  switch (e.kind) {
    case EventKind::joined:
      n.member = true;
      n.state = e.member.state;
      emit(EventType::NodeAdded, name, "", "", state_name(n.state), "addr " + e.member.addr);
      break;
    case EventKind::updated:
      n.member = true;
      n.state = e.member.state;
      break;
    case EventKind::suspect:
      n.member = true;
      n.state = MemberState::suspect;
      break;
    case EventKind::failed:
      n.member = true;
      n.state = MemberState::dead;
      emit(
          EventType::NodeFailed, name, "", was_member ? state_name(before) : "", "failed",
          "declared failed by the mesh (incarnation " + std::to_string(e.member.incarnation) + ")");
      break;
    case EventKind::recovered:
      n.member = true;
      n.state = MemberState::alive;
      if (was_member && (before == MemberState::dead || before == MemberState::left)) {
        emit(EventType::NodeRecovered, name, "", state_name(before), "alive",
             "alive again (incarnation " + std::to_string(e.member.incarnation) + ")");
      }
      break;
    case EventKind::left:
      n.member = true;
      n.state = MemberState::left;
      emit(EventType::NodeRemoved, name, "", was_member ? state_name(before) : "", "left",
           "left the mesh gracefully");
      break;
    case EventKind::reaped:
      if (was_member && before != MemberState::left) {
        emit(EventType::NodeRemoved, name, "", state_name(before), "removed",
             "removed from the member list (reaped)");
      }
      nodes_.erase(name);
      evaluate_cluster();
      return;
  }
  evaluate(name);
}

void HistoryRecorder::on_probe_change(const ProbeChange& c) {
  NodeState& n = nodes_[c.origin];
  const ProbeFields& p = c.after;
  const bool was_failed = c.before && c.before->status == WireStatus::failed;
  const std::int64_t at = p.since_ms;
  if (p.status == WireStatus::failed) {
    const std::string old = !c.before ? "" : was_failed ? "failed" : "running";
    std::string detail = severity_name(p.severity);
    if (was_failed && c.before->severity != p.severity) {
      detail += " (was " + severity_name(c.before->severity) + ")";
    }
    if (!p.error.empty()) detail += ": " + p.error;
    if (!p.detail.empty()) detail += (p.error.empty() ? ": " : " | ") + p.detail;
    emit(EventType::ProbeFailed, c.origin, p.checker, old, "failed", std::move(detail), at);
    n.failing[p.checker] = p;
  } else {
    if (was_failed && p.status == WireStatus::running) {
      emit(EventType::ProbeSucceeded, c.origin, p.checker, "failed", "running", p.detail, at);
    }
    n.failing.erase(p.checker);  // running, or the checker was removed
  }
  evaluate(c.origin);
}

void HistoryRecorder::evaluate(const std::string& name) {
  auto it = nodes_.find(name);
  if (it == nodes_.end()) return;
  NodeState& n = it->second;
  bool degraded = false;
  if (counted(n)) {
    degraded = n.state != gossip::MemberState::alive;
    for (const auto& [checker, p] : n.failing) degraded = degraded || critical_failure(p);
  }
  if (degraded != n.degraded) {
    n.degraded = degraded;
    if (degraded) {
      emit(EventType::NodeDegraded, name, "", "running", "degraded", reasons(n));
    } else if (counted(n)) {
      emit(EventType::NodeHealthy, name, "", "degraded", "running", "");
    }
  }
  evaluate_cluster();
}

void HistoryRecorder::evaluate_cluster() {
  std::size_t total = 0, bad = 0;
  std::string names;
  for (const auto& [name, n] : nodes_) {
    if (!counted(n)) continue;
    ++total;
    if (n.degraded) {
      ++bad;
      if (bad <= 5) names += (names.empty() ? "" : ", ") + name;
    }
  }
  const bool degraded = bad > 0;
  if (degraded == cluster_degraded_) return;
  cluster_degraded_ = degraded;
  if (degraded) {
    emit(EventType::ClusterDegraded, "", "", "running", "degraded",
         std::to_string(bad) + " of " + std::to_string(total) + " nodes degraded: " + names +
             (bad > 5 ? ", ..." : ""));
  } else {
    emit(EventType::ClusterHealthy, "", "", "degraded", "running",
         "all " + std::to_string(total) + " nodes running");
  }
}

}  // namespace vigil::agent
