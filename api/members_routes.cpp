#include "api/members_routes.hpp"

#include <nlohmann/json.hpp>

#include "api/http_server.hpp"
#include "api/metrics_text.hpp"
#include "api/query_params.hpp"

namespace vigil::api {

std::string members_json(const MembersSnapshot& snap) {
  nlohmann::json arr = nlohmann::json::array();
  for (const MemberInfo& m : snap.members) {
    nlohmann::json tags = nlohmann::json::object();
    for (const auto& [k, v] : m.tags) tags[k] = v;
    arr.push_back({{"name", m.name},
                   {"addr", m.addr},
                   {"status", m.status},
                   {"incarnation", m.incarnation},
                   {"tags", std::move(tags)}});
  }
  return arr.dump();
}

void add_members_routes(HttpServer& server, const SnapshotCell<MembersSnapshot>& cell) {
  server.get("/v1/members", [&cell](const HttpRequest& req) {
    if (auto bad = reject_query_params(req.params); !bad.empty()) {
      return HttpResponse::error(400, bad);
    }
    auto snap = cell.load();
    if (!snap) return HttpResponse::error(503, "membership not started yet");
    return HttpResponse::json(members_json(*snap));
  });
  server.get("/healthz", [](const HttpRequest& req) {
    if (auto bad = reject_query_params(req.params); !bad.empty()) {
      return HttpResponse::error(400, bad);
    }
    return HttpResponse::json(R"({"status":"ok"})");
  });
  server.get("/readyz", [&cell](const HttpRequest& req) {
    if (auto bad = reject_query_params(req.params); !bad.empty()) {
      return HttpResponse::error(400, bad);
    }
    auto snap = cell.load();
    if (!snap) return HttpResponse::json(R"({"ready":false,"reason":"starting"})", 503);
    if (snap->leaving) return HttpResponse::json(R"({"ready":false,"reason":"leaving"})", 503);
    if (!snap->ready) {
      return HttpResponse::json(R"({"ready":false,"reason":"not joined yet"})", 503);
    }
    return HttpResponse::json(R"({"ready":true})");
  });
}

void write_gossip_metrics(MetricsText& out, const GossipMetrics& m) {
  out.family("vigil_gossip_messages_total", "counter",
             "Gossip protocol messages by type and direction.");
  for (const auto& [type, n] : m.messages_in) {
    out.sample("vigil_gossip_messages_total", {{"type", type}, {"direction", "in"}}, n);
  }
  for (const auto& [type, n] : m.messages_out) {
    out.sample("vigil_gossip_messages_total", {{"type", type}, {"direction", "out"}}, n);
  }
  out.family("vigil_gossip_bytes_total", "counter",
             "Gossip bytes on the wire (UDP and TCP, after encryption) by direction.");
  out.sample("vigil_gossip_bytes_total", {{"direction", "in"}}, m.bytes_in);
  out.sample("vigil_gossip_bytes_total", {{"direction", "out"}}, m.bytes_out);
  out.family("vigil_members", "gauge", "Members known to this node, by membership status.");
  for (const auto& [status, n] : m.members_by_status) {
    out.sample("vigil_members", {{"status", status}}, n);
  }
  out.family("vigil_health_awareness", "gauge",
             "Lifeguard local health score of this node (0 = healthy; higher = slower probes).");
  out.sample("vigil_health_awareness", {}, static_cast<double>(m.health_awareness));
  out.family("vigil_suspicions_total", "counter", "Members this node started suspecting.");
  out.sample("vigil_suspicions_total", {}, m.suspicions);
  out.family("vigil_gossip_decode_errors_total", "counter",
             "Gossip datagrams and stream frames dropped as malformed or oversize.");
  out.sample("vigil_gossip_decode_errors_total", {}, m.decode_errors);
  out.family("vigil_gossip_decrypt_errors_total", "counter",
             "Gossip datagrams and stream frames dropped because no key could decrypt them.");
  out.sample("vigil_gossip_decrypt_errors_total", {}, m.decrypt_errors);
}

}  // namespace vigil::api
