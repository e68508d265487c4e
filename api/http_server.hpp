#pragma once
// HttpServer: a small wrapper over cpp-httplib so modules register JSON routes without seeing
// httplib (kept out of this header for compile cost). Handlers run on the server's bounded
// pool of worker threads, never on the agent's loop thread: they must only read immutable
// snapshots (SnapshotCell) and post mutations to the loop.
//
// The API is read-only by construction: only GET routes can be registered (any other method
// gets 404). Optional bearer-token authentication and TLS: see Options.
//
// Errors are JSON: unknown paths give 404 {"error": "..."}, a handler that throws gives
// 500 {"error": "..."}, and any 4xx/5xx without a body gets {"error": "<reason>"}.

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace vigil::api {

struct HttpRequest {
  std::string method;
  std::string path;
  std::multimap<std::string, std::string> params;  ///< query string
  std::vector<std::string> matches;  ///< regex groups of the route pattern ([0] = whole path)
  std::string body;

  bool has_param(const std::string& key) const { return params.count(key) > 0; }
  /// The first value of `key`, or `fallback`.
  std::string param(const std::string& key, const std::string& fallback = {}) const;
};

struct HttpResponse {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers{};  ///< extra (Cache-Control...)
  /// A body shared with other responses (a cached rendering of a snapshot), written from the
  /// shared string without a copy; `body` is ignored when set. A 5,000-node /v1/status is
  /// 2.6 MB: copying it per request cost a memcpy and a 2.6 MB allocation in each worker.
  std::shared_ptr<const std::string> shared_body{};

  /// A JSON body (already serialized) with `status`.
  static HttpResponse json(std::string body, int status = 200);
  /// A JSON body shared with other responses (see shared_body), with `status`.
  static HttpResponse shared_json(std::shared_ptr<const std::string> body, int status = 200);
  /// {"error": message} with `status` (400, 404, 500, 503...).
  static HttpResponse error(int status, std::string_view message);
  /// text/plain (Prometheus exposition uses its own content type: pass it).
  static HttpResponse text(std::string body, std::string content_type = "text/plain");
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

class HttpServer {
 public:
  struct Options {
    /// Worker threads serving requests (httplib's default is 8+; a node agent needs few).
    std::size_t threads = 4;
    /// Accepted connections waiting for a worker; when full, accepting pauses (backpressure)
    /// instead of queueing without bound.
    std::size_t max_queued = 64;
    /// Per-connection socket read/write timeouts.
    std::chrono::seconds read_timeout{5};
    std::chrono::seconds write_timeout{5};
    /// Shared secret every request must carry (`Authorization: Bearer <token>`, or Basic
    /// with the token as password) except on `open_paths`; others get 401 JSON. "" = open.
    std::string bearer_token{};
    /// Paths served without the token: the kubelet's probes carry no credentials.
    std::vector<std::string> open_paths{"/healthz", "/readyz"};
    /// PEM certificate chain and private key: serve HTTPS only (TLS 1.2+). Both or neither;
    /// the constructor throws std::runtime_error (one line) when they cannot be loaded.
    std::string tls_cert_file{}, tls_key_file{};
  };

  HttpServer();
  explicit HttpServer(Options options);
  ~HttpServer();  ///< stops and joins
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  /// Registers a GET route. `pattern` is an ECMAScript regex matched against the whole path
  /// ("/v1/members", "/v1/status/(\\w+)"). Register every route before start().
  void get(const std::string& pattern, HttpHandler handler);

  /// Binds `host`:`port` (port 0: any free port). Returns the bound port. Throws
  /// std::runtime_error with one line when binding fails.
  int bind(const std::string& host, int port);
  /// Serves on a background thread until stop(). bind() first.
  void start();
  /// Stops accepting, finishes in-flight requests, joins the threads. Idempotent.
  void stop();
  /// The bound port (after bind()).
  int port() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil::api
