#pragma once
// A small blocking HTTP/1.1 client for checkers (etcd, apiserver, kubelet, http): one request
// per connection (Connection: close), plain TCP or TLS, bounded by a Deadline end to end, body
// capped. Content-Length, chunked and read-to-close bodies.

#include <string>
#include <utility>
#include <vector>

#include "checkers/deadline.hpp"
#include "checkers/net.hpp"

namespace vigil::checkers::http {

/// A parsed http:// or https:// URL.
struct Url {
  std::string scheme;  ///< "http" or "https"
  std::string host;    ///< without brackets for IPv6
  std::string port;    ///< explicit or the scheme's default
  std::string target;  ///< path and query, at least "/"
};

/// Parses `text`; false on anything but http(s)://host[:port][/path][?query].
bool parse_url(const std::string& text, Url& out);

struct Request {
  std::string method = "GET";
  std::string url;  ///< http(s)://host[:port]/path?query
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  /// TLS settings; `enabled` is implied by an https URL.
  net::TlsOptions tls;
  /// Bodies longer than this are cut (the rest is not read). Default 64 KiB.
  std::size_t max_body = 64 * 1024;
};

struct Response {
  int status = 0;
  std::string reason;
  std::vector<std::pair<std::string, std::string>> headers;  ///< names lower-cased
  std::string body;
  bool body_truncated = false;
  Duration connect_time{};  ///< TCP connect + TLS handshake
  Duration total_time{};

  /// The value of header `name` (lower case), empty when absent.
  std::string header(const std::string& name) const;
};

/// A response, or an error ("connect 127.0.0.1:2379: Connection refused", "read: timed out").
struct Result {
  bool ok = false;
  Response response;
  std::string error;
};

/// Performs one request. Never throws; returns by `deadline`.
Result fetch(const Request& request, Deadline deadline);

/// "GET http://127.0.0.1:2379/health": the prefix of actionable error messages.
std::string describe(const Request& request);

/// The body shortened to `max` bytes on one line (newlines become spaces), for error messages.
std::string snippet(const std::string& body, std::size_t max = 200);

}  // namespace vigil::checkers::http
