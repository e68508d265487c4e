#include "agent/checkers_extension.hpp"

#include <atomic>
#include <set>

#include "agent/status_extension.hpp"
#include "api/metrics_text.hpp"
#include "checkers/asio_executor.hpp"
#include "checkers/default_set.hpp"
#include "checkers/registry.hpp"
#include "checkers/run_once.hpp"
#include "checkers/scheduler.hpp"
#include "gossip/udp/node.hpp"

namespace vigil::agent {
namespace {

// The IP part of "ip:port" / "[v6]:port": ping targets the node, not its gossip port.
std::string host_of(const std::string& addr) {
  if (!addr.empty() && addr.front() == '[') {
    auto end = addr.find(']');
    return end == std::string::npos ? addr : addr.substr(1, end - 1);
  }
  auto colon = addr.rfind(':');
  return colon == std::string::npos ? addr : addr.substr(0, colon);
}

class CheckersExtension final : public AgentExtension {
 public:
  CheckersExtension(const AgentConfig& cfg, StatusExtension& status, Logger& log)
      : self_(cfg.name), status_(status), log_(log) {
    checkers::CheckerRegistry registry;
    checkers::register_builtin_checkers(registry);
    if (!cfg.checkers_json.empty()) {
      auto parsed = checkers::parse_check_specs(cfg.checkers_json);
      if (!parsed.error.empty()) throw ConfigError("checkers: " + parsed.error);
      specs_ = std::move(parsed.specs);
    } else {
      auto defaults = checkers::default_checkers({});
      for (const auto& reason : defaults.reasons)
        log_.info("default checker", {{"decision", reason}});
      specs_ = std::move(defaults.specs);
    }
    checkers::CheckerContext cctx;
    cctx.node_name = cfg.name;
    cctx.log = [this](checkers::LogLevel level, std::string_view component, std::string_view msg) {
      const LogLevel l = level == checkers::LogLevel::error  ? LogLevel::error
                         : level == checkers::LogLevel::warn ? LogLevel::warn
                         : level == checkers::LogLevel::info ? LogLevel::info
                                                             : LogLevel::debug;
      log_.log(l, msg, {{"component", std::string(component)}});
    };
    for (const auto& spec : specs_) {
      auto made = registry.make(spec, cctx);
      if (!made.checker) throw ConfigError("checker " + spec.name + ": " + made.error);
      made_.push_back(std::move(made.checker));
    }
  }

  // AgentExtension
  void start(AgentContext& ctx) override {
    ctx_ = &ctx;
    std::set<std::string> names{"store"};  // the status layer's own probe
    for (const auto& s : specs_) names.insert(s.name);
    status_.health().set_local_checkers(std::move(names));
    executor_ = std::make_unique<checkers::AsioExecutor>(ctx.io, 2);
    scheduler_ = std::make_unique<checkers::Scheduler>(
        *executor_, time_, [this] { return context(); },
        [this](const checkers::ProbeUpdate& u) {
          durations_[u.probe.checker] = u.raw.duration;
          if (u.changed) {
            log_.info(u.probe.failed() ? "probe failed" : "probe running",
                      {{"checker", u.probe.checker}, {"error", u.probe.error}});
          }
          status_.health().on_probe_update(u);
          ctx_->publish();
        });
    for (std::size_t i = 0; i < made_.size(); ++i) scheduler_->add(std::move(made_[i]), specs_[i]);
    made_.clear();
    scheduler_->start();
    log_.info("checkers started", {{"count", std::to_string(specs_.size())}});
  }

  void write_metrics(api::MetricsText& out) override {
    out.family("vigil_probe_duration_seconds", "gauge",
               "Wall time of the last run of each local checker.");
    for (const auto& [name, d] : durations_)
      out.sample("vigil_probe_duration_seconds", {{"checker", name}},
                 std::chrono::duration<double>(d).count());
  }

  void stop() override {
    stop_->store(true);
    if (scheduler_) scheduler_->stop();
  }

 private:
  // Loop thread, right before each run: the live peers (for ping) and the gossip clock.
  checkers::CheckContext context() {
    checkers::CheckContext c;
    c.node_name = self_;
    auto peers = std::make_shared<std::vector<checkers::PeerInfo>>();
    for (const auto& m : ctx_->node.membership().members()) {
      if (m.name == self_) continue;
      if (m.state != gossip::MemberState::alive && m.state != gossip::MemberState::suspect)
        continue;
      peers->push_back(
          {m.name, host_of(m.addr), std::string(gossip::tag_value(m.tags, "zone")), m.tags});
    }
    c.peers = std::move(peers);
    c.peer_clock = status_.health().peer_clock();
    c.stop = stop_;
    return c;
  }

  std::string self_;
  StatusExtension& status_;
  Logger& log_;
  std::vector<checkers::CheckSpec> specs_;
  std::vector<std::unique_ptr<checkers::Checker>> made_;
  checkers::SteadyTimeSource time_;
  AgentContext* ctx_ = nullptr;
  std::unique_ptr<checkers::AsioExecutor> executor_;
  std::unique_ptr<checkers::Scheduler> scheduler_;
  std::shared_ptr<std::atomic<bool>> stop_ = std::make_shared<std::atomic<bool>>(false);
  std::map<std::string, checkers::Duration> durations_;
};

}  // namespace

std::unique_ptr<AgentExtension> make_checkers_extension(const AgentConfig& config,
                                                        StatusExtension& status, Logger& log) {
  return std::make_unique<CheckersExtension>(config, status, log);
}

}  // namespace vigil::agent
