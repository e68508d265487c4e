#include "agent/kube_node_zone.hpp"

#include <asio.hpp>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "gossip/membership.hpp"
#include "gossip/udp/node.hpp"

namespace vigil::agent {
namespace {

class KubeNodeZone final : public AgentExtension {
 public:
  KubeNodeZone(std::string node, KubeNodeZoneOptions o, Logger& log)
      : node_(std::move(node)), opt_(std::move(o)), log_(log) {}
  ~KubeNodeZone() override {
    halt();
    if (thread_.joinable()) thread_.join();  // at most one request timeout
  }

  // AgentExtension
  void start(AgentContext& ctx) override {
    ctx_ = &ctx;
    thread_ = std::thread([this] { run(); });
  }
  void stop() override { halt(); }  // does not wait: the loop must not block

 private:
  // Lookup thread.
  void run() {
    auto backoff = opt_.min_backoff;
    for (;;) {
      NodeZone r = fetch_node_zone(opt_.api, node_);
      if (r.error.empty()) {
        if (r.zone.empty()) {
          log_.warn("kubernetes node has no zone label: zone metrics say \"\"",
                    {{"node", node_}, {"label", "topology.kubernetes.io/zone"}});
        } else {
          asio::post(ctx_->io, [this, zone = std::move(r.zone)] { apply(zone); });
        }
        return;
      }
      log_.warn("zone lookup failed", {{"node", node_},
                                       {"error", r.error},
                                       {"retry", r.final ? "no" : "in " + seconds(backoff)}});
      if (r.final) return;
      std::unique_lock lock(mu_);
      if (cv_.wait_for(lock, backoff, [this] { return halted_; })) return;
      backoff = std::min(backoff * 2, opt_.max_backoff);
    }
  }

  // Loop thread.
  void apply(const std::string& zone) {
    {
      std::lock_guard lock(mu_);
      if (halted_) return;
    }
    gossip::Membership& m = ctx_->node.membership();
    gossip::Tags tags = m.self().tags;
    if (!gossip::tag_value(tags, "zone").empty()) return;  // set meanwhile: keep it
    gossip::set_tag(tags, "zone", zone);
    if (!m.set_tags(std::move(tags), std::chrono::steady_clock::now())) {
      log_.warn(
          "zone tag not set: the tags would not fit (gossip.max_tags_bytes, 256 bytes a value)",
          {{"zone", zone}});
      return;
    }
    log_.info("zone from the kubernetes node", {{"node", node_}, {"zone", zone}});
    ctx_->publish();
  }

  void halt() {
    {
      std::lock_guard lock(mu_);
      halted_ = true;
    }
    cv_.notify_all();
  }

  static std::string seconds(std::chrono::milliseconds d) {
    return std::to_string(d.count() / 1000) + "s";
  }

  std::string node_;
  KubeNodeZoneOptions opt_;
  Logger& log_;
  AgentContext* ctx_ = nullptr;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool halted_ = false;
};

}  // namespace

std::unique_ptr<AgentExtension> make_kube_node_zone(const AgentConfig& config, Logger& log,
                                                    std::optional<KubeNodeZoneOptions> options) {
  if (!gossip::tag_value(config.tags, "zone").empty() || !options) return nullptr;
  return std::make_unique<KubeNodeZone>(config.name, std::move(*options), log);
}

std::unique_ptr<AgentExtension> make_kube_node_zone(const AgentConfig& config, Logger& log) {
  auto api = KubeApiOptions::in_cluster();
  if (!api) return nullptr;
  KubeNodeZoneOptions o;
  o.api = std::move(*api);
  return make_kube_node_zone(config, log, std::move(o));
}

}  // namespace vigil::agent
