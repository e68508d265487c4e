#pragma once
// HTTP API authentication: one shared secret (a bearer token) guards every path except the
// open ones (/healthz and /readyz by default: the kubelet's probes carry no credentials).
//
// Accepted credentials, both compared in constant time:
//   Authorization: Bearer <token>            (curl, vigil status --token-file, Prometheus)
//   Authorization: Basic base64(user:<token>) (any user name: a browser's own login prompt,
//                                              so the web page works with a token set)
// Pure functions, no I/O: HttpServer calls check_auth() before routing.

#include <string>
#include <string_view>
#include <vector>

namespace vigil::api {

/// Constant-time equality: the time depends on the length of `expected` only, never on where
/// `given` first differs or on its length.
bool token_equal(std::string_view given, std::string_view expected);

/// Why a request was refused; `ok` when it may proceed.
enum class AuthResult { ok, missing, wrong };

/// Checks a request's Authorization header value ("" when absent) against `token`.
/// An empty `token` disables authentication (always ok). `path` in `open_paths` is always ok.
AuthResult check_auth(std::string_view path, std::string_view authorization,
                      const std::string& token, const std::vector<std::string>& open_paths);

/// The WWW-Authenticate challenge sent with a 401.
inline constexpr const char* kAuthChallenge = "Bearer realm=\"vigil\", Basic realm=\"vigil\"";

/// A token file's text -> the token: surrounding whitespace (a trailing newline) removed.
/// Returns "" and sets `error` when it is empty or holds characters that cannot travel in an
/// HTTP header (only visible ASCII, 0x21-0x7e, is allowed).
std::string parse_token(std::string_view file_text, std::string& error);

}  // namespace vigil::api
