#include "api/status_json.hpp"

#include <nlohmann/json.hpp>

#include "api/time_format.hpp"

namespace vigil::api {
namespace {

using Json = nlohmann::ordered_json;

PeerStatus peer_status(const std::string& s) {
  if (s == "alive") return PeerStatus::alive;
  if (s == "suspect") return PeerStatus::suspect;
  if (s == "left") return PeerStatus::left;
  return PeerStatus::failed;
}

std::string tag(const MemberInfo& m, const std::string& key) {
  for (const auto& [k, v] : m.tags) {
    if (k == key) return v;
  }
  return {};
}

Json member_json(const MemberInfo& m) {
  Json tags = Json::object();
  for (const auto& [k, v] : m.tags) tags[k] = v;
  return Json{{"name", m.name},
              {"addr", m.addr},
              {"status", m.status},
              {"incarnation", m.incarnation},
              {"tags", std::move(tags)}};
}

Json probe_json(const ProbeView& p) {
  Json j{{"checker", p.checker}, {"type", p.type}, {"status", p.status}};
  if (p.failed()) j["severity"] = p.severity.empty() ? "critical" : p.severity;
  if (p.since_ms > 0) j["since"] = format_rfc3339_ms(p.since_ms);
  if (!p.error.empty()) j["error"] = p.error;
  if (!p.detail.empty()) j["detail"] = p.detail;
  return j;
}

Json node_json(const NodeView& n) {
  Json j{{"name", n.member.name},
         {"status", node_degraded(n) ? "degraded" : "running"},
         {"member_status", member_json(n.member)}};
  if (n.updated_ms > 0) j["updated"] = format_rfc3339_ms(n.updated_ms);
  Json probes = Json::array();
  for (const ProbeView& p : n.probes) probes.push_back(probe_json(p));
  j["probes"] = std::move(probes);
  return j;
}

}  // namespace

bool node_degraded(const NodeView& n) {
  if (n.member.status != "alive") return true;
  for (const ProbeView& p : n.probes) {
    if (p.critical()) return true;
  }
  return false;
}

bool cluster_degraded(const ClusterView& v) {
  for (const NodeView& n : v.nodes) {
    if (node_degraded(n)) return true;
  }
  return false;
}

std::string status_summary(const ClusterView& v) {
  std::size_t bad = 0;
  for (const NodeView& n : v.nodes) bad += node_degraded(n) ? 1 : 0;
  const std::size_t total = v.nodes.size();
  if (total == 0) return "no nodes known";
  const std::string nodes = total == 1 ? " node" : " nodes";
  if (bad == 0)
    return total == 1 ? "1 node running" : "all " + std::to_string(total) + nodes + " running";
  return std::to_string(bad) + " of " + std::to_string(total) + nodes + " degraded";
}

DiagnosisInput diagnosis_input(const ClusterView& v) {
  DiagnosisInput in;
  in.observer = v.observer;
  in.window = v.reach_window;
  for (const NodeView& n : v.nodes) {
    in.nodes.push_back({n.member.name, peer_status(n.member.status), tag(n.member, "zone")});
    for (const ReachView& r : n.reach) {
      if (!r.counts_loss || r.sent == 0) continue;
      LinkSample s;
      s.from = n.member.name;
      s.to = r.peer;
      s.loss = static_cast<double>(r.lost) / r.sent;
      s.rtt = std::chrono::duration<double>(r.rtt_ms / 1000.0);
      s.probes = r.sent;
      in.links.push_back(std::move(s));
    }
  }
  return in;
}

std::string status_json(const ClusterView& v, const DiagnosisConfig& cfg) {
  Json nodes = Json::array();
  for (const NodeView& n : v.nodes) nodes.push_back(node_json(n));
  Json diag = Json::array();
  for (const DiagnosisEntry& e : diagnose(diagnosis_input(v), cfg)) {
    Json d{{"kind", std::string(to_string(e.kind))}, {"node", e.node}, {"evidence", e.evidence}};
    if (!e.nodes.empty()) d["nodes"] = e.nodes;
    if (!e.zones.empty()) d["zones"] = e.zones;
    diag.push_back(std::move(d));
  }
  Json doc{{"status", cluster_degraded(v) ? "degraded" : "running"},
           {"timestamp", format_rfc3339_ms(v.timestamp_ms)},
           {"summary", status_summary(v)},
           {"observer", v.observer},
           {"nodes", std::move(nodes)},
           {"diagnosis", std::move(diag)}};
  return doc.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string local_status_json(const ClusterView& v) {
  for (const NodeView& n : v.nodes) {
    if (n.member.name == v.observer) {
      return node_json(n).dump(-1, ' ', false, Json::error_handler_t::replace);
    }
  }
  return {};
}

}  // namespace vigil::api
