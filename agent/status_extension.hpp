#pragma once
// StatusExtension: the status layer plugged into the Agent (AgentExtension). Owns the
// HealthState (the Membership's delegate), the HistoryStore (<data-dir>/history.db) and the
// HistoryRecorder, publishes the ClusterView for /v1/status, serves /v1/status,
// /v1/status/local and /v1/history, and exports vigil_node_up, vigil_cluster_up,
// vigil_probe_up, vigil_probe_failed{severity}, vigil_store_errors_total, vigil_members_seen,
// vigil_build_info and the per-peer / per-zone probe metrics (PeerMetrics, fed by
// HealthState's peer samples).
//
// The checkers' Scheduler (another extension) feeds results through health().on_probe_update
// on the loop thread and gives health().peer_clock() to its CheckContext (time-drift).
// Every `refresh` the extension re-issues its reachability summary, turns the store's health
// into the warning probe `store`, and republishes the view when anything changed.
//
// Threads: loop thread (AgentExtension contract), except the HTTP handlers, which read the
// published snapshot and query the store.

#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "agent/agent.hpp"
#include "agent/health_state.hpp"
#include "agent/history_recorder.hpp"
#include "agent/peer_metrics.hpp"
#include "api/snapshot.hpp"
#include "api/status_view.hpp"

namespace vigil::store {
class HistoryStore;
}

namespace vigil::agent {

struct StatusExtensionOptions {
  /// Upkeep period: summary refresh, `store` probe, republish on change. Default 2s.
  std::chrono::milliseconds refresh{2000};
  /// A probe verdict change of any node republishes the view after this delay (batching a
  /// burst), instead of waiting for the next upkeep. Default 50ms.
  std::chrono::milliseconds publish_delay{50};
  /// Keep history (<data-dir>/history.db). false: /v1/history answers 503. Default true.
  bool history = true;
  /// History retention (AgentConfig::history_retention). Default 7 days (design.md).
  std::chrono::milliseconds retention = std::chrono::hours(24 * 7);
  HealthOptions health;
  /// Per-peer / per-zone probe metrics and their cardinality cap (agent/peer_metrics.hpp).
  PeerMetricsOptions peer_metrics;
  /// vigil_node_up / vigil_probe_up / vigil_probe_failed for this node and at most this many
  /// others, those not running first (AgentConfig::metrics_max_nodes).
  std::size_t metrics_max_nodes = 64;
};

/// The options `vigil agent` runs the status layer with, from its configuration: the history
/// retention (config file history.retention) and the metric caps (metrics.max_peers/max_nodes).
StatusExtensionOptions status_options(const AgentConfig& cfg);

class StatusExtension final : public AgentExtension {
 public:
  /// `self`: this node's name (AgentConfig::name); `data_dir`: AgentConfig::data_dir.
  StatusExtension(std::string self, std::string data_dir, StatusExtensionOptions o = {});
  ~StatusExtension() override;

  /// The health view (loop thread): feed Scheduler updates here.
  HealthState& health() { return health_; }

  // AgentExtension
  gossip::Delegate* delegate() override { return &health_; }
  void register_routes(api::HttpServer& http) override;
  void start(AgentContext& ctx) override;
  void on_events(const std::vector<gossip::Event>& events) override;
  void on_publish() override;
  void write_metrics(api::MetricsText& out) override;
  void stop() override;

 private:
  struct Timer;
  void upkeep();
  void publish_view();
  void publish_soon();

  std::string self_;
  std::string data_dir_;
  StatusExtensionOptions opt_;
  HealthState health_;
  PeerMetrics peer_metrics_;
  std::unique_ptr<store::HistoryStore> store_;
  std::unique_ptr<HistoryRecorder> recorder_;
  api::SnapshotCell<api::ClusterView> cell_;
  AgentContext* ctx_ = nullptr;
  std::unique_ptr<Timer> timer_;
  std::uint64_t published_revision_ = ~std::uint64_t{0};
  std::string published_cut_off_;  ///< the observer_cut_off of the last published view
  std::set<std::string> failed_;   ///< members failed in our view (to spot their return)
  std::set<std::string> diagnosis_kinds_seen_;  ///< kinds ever exported (then 0 when gone)
  std::shared_ptr<const api::ClusterView> diagnosed_view_;  ///< diagnosis_counts_ is of it
  std::map<std::string, double> diagnosis_counts_;
  bool stopped_ = false;
};

}  // namespace vigil::agent
