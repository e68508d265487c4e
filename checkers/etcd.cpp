#include "checkers/etcd.hpp"

#include <nlohmann/json.hpp>

#include "checkers/http_client.hpp"
#include "checkers/spec_reader.hpp"

namespace vigil::checkers {

namespace {

using nlohmann::json;

std::string trim_slash(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

class EtcdChecker final : public Checker {
 public:
  EtcdChecker(const CheckSpec& spec, EtcdConfig cfg)
      : Checker(spec.type, spec.name), cfg_(std::move(cfg)) {}

  // Checker
  Probe run(const CheckContext& ctx, Deadline deadline) override {
    std::vector<std::string> errors, details;
    std::size_t n = cfg_.endpoints.size();
    for (std::size_t i = 0; i < n && !ctx.stopping(); ++i) {
      // Share the remaining time fairly so one dead endpoint cannot starve the others.
      Deadline d = deadline.capped(deadline.remaining() / static_cast<long>(n - i));
      std::string err, detail;
      check_endpoint(trim_slash(cfg_.endpoints[i]), d, err, detail);
      if (!err.empty()) errors.push_back(err);
      if (!detail.empty()) details.push_back(detail);
    }
    std::string detail = join(details);
    if (!errors.empty()) return Probe::fail(Severity::critical, join(errors), detail);
    return Probe::ok(detail);
  }

 private:
  static std::string join(const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v) out += (out.empty() ? "" : "; ") + s;
    return out;
  }

  void check_endpoint(const std::string& ep, Deadline deadline, std::string& err,
                      std::string& detail) {
    http::Request req;
    req.url = ep + "/health";
    req.tls = cfg_.tls;
    auto res = http::fetch(req, deadline);
    if (!res.ok) {
      err = http::describe(req) + ": " + res.error;
      return;
    }
    const auto& rsp = res.response;
    json body = json::parse(rsp.body, nullptr, false);
    bool healthy = rsp.status == 200 && body.is_object() && body.contains("health") &&
                   body["health"].is_string() && body["health"].get<std::string>() == "true";
    if (!healthy) {
      err = http::describe(req) + ": " + std::to_string(rsp.status) + " " + http::snippet(rsp.body);
      return;
    }
    detail = ep + " healthy";
    if (!cfg_.check_leader) return;

    http::Request st;
    st.method = "POST";
    st.url = ep + "/v3/maintenance/status";
    st.body = "{}";
    st.headers = {{"Content-Type", "application/json"}};
    st.tls = cfg_.tls;
    auto sres = http::fetch(st, deadline);
    if (!sres.ok) {
      err = http::describe(st) + ": " + sres.error;
      return;
    }
    if (sres.response.status == 404) return;  // no v3 gateway: /health is all we have
    json s = json::parse(sres.response.body, nullptr, false);
    if (sres.response.status != 200 || !s.is_object()) {
      err = http::describe(st) + ": " + std::to_string(sres.response.status) + " " +
            http::snippet(sres.response.body);
      return;
    }
    // Uint64 ids are JSON strings in the gateway's encoding; a missing or "0" leader: none.
    std::string leader = s.value("leader", std::string("0"));
    std::string member = s.contains("header") && s["header"].is_object()
                             ? s["header"].value("member_id", std::string("?"))
                             : std::string("?");
    std::string version = s.value("version", std::string("?"));
    if (leader.empty() || leader == "0") {
      err = ep + ": member " + member + " has no leader";
      return;
    }
    detail = ep + " healthy (version " + version + ", member " + member + ", leader " + leader +
             (leader == member ? ", is leader)" : ")");
  }

  EtcdConfig cfg_;
};

}  // namespace

MakeResult make_etcd_checker(const CheckSpec& spec, CheckerContext&) {
  SpecReader r(spec);
  EtcdConfig cfg;
  cfg.endpoints = r.strings("endpoints", cfg.endpoints);
  cfg.check_leader = r.boolean("check_leader", true);
  cfg.tls = read_tls_options(r);
  if (cfg.endpoints.empty()) r.error("endpoints", "must not be empty");
  for (const auto& ep : cfg.endpoints) {
    http::Url u;
    if (!http::parse_url(ep, u)) r.error("endpoints", "\"" + ep + "\" is not an http(s) URL");
  }
  if (auto e = r.finish(); !e.empty()) return MakeResult::fail(e);
  return MakeResult::ok(std::make_unique<EtcdChecker>(spec, std::move(cfg)));
}

}  // namespace vigil::checkers
