#pragma once
// etcd: GET /health on each endpoint (optionally with a TLS client certificate), then the
// member status (POST /v3/maintenance/status) to see the leader. Any endpoint unhealthy, or a
// member without a leader, is critical; the error is the server's own answer:
//   GET http://127.0.0.1:2379/health: 503 {"health":"false"}
//   {"type": "etcd", "endpoints": ["https://127.0.0.1:2379"],
//    "ca_file": "/etc/kubernetes/pki/etcd/ca.crt",
//    "cert_file": "/etc/kubernetes/pki/etcd/healthcheck-client.crt",
//    "key_file": "/etc/kubernetes/pki/etcd/healthcheck-client.key"}

#include <string>
#include <vector>

#include "checkers/net.hpp"
#include "checkers/registry.hpp"

namespace vigil::checkers {

struct EtcdConfig {
  /// Client URLs of the members to check. Default ["http://127.0.0.1:2379"].
  std::vector<std::string> endpoints = {"http://127.0.0.1:2379"};
  /// Also ask each member for its leader (v3 gRPC gateway /v3/maintenance/status); a member
  /// that knows no leader is critical. Default true. Skipped when the gateway is missing.
  bool check_leader = true;
  /// TLS client settings for https endpoints (ca_file, cert_file, key_file, server_name,
  /// insecure_skip_verify).
  net::TlsOptions tls;
};

/// Factory of the `etcd` type.
MakeResult make_etcd_checker(const CheckSpec& spec, CheckerContext& ctx);

}  // namespace vigil::checkers
