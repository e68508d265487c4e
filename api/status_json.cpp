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

// A direct JSON writer for the large part of the document (nodes and probes): 1000 nodes
// render in a few ms instead of ~100 ms through nlohmann's object model. Strings are escaped
// and invalid UTF-8 is replaced by U+FFFD, so the output is always valid JSON.
void put_str(std::string& out, std::string_view s) {
  static const char* hex = "0123456789abcdef";
  out.push_back('"');
  for (std::size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if (c == '"' || c == '\\') {
        out.push_back('\\'), out.push_back(static_cast<char>(c));
      } else if (c < 0x20) {
        out += "\\u00";
        out.push_back(hex[c >> 4]), out.push_back(hex[c & 0xf]);
      } else {
        out.push_back(static_cast<char>(c));
      }
      ++i;
      continue;
    }
    // Multi-byte sequence: copy it when well-formed (no overlongs, no surrogates).
    std::size_t n = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 && c <= 0xDF ? 2 : 0;
    bool ok = n != 0 && i + n <= s.size();
    for (std::size_t k = 1; ok && k < n; ++k) {
      ok = (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
    }
    if (ok && n >= 3) {
      const unsigned char c1 = static_cast<unsigned char>(s[i + 1]);
      if (c == 0xE0 && c1 < 0xA0) ok = false;   // overlong
      if (c == 0xED && c1 >= 0xA0) ok = false;  // surrogate
      if (c == 0xF0 && c1 < 0x90) ok = false;   // overlong
      if (c == 0xF4 && c1 >= 0x90) ok = false;  // > U+10FFFF
    }
    if (ok) {
      out.append(s.substr(i, n));
      i += n;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  out.push_back('"');
}

void put_field(std::string& out, const char* key, std::string_view value, bool comma = true) {
  if (comma) out.push_back(',');
  out.push_back('"');
  out += key;
  out += "\":";
  put_str(out, value);
}

void put_member(std::string& out, const MemberInfo& m) {
  out += "{\"name\":";
  put_str(out, m.name);
  put_field(out, "addr", m.addr);
  put_field(out, "status", m.status);
  out += ",\"incarnation\":" + std::to_string(m.incarnation) + ",\"tags\":{";
  // Tags are sorted by key; a duplicate key keeps its first value (JSON objects are unique).
  std::string_view last;
  bool first = true;
  for (const auto& [k, v] : m.tags) {
    if (!first && k == last) continue;
    if (!first) out.push_back(',');
    put_str(out, k);
    out.push_back(':');
    put_str(out, v);
    last = k, first = false;
  }
  out += "}}";
}

void put_probe(std::string& out, const ProbeView& p) {
  out += "{\"checker\":";
  put_str(out, p.checker);
  put_field(out, "type", p.type);
  put_field(out, "status", p.status);
  if (p.failed()) put_field(out, "severity", p.severity.empty() ? "critical" : p.severity);
  if (p.since_ms > 0) put_field(out, "since", format_rfc3339_ms(p.since_ms));
  if (!p.error.empty()) put_field(out, "error", p.error);
  if (!p.detail.empty()) put_field(out, "detail", p.detail);
  out.push_back('}');
}

void put_node(std::string& out, const NodeView& n) {
  out += "{\"name\":";
  put_str(out, n.member.name);
  put_field(out, "status", node_degraded(n) ? "degraded" : "running");
  out += ",\"member_status\":";
  put_member(out, n.member);
  if (n.updated_ms > 0) put_field(out, "updated", format_rfc3339_ms(n.updated_ms));
  out += ",\"probes\":[";
  for (std::size_t i = 0; i < n.probes.size(); ++i) {
    if (i) out.push_back(',');
    put_probe(out, n.probes[i]);
  }
  out += "]}";
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
  in.observer_cut_off = v.observer_cut_off;
  for (const NodeView& n : v.nodes) {
    in.nodes.push_back({n.member.name, peer_status(n.member.status), tag(n.member, "zone")});
    for (const ReachView& r : n.reach) {
      if (!r.counts_loss || r.sent == 0) continue;
      if (r.large_sent > 0)
        in.large_echoes.push_back(
            {n.member.name, r.peer, r.large_sent, r.large_lost, r.large_bytes});
      if (r.protocol == "udp") {
        in.udp_links.push_back({n.member.name, r.peer, static_cast<double>(r.lost) / r.sent,
                                std::chrono::duration<double>(r.rtt_ms / 1000.0), r.sent});
        continue;
      }
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
  std::string out;
  out.reserve(256 + v.nodes.size() * 1024);
  out += "{\"status\":";
  put_str(out, cluster_degraded(v) ? "degraded" : "running");
  put_field(out, "timestamp", format_rfc3339_ms(v.timestamp_ms));
  put_field(out, "summary", status_summary(v));
  put_field(out, "observer", v.observer);
  out += ",\"nodes\":[";
  for (std::size_t i = 0; i < v.nodes.size(); ++i) {
    if (i) out.push_back(',');
    put_node(out, v.nodes[i]);
  }
  out += "],\"diagnosis\":";
  Json diag = Json::array();
  for (const DiagnosisEntry& e : diagnose(diagnosis_input(v), cfg)) {
    Json d{{"kind", std::string(to_string(e.kind))}, {"node", e.node}, {"evidence", e.evidence}};
    if (!e.nodes.empty()) d["nodes"] = e.nodes;
    if (!e.zones.empty()) d["zones"] = e.zones;
    diag.push_back(std::move(d));
  }
  out += diag.dump(-1, ' ', false, Json::error_handler_t::replace);
  out.push_back('}');
  return out;
}

std::string local_status_json(const ClusterView& v) {
  for (const NodeView& n : v.nodes) {
    if (n.member.name == v.observer) {
      std::string out;
      put_node(out, n);
      return out;
    }
  }
  return {};
}

}  // namespace vigil::api
