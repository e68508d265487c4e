#include "agent/status_extension.hpp"

#include <algorithm>
#include <asio.hpp>

#include "agent/config.hpp"
#include "agent/status_glue.hpp"
#include "api/metrics_text.hpp"
#include "api/status_json.hpp"
#include "api/status_routes.hpp"
#include "api/web_routes.hpp"
#include "gossip/membership.hpp"
#include "gossip/udp/node.hpp"
#include "store/history_store.hpp"

#ifndef VIGIL_VERSION
#define VIGIL_VERSION "0.0.0"
#endif

namespace vigil::agent {

struct StatusExtension::Timer {
  explicit Timer(asio::io_context& io) : t(io), soon(io) {}
  asio::steady_timer t;
  asio::steady_timer soon;  ///< publish_soon()
  bool soon_armed = false;
};

namespace {
std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}
// The large-echo gauge covers the window the diagnosis reads.
PeerMetricsOptions large_window_of(PeerMetricsOptions o, std::chrono::steady_clock::duration w) {
  o.large_window = w;
  return o;
}

}  // namespace

StatusExtensionOptions status_options(const AgentConfig& cfg) {
  StatusExtensionOptions so;
  so.retention = cfg.history_retention;
  so.peer_metrics.max_peers = cfg.metrics_max_peers;
  so.metrics_max_nodes = cfg.metrics_max_nodes;
  return so;
}

StatusExtension::StatusExtension(std::string self, std::string data_dir, StatusExtensionOptions o)
    : self_(std::move(self)),
      data_dir_(std::move(data_dir)),
      opt_(std::move(o)),
      health_(self_, opt_.health),
      peer_metrics_(large_window_of(opt_.peer_metrics, opt_.health.reach_window)) {
  if (opt_.history) {
    store::StoreConfig sc;
    sc.data_dir = data_dir_;
    sc.retention = opt_.retention;
    store_ = std::make_unique<store::HistoryStore>(sc);  // throws on an invalid config
  }
}

StatusExtension::~StatusExtension() {
  if (store_) store_->stop();
}

void StatusExtension::register_routes(api::HttpServer& http) {
  api::add_status_routes(http, cell_, store_ ? make_history_query(*store_) : api::HistoryQueryFn{});
  api::add_web_routes(http, cell_);  // GET / (the web view) and /v1/reachability
}

void StatusExtension::start(AgentContext& ctx) {
  ctx_ = &ctx;
  gossip::Membership& m = ctx.node.membership();
  health_.set_broadcaster([&m](std::string key, Bytes payload, int priority) {
    m.queue_broadcast(std::move(key), std::move(payload), priority);
  });
  health_.set_peer_sample_handler([this, &m](const std::string& peer, const std::string& protocol,
                                             std::uint32_t sent, std::uint32_t lost,
                                             std::span<const PeerMetrics::Duration> rtts) {
    // Zones as known now: ours may arrive later (kube_node), a peer's with its tags.
    const gossip::Member* dst = m.find(peer);
    peer_metrics_.record(peer, protocol, std::string(gossip::tag_value(m.self().tags, "zone")),
                         dst ? std::string(gossip::tag_value(dst->tags, "zone")) : std::string(),
                         sent, lost, rtts, std::chrono::steady_clock::now());
  });
  health_.set_large_sample_handler(
      [this, &m](const std::string& peer, std::uint32_t sent, std::uint32_t lost, std::uint32_t) {
        const gossip::Member* dst = m.find(peer);
        peer_metrics_.record_large(
            peer, std::string(gossip::tag_value(m.self().tags, "zone")),
            dst ? std::string(gossip::tag_value(dst->tags, "zone")) : std::string(), sent, lost,
            std::chrono::steady_clock::now());
      });
  if (store_) {
    store_->start();  // never fails: an unwritable dir degrades to memory (probe `store`)
    recorder_ = std::make_unique<HistoryRecorder>(*store_, self_);
  }
  health_.set_change_handler([this](const ProbeChange& c) {
    if (recorder_) recorder_->on_probe_change(c);
    publish_soon();  // a verdict of any node changed: /v1/status shows it now, not at upkeep
  });
  timer_ = std::make_unique<Timer>(ctx.io);
  upkeep();
}

