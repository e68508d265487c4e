#include "checkers/kubelet.hpp"

#include "checkers/http_client.hpp"
#include "checkers/spec_reader.hpp"

namespace vigil::checkers {

namespace {

class KubeletChecker final : public Checker {
 public:
  KubeletChecker(const CheckSpec& spec, KubeletConfig cfg)
      : Checker(spec.type, spec.name), cfg_(std::move(cfg)) {}

  // Checker
  Probe run(const CheckContext&, Deadline deadline) override {
    http::Request req;
    req.url = cfg_.url;
    auto res = http::fetch(req, deadline);
    if (!res.ok) return Probe::fail(Severity::critical, http::describe(req) + ": " + res.error);
    const auto& rsp = res.response;
    if (rsp.status != 200)
      return Probe::fail(
          Severity::critical,
          http::describe(req) + ": " + std::to_string(rsp.status) + " " + http::snippet(rsp.body));
    return Probe::ok("kubelet healthz " + http::snippet(rsp.body, 40) + " in " +
                     format_duration(rsp.total_time));
  }

 private:
  KubeletConfig cfg_;
};

}  // namespace

MakeResult make_kubelet_checker(const CheckSpec& spec, CheckerContext&) {
  SpecReader r(spec);
  KubeletConfig cfg;
  cfg.url = r.str("url", cfg.url);
  http::Url u;
  if (!http::parse_url(cfg.url, u)) r.error("url", "must be an http(s) URL");
  if (auto e = r.finish(); !e.empty()) return MakeResult::fail(e);
  return MakeResult::ok(std::make_unique<KubeletChecker>(spec, std::move(cfg)));
}

}  // namespace vigil::checkers
