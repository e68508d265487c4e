#include "gossip/config.hpp"

#include <algorithm>
#include <cmath>

namespace vigil::gossip {

GossipConfig GossipConfig::lan() {
  return GossipConfig{};
}

GossipConfig GossipConfig::wan() {
  GossipConfig c;
  c.probe_timeout = seconds(3);
  c.probe_interval = seconds(5);
  c.suspicion_mult = 6;
  c.push_pull_interval = seconds(60);
  c.gossip_nodes = 4;
  c.gossip_interval = milliseconds(500);
  c.gossip_to_the_dead_time = seconds(60);
  c.stream_timeout = seconds(30);
  return c;
}

GossipConfig GossipConfig::local() {
  GossipConfig c;
  c.probe_timeout = milliseconds(200);
  c.probe_interval = seconds(1);
  c.indirect_checks = 1;
  c.retransmit_mult = 2;
  c.suspicion_mult = 3;
  c.push_pull_interval = seconds(15);
  c.stream_timeout = seconds(1);
  c.gossip_interval = milliseconds(100);
  c.gossip_to_the_dead_time = seconds(15);
  return c;
}

std::vector<std::string> GossipConfig::validate() const {
  std::vector<std::string> e;
  auto ms = [](Duration d) { return std::chrono::duration_cast<milliseconds>(d).count(); };
  if (ms(probe_interval) < 10) e.push_back("probe_interval must be at least 10ms");
  if (ms(probe_timeout) < 1) e.push_back("probe_timeout must be at least 1ms");
  if (probe_timeout >= probe_interval)
    e.push_back("probe_timeout must be shorter than probe_interval");
  if (indirect_checks < 0 || indirect_checks > 16)
    e.push_back("indirect_checks must be between 0 and 16");
  if (suspicion_mult < 1) e.push_back("suspicion_mult must be at least 1");
  if (suspicion_max_timeout_mult < 1) e.push_back("suspicion_max_timeout_mult must be at least 1");
  if (awareness_max_multiplier < 1) e.push_back("awareness_max_multiplier must be at least 1");
  if (retransmit_mult < 1) e.push_back("retransmit_mult must be at least 1");
  if (user_retransmit_mult < 0) e.push_back("user_retransmit_mult must not be negative");
  if (background_retransmit_mult < 1) e.push_back("background_retransmit_mult must be at least 1");
  if (ms(gossip_interval) < 1) e.push_back("gossip_interval must be at least 1ms");
  if (gossip_nodes < 1) e.push_back("gossip_nodes must be at least 1");
  if (gossip_to_the_dead_time < Duration::zero())
    e.push_back("gossip_to_the_dead_time must not be negative");
  if (push_pull_interval < Duration::zero())
    e.push_back("push_pull_interval must not be negative (0 disables it)");
  if (reconnect_interval < Duration::zero())
    e.push_back("reconnect_interval must not be negative (0 disables it)");
  if (ms(stream_timeout) < 1) e.push_back("stream_timeout must be at least 1ms");
  if (udp_buffer_size < 512 || udp_buffer_size > 65000)
    e.push_back("udp_buffer_size must be between 512 and 65000 bytes");
  if (max_user_bytes_per_packet == 0) e.push_back("max_user_bytes_per_packet must be positive");
  if (max_tags_bytes > udp_buffer_size / 2)
    e.push_back("max_tags_bytes must be at most half of udp_buffer_size");
  if (dead_reap_timeout < Duration::zero() || left_reap_timeout < Duration::zero())
    e.push_back("reap timeouts must not be negative");
  return e;
}

Duration suspicion_min_timeout(const GossipConfig& c, std::size_t n) {
  const double scale = std::max(1.0, std::log10(std::max(1.0, static_cast<double>(n))));
  // As memberlist: the scale is truncated to thousandths, then applied to the interval.
  const auto milli_scale = static_cast<long long>(scale * 1000.0);
  return c.probe_interval * c.suspicion_mult * milli_scale / 1000;
}

int retransmit_limit(int retransmit_mult, std::size_t n) {
  const double scale = std::ceil(std::log10(static_cast<double>(n) + 1.0));
  return retransmit_mult * static_cast<int>(scale);
}

int user_retransmit_limit(const GossipConfig& c, std::size_t n) {
  if (c.user_retransmit_mult > 0) return retransmit_limit(c.user_retransmit_mult, n);
  const int floor = static_cast<int>(std::ceil(std::log(static_cast<double>(n) + 1))) + 7;
  return std::max(retransmit_limit(c.retransmit_mult, n), floor);
}

Duration push_pull_scaled(Duration interval, std::size_t n) {
  constexpr double kThreshold = 32;
  if (static_cast<double>(n) <= kThreshold) return interval;
  const double mult = std::ceil(std::log2(static_cast<double>(n)) - std::log2(kThreshold)) + 1.0;
  return interval * static_cast<long long>(mult);
}

}  // namespace vigil::gossip