void StatusExtension::upkeep() {
  if (stopped_ || !timer_) return;
  health_.tick();
  if (store_) {
    const store::StoreHealth h = store_->health();
    checkers::Probe p = h.ok ? checkers::Probe::ok("history: " + store_->path())
                             : checkers::Probe::fail(checkers::Severity::warning,
                                                     "history store degraded: " + h.reason,
                                                     "events are kept in memory until it recovers");
    p.checker = p.type = "store";
    health_.set_local_probe(p, wall_ms());
  }
  publish_view();
  timer_->t.expires_after(opt_.refresh);
  timer_->t.async_wait([this](std::error_code ec) {
    if (!ec) upkeep();
  });
}

void StatusExtension::on_events(const std::vector<gossip::Event>& events) {
  if (recorder_) recorder_->on_member_events(events);
  for (const gossip::Event& e : events) {
    // Evidence from before a member's failure or return describes the state that ended: a
    // killed node's answered probes must not contradict its failure, a healed cut's lost
    // probes must not blame it in the next fault.
    if (e.kind == gossip::EventKind::failed && failed_.insert(e.member.name).second)
      health_.restart_samples(e.member.name);
    if (e.kind == gossip::EventKind::recovered && failed_.erase(e.member.name))
      health_.restart_samples(e.member.name);
    if (e.kind == gossip::EventKind::reaped || e.kind == gossip::EventKind::left)
      failed_.erase(e.member.name);
    if (e.kind == gossip::EventKind::reaped) health_.forget(e.member.name);
    if (e.kind == gossip::EventKind::reaped || e.kind == gossip::EventKind::left)
      peer_metrics_.forget(e.member.name);
  }
  published_revision_ = ~std::uint64_t{0};  // membership changed: publish (on_publish follows)
}

void StatusExtension::on_publish() {
  publish_view();
}

void StatusExtension::publish_view() {
  if (!ctx_) return;
  const gossip::Membership& m = ctx_->node.membership();
  // Our own evidence of being cut off changes the diagnosis without any record changing.
  std::string cut_off = cut_off_evidence(m, std::chrono::steady_clock::now());
  // Back from being cut off: our whole window measured the cut, not what comes next.
  if (!published_cut_off_.empty() && cut_off.empty()) health_.restart_all_samples();
  if (published_revision_ == health_.revision() && cut_off == published_cut_off_) return;
  published_revision_ = health_.revision();
  published_cut_off_ = cut_off;
  const auto window = std::chrono::duration_cast<std::chrono::seconds>(opt_.health.reach_window);
  auto view = std::make_shared<api::ClusterView>(
      build_cluster_view(self_, wall_ms(), m.members(), health_, window));
  view->observer_cut_off = std::move(cut_off);
  cell_.publish(std::move(view));
}

