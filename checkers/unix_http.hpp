#pragma once
// A minimal blocking HTTP/1.1 GET over a unix stream socket (the Docker Engine API and other
// local daemons). cpp-httplib 0.11 (Debian 12) cannot dial AF_UNIX, and a probe needs one hard
// deadline for connect + request + response anyway. Handles Content-Length, chunked bodies and
// close-delimited bodies; caps the body size. No TLS, no keep-alive, no redirects.

#include <cstddef>
#include <string>

#include "checkers/deadline.hpp"

namespace vigil::checkers {

struct UnixHttpResponse {
  bool ok = false;    ///< a complete response was read (any status code)
  std::string error;  ///< when !ok: "connect: No such file or directory", "timed out reading"...
  int status = 0;     ///< HTTP status code
  std::string body;   ///< decoded body (de-chunked), at most max_body bytes
};

/// GETs `target` ("/info", "/containers/json?filters=...", already URL-encoded) from the HTTP
/// server listening on the unix socket `socket_path`. Returns by `deadline`. Never throws.
UnixHttpResponse unix_http_get(const std::string& socket_path, const std::string& target,
                               Deadline deadline, std::size_t max_body = 8u << 20);

/// Percent-encodes `s` for a URL query value (RFC 3986 unreserved characters kept).
std::string url_encode(const std::string& s);

}  // namespace vigil::checkers
