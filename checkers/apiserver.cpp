#include "checkers/apiserver.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "checkers/http_client.hpp"
#include "checkers/spec_reader.hpp"

namespace vigil::checkers {

namespace {

using nlohmann::json;

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  while (!s.empty() && (s.front() == ' ' || s.front() == '\n')) s.erase(0, 1);
  return s;
}

// Names of the "[-]name failed: reason" lines of a verbose /readyz or /livez answer.
std::string failed_checks(const std::string& body) {
  std::istringstream in(body);
  std::string line, out;
  while (std::getline(in, line)) {
    if (line.rfind("[-]", 0) != 0) continue;
    std::string name = line.substr(
        3, line.find(' ') == std::string::npos ? std::string::npos : line.find(' ') - 3);
    out += (out.empty() ? "" : ", ") + name;
  }
  return out;
}

class ApiserverChecker final : public Checker {
 public:
  ApiserverChecker(const CheckSpec& spec, ApiserverConfig cfg)
      : Checker(spec.type, spec.name), cfg_(std::move(cfg)) {}

  // Checker
  Probe run(const CheckContext&, Deadline deadline) override {
    std::string token;
    if (!cfg_.token_file.empty()) {
      std::ifstream f(cfg_.token_file);
      if (!f)
        return Probe::fail(Severity::critical,
                           "read service-account token " + cfg_.token_file + ": cannot open");
      std::stringstream ss;
      ss << f.rdbuf();
      token = trim(ss.str());
    }
    std::vector<std::pair<std::string, std::string>> paths;
    if (!cfg_.direct_url.empty()) paths.emplace_back("direct", cfg_.direct_url);
    if (!cfg_.dns_url.empty()) paths.emplace_back("dns", cfg_.dns_url);
    std::string errors, details;
    for (std::size_t i = 0; i < paths.size(); ++i) {
      Deadline d = deadline.capped(deadline.remaining() / static_cast<long>(paths.size() - i));
      std::string err, detail;
      check_path(paths[i].first, paths[i].second, token, d, err, detail);
      if (!err.empty()) errors += (errors.empty() ? "" : "; ") + err;
      details += (details.empty() ? "" : "; ") + detail;
    }
    if (!errors.empty()) return Probe::fail(Severity::critical, errors, details);
    return Probe::ok(details);
  }

 private:
  void check_path(const std::string& label, const std::string& base, const std::string& token,
                  Deadline deadline, std::string& err, std::string& detail) {
    http::Request req;
    std::string b = base;
    while (!b.empty() && b.back() == '/') b.pop_back();
    req.url = b + cfg_.path;
    req.tls = cfg_.tls;
    if (!token.empty()) req.headers.emplace_back("Authorization", "Bearer " + token);
    auto res = http::fetch(req, deadline);
    std::string what = http::describe(req);
    if (!res.ok) {
      err = what + ": " + res.error;
      detail = label + ": unreachable";
      return;
    }
    const auto& rsp = res.response;
    if (rsp.status == 200) {
      detail = label + ": ready in " + format_duration(rsp.total_time);
      return;
    }
    detail = label + ": " + std::to_string(rsp.status);
    if (rsp.status == 401 || rsp.status == 403) {
      // A metav1.Status object: {"kind":"Status","message":"Unauthorized","code":401,...}
      json st = json::parse(rsp.body, nullptr, false);
      std::string msg = st.is_object() ? st.value("message", std::string()) : std::string();
      err = what + ": " + std::to_string(rsp.status) + " " +
            (msg.empty() ? http::snippet(rsp.body) : msg) +
            (rsp.status == 401 ? " (check the token in " + cfg_.token_file + ")"
                               : " (the service account lacks RBAC access to " + cfg_.path + ")");
      return;
    }
    std::string failed = failed_checks(rsp.body);
    err = what + ": " + std::to_string(rsp.status) + " " +
          (failed.empty() ? http::snippet(rsp.body) : "failed checks: " + failed);
  }

  ApiserverConfig cfg_;
};

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

}  // namespace

MakeResult make_apiserver_checker(const CheckSpec& spec, CheckerContext& ctx) {
  SpecReader r(spec);
  ApiserverConfig cfg;
  std::string host = env("KUBERNETES_SERVICE_HOST"), port = env("KUBERNETES_SERVICE_PORT");
  std::string direct_default =
      host.empty() || port.empty() ? "" : "https://" + net::join_host_port(host, port);
  cfg.direct_url = r.str("direct_url", direct_default);
  cfg.dns_url = r.str("dns_url", cfg.dns_url);
  cfg.path = r.str("path", cfg.path);
  cfg.token_file = r.str("token_file", ctx.host_root + cfg.token_file);
  cfg.tls = read_tls_options(r, ctx.host_root + kServiceAccountCa);
  for (const auto* u : {&cfg.direct_url, &cfg.dns_url}) {
    http::Url parsed;
    if (!u->empty() && !http::parse_url(*u, parsed))
      r.error(u == &cfg.direct_url ? "direct_url" : "dns_url", "must be an http(s) URL");
  }
  if (cfg.direct_url.empty() && cfg.dns_url.empty())
    r.error("direct_url", "no path to check (direct_url and dns_url are both empty)");
  if (cfg.path.empty() || cfg.path[0] != '/') r.error("path", "must start with /");
  if (auto e = r.finish(); !e.empty()) return MakeResult::fail(e);
  return MakeResult::ok(std::make_unique<ApiserverChecker>(spec, std::move(cfg)));
}

}  // namespace vigil::checkers
