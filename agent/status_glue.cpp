#include "agent/status_glue.hpp"

#include <algorithm>

#include "store/history.hpp"

namespace vigil::agent {

api::MemberInfo member_info(const gossip::Member& m) {
  return {m.name, m.addr, std::string(gossip::to_string(m.state)), m.incarnation, m.tags};
}

api::ClusterView build_cluster_view(const std::string& observer, std::int64_t now_ms,
                                    const std::vector<gossip::Member>& members,
                                    const HealthState& health, std::chrono::seconds reach_window) {
  api::ClusterView v;
  v.observer = observer;
  v.timestamp_ms = now_ms;
  v.reach_window = reach_window;
  v.nodes.reserve(members.size());
  for (const gossip::Member& m : members) {
    if (m.state == gossip::MemberState::left) continue;
    api::NodeView n;
    n.member = member_info(m);
    if (const NodeHealth* h = health.find(m.name)) {
      n.updated_ms = h->updated_ms();
      for (const auto& [checker, r] : h->probes) {
        const ProbeFields& p = r.probe;
        if (p.status == WireStatus::removed) continue;
        n.probes.push_back({p.checker, p.type,
                            p.status == WireStatus::failed ? "failed" : "running",
                            p.severity == WireSeverity::warning ? "warning" : "critical",
                            p.since_ms, p.error, p.detail});
      }
      if (h->reach) {
        for (const PeerReach& e : h->reach->reach) {
          api::ReachView& r = n.reach.emplace_back();
          r.peer = e.peer;
          r.protocol = e.protocol;
          r.sent = e.sent;
          r.lost = e.lost;
          r.rtt_ms = e.rtt_us / 1000.0;
          r.counts_loss = e.protocol != "gossip";
          r.large_sent = e.large_sent;
          r.large_lost = e.large_lost;
          r.large_bytes = e.large_bytes;
        }
      }
    }
    v.nodes.push_back(std::move(n));
  }
  std::sort(v.nodes.begin(), v.nodes.end(), [](const api::NodeView& a, const api::NodeView& b) {
    return a.member.name < b.member.name;
  });
  return v;
}

std::string cut_off_evidence(const gossip::Membership& m, gossip::TimePoint now) {
  const gossip::Membership::LocalEvidence ev = m.local_evidence();
  const gossip::Duration interval = m.config().probe_interval;
  const gossip::Duration silent = now - ev.last_heard;
  // Two probes, not one: a node whose zone is cut off still hears its zone-mates, but its
  // first probe after the cut (most likely to a peer outside the zone) can fail before any
  // mate's message arrives; by the second one, the mates' suspicions of the far side are
  // gossiping (issue 13 suite: "n9 is cut off ... for 1s" in a zone cut).
  if (ev.failed_probes_in_a_row < 2 || silent < 2 * interval) return {};
  std::size_t others = 0;
  for (const gossip::Member& p : m.members())
    others += p.name != m.self().name && p.state != gossip::MemberState::left;
  if (others < 2) return {};
  const long long s = std::chrono::duration_cast<std::chrono::seconds>(silent).count();
  const int n = ev.failed_probes_in_a_row;
  return (n == 1 ? std::string("its last probe") : "its last " + std::to_string(n) + " probes") +
         " got no answer (direct, indirect or TCP) and no peer has reached it for " +
         (ev.last_heard == gossip::TimePoint{} ? std::string("ever") : std::to_string(s) + "s");
}

api::HistoryQueryFn make_history_query(const store::HistoryReader& store) {
  return [&store](const api::HistoryQuery& q) {
    store::EventFilter f;
    if (q.since_ms) f.since = store::from_unix_ms(*q.since_ms);
    if (q.until_ms) f.until = store::from_unix_ms(*q.until_ms);
    f.node = q.node;
    f.checker = q.checker;
    if (q.type) f.type = store::parse_event_type(*q.type);
    f.limit = q.limit;
    api::HistoryAnswer a;
    store::QueryResult r = store.query(f);
    // memory_only: the database is unreadable; recent events still answer (partial history).
    a.events.reserve(r.events.size());
    for (store::Event& e : r.events) {
      a.events.push_back({e.id, store::to_unix_ms(e.timestamp),
                          std::string(store::to_string(e.type)), std::move(e.node),
                          std::move(e.checker), std::move(e.old_state), std::move(e.new_state),
                          std::move(e.detail)});
    }
    return a;
  };
}

}  // namespace vigil::agent
