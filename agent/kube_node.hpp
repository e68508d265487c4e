#pragma once
// The zone of this node from the Kubernetes API: GET /api/v1/nodes/<name> with the pod's
// service-account token and CA, then the Node's `topology.kubernetes.io/zone` label (or the
// deprecated `failure-domain.beta.kubernetes.io/zone`). Needs RBAC `get` on nodes (the chart's
// ClusterRole). Blocking: call it off the loop thread (KubeZoneExtension does).

#include <chrono>
#include <optional>
#include <string>

namespace vigil::agent {

struct KubeApiOptions {
  /// Base URL of the API server, e.g. "https://10.96.0.1:443".
  std::string url;
  /// Bearer token file, read on every request (projected tokens rotate). "" sends none.
  std::string token_file = "/var/run/secrets/kubernetes.io/serviceaccount/token";
  /// CA bundle that signed the API server's certificate. "" uses the system trust store.
  std::string ca_file = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt";
  /// Bound of one request, connect to last byte. Default 5s.
  std::chrono::milliseconds timeout{5000};

  /// In a pod: url from $KUBERNETES_SERVICE_HOST / $KUBERNETES_SERVICE_PORT (default port
  /// 443), the service-account files. nullopt when KUBERNETES_SERVICE_HOST is not set.
  static std::optional<KubeApiOptions> in_cluster();
};

struct NodeZone {
  /// The zone label's value; empty when the Node has none (or on error).
  std::string zone;
  /// Empty on success (label or not); otherwise one actionable line, e.g.
  /// "GET https://10.96.0.1:443/api/v1/nodes/n1: 403 nodes \"n1\" is forbidden: ...".
  std::string error;
  /// True when retrying cannot help (403, 404, a Node without the label).
  bool final = false;
};

/// One GET of the Node named `node`. Never throws.
NodeZone fetch_node_zone(const KubeApiOptions& api, const std::string& node);

/// The zone label of a Node object's JSON; nullopt when the JSON is not a Node.
std::optional<std::string> zone_of_node_json(const std::string& body);

}  // namespace vigil::agent
