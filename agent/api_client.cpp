#include "agent/api_client.hpp"

#include <httplib.h>

#include <CLI/CLI.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "api/http_auth.hpp"

namespace vigil::agent {
namespace {

bool is_https(const std::string& url) {
  return url.rfind("https://", 0) == 0;
}

}  // namespace

void add_api_client_options(CLI::App& sub, ApiClientOptions& o) {
  sub.add_option("--token-file", o.token_file,
                 "File with the agent's HTTP bearer token (its --http-token-file)")
      ->envname("VIGIL_TOKEN_FILE");
  sub.add_option("--ca", o.ca_file, "PEM CA bundle that signed the agent's certificate (https)")
      ->envname("VIGIL_CA");
  sub.add_flag("--insecure", o.insecure, "https without verifying the agent's certificate")
      ->envname("VIGIL_INSECURE");
}

std::string normalize_agent_url(std::string addr) {
  if (addr.find("://") == std::string::npos) addr = "http://" + addr;
  while (addr.size() > 8 && addr.back() == '/') addr.pop_back();
  return addr;
}

std::unique_ptr<httplib::Client> make_api_client(const std::string& url, const ApiClientOptions& o,
                                                 std::chrono::milliseconds timeout,
                                                 std::string& error) {
  if (url.rfind("http://", 0) != 0 && !is_https(url)) {
    error = "invalid --addr " + url + " (want http://HOST:PORT or https://HOST:PORT)";
    return nullptr;
  }
  auto client = std::make_unique<httplib::Client>(url);
  if (!client->is_valid()) {
    error = "invalid --addr " + url;
    return nullptr;
  }
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(timeout);
  client->set_connection_timeout(us);
  client->set_read_timeout(us);
  client->set_write_timeout(us);
  if (!o.token_file.empty()) {
    std::ifstream in(o.token_file);
    if (!in) {
      error = "cannot read token file " + o.token_file;
      return nullptr;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    std::string why;
    const std::string token = api::parse_token(ss.str(), why);
    if (token.empty()) {
      error = "token file " + o.token_file + " " + why;
      return nullptr;
    }
    client->set_bearer_token_auth(token);
  }
  if (is_https(url)) {
    if (!o.ca_file.empty()) {
      if (!std::ifstream(o.ca_file)) {
        error = "cannot read CA file " + o.ca_file;
        return nullptr;
      }
      client->set_ca_cert_path(o.ca_file);
    }
    client->enable_server_certificate_verification(!o.insecure);
  }
  return client;
}

std::string api_error(const httplib::Result& res, const std::string& url, const std::string& path) {
  if (!res) {
    std::string msg = "cannot reach the agent at " + url + ": " + httplib::to_string(res.error());
    switch (res.error()) {
      case httplib::Error::SSLServerVerification:
        msg += " (pass the CA that signed the agent's certificate with --ca FILE)";
        break;
      case httplib::Error::SSLConnection:
        msg += " (is the agent serving plain http? then use an http:// address)";
        break;
      case httplib::Error::Read:
        if (!is_https(url)) msg += " (if the agent serves TLS, use an https:// address)";
        break;
      default:
        break;
    }
    return msg;
  }
  auto body = nlohmann::json::parse(res->body, nullptr, false);
  std::string why = body.is_object() && body.contains("error") && body["error"].is_string()
                        ? body["error"].get<std::string>()
                        : res->body.substr(0, 200);
  std::string msg = url + path + ": HTTP " + std::to_string(res->status) + ": " + why;
  if (res->status == 401) msg += " (pass the agent's token with --token-file FILE)";
  return msg;
}

}  // namespace vigil::agent
