#pragma once
// Helpers for the real-component tests of the etcd/apiserver/kubelet/tcp/http/dns/disk/exec
// checkers: loopback ports (free_port, from test/ports.hpp), certificates made with the openssl
// CLI at test time, an in-process HTTP(S) server (cpp-httplib) stopped and joined by its
// destructor, and a one-shot run of a checker built from JSON through the builtin registry.

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "checkers/checker.hpp"
#include "checkers/registry.hpp"
#include "test/ports.hpp"

namespace httplib {
class Server;
class Request;
class Response;
}  // namespace httplib

namespace vigil::test {

/// Certificates for one test: a CA, a server certificate signed by it (SAN IP:127.0.0.1,
/// DNS:localhost, DNS:kubernetes.default.svc) and a client certificate signed by it.
struct TestPki {
  std::string ca_cert, ca_key, server_cert, server_key, client_cert, client_key;
  std::string error;  ///< non-empty when openssl failed
};
/// Makes a TestPki in `dir` with the openssl CLI (EC P-256 keys: fast).
TestPki make_test_pki(const std::string& dir);

/// An HTTP or HTTPS server on 127.0.0.1:<port> running on its own thread.
class HttpStub {
 public:
  using Handler = std::function<void(const httplib::Request&, httplib::Response&)>;
  /// Plain HTTP when cert is empty.
  HttpStub(const std::string& cert = {}, const std::string& key = {});
  ~HttpStub();
  /// Registers GET/POST handlers for `path` (before start()).
  void get(const std::string& path, Handler h);
  void post(const std::string& path, Handler h);
  /// Binds to a free port and starts serving. Returns false on failure.
  bool start();
  int port() const { return port_; }
  std::string url(const std::string& scheme = "http") const;

 private:
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
};

/// Builds a checker from JSON with the builtin registry and runs it once (like run_once,
/// with the spec's timeout). Fails the test (returns a failed probe) on a config error.
checkers::Probe run_checker_json(const std::string& json_spec, const std::string& host_root = {});

}  // namespace vigil::test
