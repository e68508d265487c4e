#pragma once
// The HTTP client side shared by `vigil status`, `vigil members` and `vigil history`: the
// agent's URL (http:// or https://), the bearer token (--token-file / VIGIL_TOKEN_FILE), the
// CA that signed the agent's certificate (--ca / VIGIL_CA) or --insecure, and one-line error
// messages with a hint for TLS and 401 answers. cpp-httplib stays out of this header.

#include <chrono>
#include <memory>
#include <string>

namespace CLI {
class App;
}
namespace httplib {
class Client;
class Result;
}  // namespace httplib

namespace vigil::agent {

/// How a client command reaches and authenticates to an agent.
struct ApiClientOptions {
  std::string token_file;  ///< file holding the bearer token; "" = send none
  std::string ca_file;     ///< PEM CA bundle for https:// (default: the system's CAs)
  bool insecure = false;   ///< https:// without verifying the certificate
};

/// Registers --token-file, --ca and --insecure (with VIGIL_* env names) on a subcommand.
void add_api_client_options(CLI::App& sub, ApiClientOptions& o);

/// "127.0.0.1:7947" -> "http://127.0.0.1:7947"; trailing slashes removed.
std::string normalize_agent_url(std::string addr);

/// A client for `url` (normalized) with timeouts, token and TLS settings applied. Returns null
/// and sets `error` (one line) for a bad URL, an unreadable or empty token file, or an
/// unreadable CA file.
std::unique_ptr<httplib::Client> make_api_client(const std::string& url, const ApiClientOptions& o,
                                                 std::chrono::milliseconds timeout,
                                                 std::string& error);

/// One line for a request that failed: no answer (with a TLS hint when it is a TLS problem) or
/// an HTTP error status with the agent's {"error"} text (with a hint on 401).
std::string api_error(const httplib::Result& res, const std::string& url, const std::string& path);

}  // namespace vigil::agent
