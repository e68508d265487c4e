#include "checkers/http.hpp"

#include "checkers/http_client.hpp"
#include "checkers/spec_reader.hpp"

namespace vigil::checkers {

namespace {

class HttpChecker final : public Checker {
 public:
  HttpChecker(const CheckSpec& spec, HttpConfig cfg)
      : Checker(spec.type, spec.name), cfg_(std::move(cfg)) {}

  // Checker
  Probe run(const CheckContext&, Deadline deadline) override {
    http::Request req;
    req.method = cfg_.method;
    req.url = cfg_.url;
    req.headers = cfg_.headers;
    req.tls = cfg_.tls;
    auto res = http::fetch(req, deadline);
    std::string what = http::describe(req);
    if (!res.ok) return Probe::fail(Severity::critical, what + ": " + res.error);
    const auto& rsp = res.response;
    std::string detail = std::to_string(rsp.status) + " in " + format_duration(rsp.total_time);
    bool status_ok = cfg_.expected_status ? rsp.status == cfg_.expected_status
                                          : rsp.status >= 200 && rsp.status < 400;
    if (!status_ok) {
      std::string want = cfg_.expected_status ? std::to_string(cfg_.expected_status) : "2xx/3xx";
      return Probe::fail(Severity::critical,
                         what + ": " + std::to_string(rsp.status) + " " + http::snippet(rsp.body),
                         "expected status " + want);
    }
    if (!cfg_.body_contains.empty() && rsp.body.find(cfg_.body_contains) == std::string::npos)
      return Probe::fail(Severity::critical,
                         what + ": body does not contain \"" + cfg_.body_contains +
                             "\": " + http::snippet(rsp.body),
                         detail);
    if (cfg_.warn_latency > Duration::zero() && rsp.total_time > cfg_.warn_latency)
      return Probe::fail(Severity::warning,
                         what + ": took " + format_duration(rsp.total_time) + " (warn_latency " +
                             format_duration(cfg_.warn_latency) + ")",
                         detail);
    return Probe::ok(detail);
  }

 private:
  HttpConfig cfg_;
};

}  // namespace

MakeResult make_http_checker(const CheckSpec& spec, CheckerContext&) {
  SpecReader r(spec);
  HttpConfig cfg;
  cfg.url = r.str("url");
  cfg.method = r.str("method", "GET");
  cfg.headers = r.string_map("headers");
  cfg.expected_status = static_cast<int>(r.integer("expected_status", 0, 0, 599));
  cfg.body_contains = r.str("body_contains");
  cfg.warn_latency = r.duration("warn_latency", {});
  cfg.tls = read_tls_options(r);
  http::Url url;
  if (!http::parse_url(cfg.url, url)) r.error("url", "required, an http:// or https:// URL");
  if (auto e = r.finish(); !e.empty()) return MakeResult::fail(e);
  return MakeResult::ok(std::make_unique<HttpChecker>(spec, std::move(cfg)));
}

}  // namespace vigil::checkers
