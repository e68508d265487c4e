#include "checkers/tcp.hpp"

#include "checkers/net.hpp"
#include "checkers/spec_reader.hpp"

namespace vigil::checkers {

namespace {

class TcpChecker final : public Checker {
 public:
  TcpChecker(const CheckSpec& spec, TcpConfig cfg)
      : Checker(spec.type, spec.name), cfg_(std::move(cfg)) {
    net::split_host_port(cfg_.address, host_, port_);
  }

  // Checker
  Probe run(const CheckContext&, Deadline deadline) override {
    TimePoint t0 = Clock::now();
    std::string err;
    net::Fd fd = net::tcp_connect(host_, port_, deadline, err);
    Duration took = Clock::now() - t0;
    if (!fd) return Probe::fail(Severity::critical, err);
    std::string detail = "connected to " + cfg_.address + " in " + format_duration(took);
    if (cfg_.warn_latency > Duration::zero() && took > cfg_.warn_latency)
      return Probe::fail(Severity::warning,
                         "connect " + cfg_.address + " took " + format_duration(took) +
                             " (warn_latency " + format_duration(cfg_.warn_latency) + ")",
                         detail);
    return Probe::ok(detail);
  }

 private:
  TcpConfig cfg_;
  std::string host_, port_;
};

}  // namespace

MakeResult make_tcp_checker(const CheckSpec& spec, CheckerContext&) {
  SpecReader r(spec);
  TcpConfig cfg;
  cfg.address = r.str("address");
  cfg.warn_latency = r.duration("warn_latency", {});
  std::string host, port;
  if (!net::split_host_port(cfg.address, host, port))
    r.error("address", "required, as \"host:port\"");
  if (auto e = r.finish(); !e.empty()) return MakeResult::fail(e);
  return MakeResult::ok(std::make_unique<TcpChecker>(spec, std::move(cfg)));
}

}  // namespace vigil::checkers
