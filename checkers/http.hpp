#pragma once
// http: one HTTP(S) request; checks the status code, optionally a body substring, and latency.
//   {"type": "http", "name": "ingress", "url": "https://127.0.0.1:443/healthz",
//    "expected_status": 200, "body_contains": "ok", "ca_file": "/etc/ssl/ca.pem"}

#include <string>
#include <utility>
#include <vector>

#include "checkers/net.hpp"
#include "checkers/registry.hpp"

namespace vigil::checkers {

struct HttpConfig {
  /// http:// or https:// URL. Required.
  std::string url;
  /// Request method. Default "GET".
  std::string method = "GET";
  /// Extra request headers, e.g. {"Authorization": "Bearer ..."}. Default none.
  std::vector<std::pair<std::string, std::string>> headers;
  /// Expected status code. Default 0: any 2xx or 3xx.
  int expected_status = 0;
  /// A substring the body must contain. Default "": not checked.
  std::string body_contains;
  /// A response slower than this is a warning failure. Default 0: no latency check.
  Duration warn_latency{};
  /// TLS client settings (ca_file, cert_file, key_file, server_name, insecure_skip_verify).
  net::TlsOptions tls;
};

/// Factory of the `http` type.
MakeResult make_http_checker(const CheckSpec& spec, CheckerContext& ctx);

}  // namespace vigil::checkers