void StatusExtension::write_metrics(api::MetricsText& out) {
  auto view = cell_.load();
  if (view) {
    out.family("vigil_cluster_up", "gauge", "1 when no node is degraded (as this node sees it).");
    out.sample("vigil_cluster_up", {}, api::cluster_degraded(*view) ? 0.0 : 1.0);
    // Bounded: this node, then at most metrics_max_nodes others, degraded ones first.
    std::vector<const api::NodeView*> shown;
    for (const api::NodeView& n : view->nodes) shown.push_back(&n);
    std::stable_partition(shown.begin(), shown.end(), [&](const api::NodeView* n) {
      return n->member.name == self_ || api::node_degraded(*n);
    });
    auto self_it = std::find_if(shown.begin(), shown.end(),
                                [&](const api::NodeView* n) { return n->member.name == self_; });
    if (self_it != shown.end()) std::rotate(shown.begin(), self_it, self_it + 1);
    const std::size_t keep = opt_.metrics_max_nodes + (self_it != shown.end() ? 1 : 0);
    if (shown.size() > keep) shown.resize(keep);
    out.family("vigil_node_up", "gauge", "1 when the node is not degraded, per node.");
    for (const api::NodeView* n : shown) {
      out.sample("vigil_node_up", {{"node", n->member.name}}, api::node_degraded(*n) ? 0.0 : 1.0);
    }
    // Sparse on purpose: a series only for a member this node holds failed, so alerts can count
    // observers (VigilNodeDown) without another n x n family; it goes when the node is back.
    out.family("vigil_node_failed", "gauge",
               "1 for each member this node holds failed (no series for other members).");
    for (const api::NodeView& n : view->nodes) {
      if (n.member.status == "failed")
        out.sample("vigil_node_failed", {{"node", n.member.name}}, 1.0);
    }
    // One series per diagnosis kind this node names now (0 once it is gone): alerts on
    // udp-blocked, node-isolated, ... without parsing /v1/status. Bounded by the kinds.
    if (diagnosed_view_ != view) {  // once per published view, not per scrape
      diagnosed_view_ = view;
      diagnosis_counts_.clear();
      for (const api::DiagnosisEntry& e : api::diagnose(api::diagnosis_input(*view)))
        diagnosis_counts_[std::string(api::to_string(e.kind))] += 1;
    }
    std::map<std::string, double> kinds = diagnosis_counts_;
    for (const std::string& k : diagnosis_kinds_seen_) kinds.try_emplace(k, 0.0);
    for (const auto& [k, n] : kinds) diagnosis_kinds_seen_.insert(k);
    out.family("vigil_diagnosis_entries", "gauge",
               "Entries of this node's diagnosis (GET /v1/status), by kind.");
    for (const auto& [k, n] : kinds) out.sample("vigil_diagnosis_entries", {{"kind", k}}, n);
    out.family("vigil_probe_up", "gauge", "1 when the probe is running, 0 when failed.");
    for (const api::NodeView* n : shown) {
      for (const api::ProbeView& p : n->probes) {
        out.sample("vigil_probe_up", {{"node", n->member.name}, {"checker", p.checker}},
                   p.failed() ? 0.0 : 1.0);
      }
    }
    // The severity of each failed probe of the same nodes, sparse like vigil_node_failed: a
    // series only while the probe fails, so the label never flips on a running probe and
    // vigil_probe_up keeps design.md's {node, checker}. VigilCriticalProbeFailing counts the
    // critical ones; a warning probe never pages, even on a node degraded by something else.
    out.family("vigil_probe_failed", "gauge",
               "1 for each failed probe, by severity (no series for running probes).");
    for (const api::NodeView* n : shown) {
      for (const api::ProbeView& p : n->probes) {
        if (!p.failed()) continue;
        out.sample("vigil_probe_failed",
                   {{"node", n->member.name},
                    {"checker", p.checker},
                    {"severity", p.critical() ? "critical" : "warning"}},
                   1.0);
      }
    }
  }
  if (store_) {
    out.family("vigil_store_errors_total", "counter", "Failed history store operations.");
    out.sample("vigil_store_errors_total", {}, store_->errors_total());
  }
  out.family("vigil_build_info", "gauge", "Always 1; the version of this agent in a label.");
  out.sample("vigil_build_info", {{"version", VIGIL_VERSION}}, 1.0);
  if (!ctx_) return;
  const gossip::Membership& m = ctx_->node.membership();
  out.family("vigil_members_seen", "gauge",
             "Members this node sees alive or suspect, itself included (compare across nodes: "
             "a difference means a split mesh).");
  out.sample("vigil_members_seen", {}, static_cast<double>(m.num_alive()));
  peer_metrics_.write(out, self_, std::chrono::steady_clock::now());
}

void StatusExtension::publish_soon() {
  // Batches a burst of verdicts (a push-pull answer, a gossip packet with several records).
  if (stopped_ || !timer_ || timer_->soon_armed) return;
  timer_->soon_armed = true;
  timer_->soon.expires_after(opt_.publish_delay);
  timer_->soon.async_wait([this](std::error_code ec) {
    timer_->soon_armed = false;
    if (!ec && !stopped_) publish_view();
  });
}

void StatusExtension::stop() {
  stopped_ = true;
  if (timer_) timer_->t.cancel(), timer_->soon.cancel();
}

}  // namespace vigil::agent
