#pragma once
// apiserver: GET /readyz?verbose on the Kubernetes API server with the pod's service-account
// token and CA, along two paths like kubenurse's api_server_direct / api_server_dns: the
// service IP from KUBERNETES_SERVICE_HOST/PORT, and the kubernetes.default.svc DNS name (so a
// broken cluster DNS shows). Failed readiness sub-checks are named in the error:
//   GET https://10.96.0.1:443/readyz?verbose: 500 failed checks: etcd, informer-sync
//   {"type": "apiserver", "direct_url": "https://10.96.0.1:443", "dns_url": ""}

#include <string>

#include "checkers/net.hpp"
#include "checkers/registry.hpp"

namespace vigil::checkers {

struct ApiserverConfig {
  /// Base URL of the direct path. Default: https://$KUBERNETES_SERVICE_HOST:
  /// $KUBERNETES_SERVICE_PORT when both are set (in a pod), else "" (path disabled).
  std::string direct_url;
  /// Base URL of the DNS path. Default "https://kubernetes.default.svc:443"; "" disables it.
  std::string dns_url = "https://kubernetes.default.svc:443";
  /// Path and query requested on both. Default "/readyz?verbose".
  std::string path = "/readyz?verbose";
  /// Bearer token file, re-read every run (projected tokens rotate). Default the in-cluster
  /// service-account token; "" sends no token.
  std::string token_file = "/var/run/secrets/kubernetes.io/serviceaccount/token";
  /// TLS settings; ca_file defaults to the in-cluster service-account CA.
  net::TlsOptions tls;
};

/// The default in-cluster CA file.
inline constexpr const char* kServiceAccountCa =
    "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt";

/// Factory of the `apiserver` type.
MakeResult make_apiserver_checker(const CheckSpec& spec, CheckerContext& ctx);

}  // namespace vigil::checkers
