#include "agent/kube_node.hpp"

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "checkers/http_client.hpp"
#include "checkers/unix_http.hpp"

namespace vigil::agent {
namespace {

using nlohmann::json;

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  while (!s.empty() && s.front() == ' ') s.erase(s.begin());
  return s;
}

}  // namespace

std::optional<KubeApiOptions> KubeApiOptions::in_cluster() {
  const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
  if (!host || !*host) return std::nullopt;
  const char* port = std::getenv("KUBERNETES_SERVICE_PORT");
  std::string h = host;
  if (h.find(':') != std::string::npos) h = "[" + h + "]";  // IPv6 service IP
  KubeApiOptions o;
  o.url = "https://" + h + ":" + (port && *port ? port : "443");
  return o;
}

std::optional<std::string> zone_of_node_json(const std::string& body) {
  json j = json::parse(body, nullptr, false);
  if (!j.is_object() || j.value("kind", std::string()) != "Node") return std::nullopt;
  const json* labels = nullptr;
  if (auto m = j.find("metadata"); m != j.end() && m->is_object()) {
    if (auto l = m->find("labels"); l != m->end() && l->is_object()) labels = &*l;
  }
  if (!labels) return std::string();
  for (const char* key :
       {"topology.kubernetes.io/zone", "failure-domain.beta.kubernetes.io/zone"}) {
    if (auto v = labels->find(key); v != labels->end() && v->is_string() && !v->empty())
      return v->get<std::string>();
  }
  return std::string();
}

NodeZone fetch_node_zone(const KubeApiOptions& api, const std::string& node) {
  NodeZone r;
  checkers::http::Request req;
  std::string base = api.url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  // Node names are DNS subdomains; anything else is escaped rather than trusted in a path.
  req.url = base + "/api/v1/nodes/" + checkers::url_encode(node);
  req.headers.emplace_back("Accept", "application/json");
  req.tls.ca_file = api.ca_file;
  req.max_body = 1 << 20;  // a Node object with many images in its status can be large
  const std::string what = checkers::http::describe(req);
  if (!api.token_file.empty()) {
    std::ifstream f(api.token_file);
    if (!f) {
      r.error = "read service-account token " + api.token_file + ": cannot open";
      return r;
    }
    std::stringstream ss;
    ss << f.rdbuf();
    req.headers.emplace_back("Authorization", "Bearer " + trim(ss.str()));
  }
  auto res = checkers::http::fetch(req, checkers::Deadline::in(api.timeout));
  if (!res.ok) {
    r.error = what + ": " + res.error;
    return r;
  }
  const auto& rsp = res.response;
  if (rsp.status != 200) {
    // A metav1.Status object: {"kind":"Status","message":"nodes \"n1\" is forbidden: ..."}
    json st = json::parse(rsp.body, nullptr, false);
    std::string msg = st.is_object() ? st.value("message", std::string()) : std::string();
    r.error = what + ": " + std::to_string(rsp.status) + " " +
              (msg.empty() ? checkers::http::snippet(rsp.body) : msg);
    if (rsp.status == 403) r.error += " (the ClusterRole needs get on nodes)";
    r.final = rsp.status == 403 || rsp.status == 404;
    return r;
  }
  if (rsp.body_truncated) {
    r.error = what + ": Node object larger than " + std::to_string(req.max_body) + " bytes";
    r.final = true;
    return r;
  }
  auto zone = zone_of_node_json(rsp.body);
  if (!zone) {
    r.error = what + ": not a Node object: " + checkers::http::snippet(rsp.body);
    return r;
  }
  r.zone = *zone;
  r.final = true;
  return r;
}

}  // namespace vigil::agent
