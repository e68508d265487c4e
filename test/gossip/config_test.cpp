// GossipConfig: profiles equal memberlist's DefaultLANConfig/DefaultWANConfig/DefaultLocalConfig,
// validate() messages, and the scaling formulas as tables (memberlist util_test.go).
#include <doctest/doctest.h>

#include <algorithm>
#include <functional>
#include <string>

#include "gossip/config.hpp"

using namespace vigil::gossip;
using std::chrono::milliseconds;
using std::chrono::seconds;

TEST_CASE("lan() equals memberlist DefaultLANConfig") {
  const GossipConfig c = GossipConfig::lan();
  CHECK(c.probe_interval == seconds(1));
  CHECK(c.probe_timeout == milliseconds(500));
  CHECK(c.indirect_checks == 3);
  CHECK(c.tcp_fallback_probe);  // DisableTcpPings: false
  CHECK(c.suspicion_mult == 4);
  CHECK(c.suspicion_max_timeout_mult == 6);
  CHECK(c.awareness_max_multiplier == 8);
  CHECK(c.retransmit_mult == 4);
  CHECK(c.gossip_interval == milliseconds(200));
  CHECK(c.gossip_nodes == 3);
  CHECK(c.gossip_to_the_dead_time == seconds(30));
  CHECK(c.push_pull_interval == seconds(30));
  CHECK(c.stream_timeout == seconds(10));  // TCPTimeout
  CHECK(c.udp_buffer_size == 1400);
  CHECK(c.validate().empty());
  // The default-constructed config is the LAN profile.
  const GossipConfig d;
  CHECK(d.probe_interval == c.probe_interval);
  CHECK(d.suspicion_mult == c.suspicion_mult);
}

TEST_CASE("wan() equals memberlist DefaultWANConfig") {
  const GossipConfig c = GossipConfig::wan();
  CHECK(c.stream_timeout == seconds(30));
  CHECK(c.suspicion_mult == 6);
  CHECK(c.push_pull_interval == seconds(60));
  CHECK(c.probe_timeout == seconds(3));
  CHECK(c.probe_interval == seconds(5));
  CHECK(c.gossip_nodes == 4);
  CHECK(c.gossip_interval == milliseconds(500));
  CHECK(c.gossip_to_the_dead_time == seconds(60));
  // Unchanged from LAN.
  CHECK(c.indirect_checks == 3);
  CHECK(c.retransmit_mult == 4);
  CHECK(c.suspicion_max_timeout_mult == 6);
  CHECK(c.awareness_max_multiplier == 8);
  CHECK(c.udp_buffer_size == 1400);
  CHECK(c.validate().empty());
}

TEST_CASE("local() equals memberlist DefaultLocalConfig") {
  const GossipConfig c = GossipConfig::local();
  CHECK(c.stream_timeout == seconds(1));
  CHECK(c.indirect_checks == 1);
  CHECK(c.retransmit_mult == 2);
  CHECK(c.suspicion_mult == 3);
  CHECK(c.push_pull_interval == seconds(15));
  CHECK(c.probe_timeout == milliseconds(200));
  CHECK(c.probe_interval == seconds(1));
  CHECK(c.gossip_interval == milliseconds(100));
  CHECK(c.gossip_to_the_dead_time == seconds(15));
  // Unchanged from LAN.
  CHECK(c.gossip_nodes == 3);
  CHECK(c.suspicion_max_timeout_mult == 6);
  CHECK(c.validate().empty());
}

TEST_CASE("validate() names each bad field in one sentence") {
  struct Case {
    const char* expect;  // a substring of the single expected message
    std::function<void(GossipConfig&)> mutate;
  };
  const Case cases[] = {
      {"probe_interval must be at least 10ms",
       [](auto& c) { c.probe_interval = milliseconds(5), c.probe_timeout = milliseconds(1); }},
      {"probe_timeout must be at least 1ms",
       [](auto& c) { c.probe_timeout = std::chrono::microseconds(10); }},
      {"probe_timeout must be shorter than probe_interval",
       [](auto& c) { c.probe_timeout = c.probe_interval; }},
      {"indirect_checks must be between 0 and 16", [](auto& c) { c.indirect_checks = -1; }},
      {"indirect_checks must be between 0 and 16", [](auto& c) { c.indirect_checks = 17; }},
      {"suspicion_mult must be at least 1", [](auto& c) { c.suspicion_mult = 0; }},
      {"suspicion_max_timeout_mult must be at least 1",
       [](auto& c) { c.suspicion_max_timeout_mult = 0; }},
      {"awareness_max_multiplier must be at least 1",
       [](auto& c) { c.awareness_max_multiplier = 0; }},
      {"retransmit_mult must be at least 1", [](auto& c) { c.retransmit_mult = 0; }},
      {"gossip_interval must be at least 1ms", [](auto& c) { c.gossip_interval = Duration{}; }},
      {"gossip_nodes must be at least 1", [](auto& c) { c.gossip_nodes = 0; }},
      {"gossip_to_the_dead_time must not be negative",
       [](auto& c) { c.gossip_to_the_dead_time = seconds(-1); }},
      {"push_pull_interval must not be negative",
       [](auto& c) { c.push_pull_interval = seconds(-1); }},
      {"reconnect_interval must not be negative",
       [](auto& c) { c.reconnect_interval = seconds(-1); }},
      {"stream_timeout must be at least 1ms", [](auto& c) { c.stream_timeout = Duration{}; }},
      {"udp_buffer_size must be between 512 and 65000 bytes",
       [](auto& c) { c.udp_buffer_size = 511, c.max_tags_bytes = 100; }},
      {"udp_buffer_size must be between 512 and 65000 bytes",
       [](auto& c) { c.udp_buffer_size = 65001; }},
      {"max_tags_bytes must be at most half of udp_buffer_size",
       [](auto& c) { c.max_tags_bytes = 701; }},
      {"reap timeouts must not be negative", [](auto& c) { c.dead_reap_timeout = seconds(-1); }},
      {"reap timeouts must not be negative", [](auto& c) { c.left_reap_timeout = seconds(-1); }},
  };
  for (const auto& c : cases) {
    const std::string expect = c.expect;
    CAPTURE(expect);
    GossipConfig cfg;
    c.mutate(cfg);
    const auto errors = cfg.validate();
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].find(c.expect) != std::string::npos);
  }
  // 0 disables push-pull and reconnect: valid.
  GossipConfig off;
  off.push_pull_interval = Duration{};
  off.reconnect_interval = Duration{};
  CHECK(off.validate().empty());
  // Several problems: several messages.
  GossipConfig bad;
  bad.gossip_nodes = 0;
  bad.retransmit_mult = 0;
  bad.udp_buffer_size = 100;
  CHECK(bad.validate().size() == 4);  // udp_buffer_size also makes max_tags_bytes too big
}

TEST_CASE("suspicion_min_timeout matches memberlist suspicionTimeout") {
  // memberlist TestSuspicionTimeout: suspicionTimeout(3, n, 1s) / 3.
  struct Case {
    std::size_t n;
    Duration expected;
  };
  const Case cases[] = {
      {5, milliseconds(1000)},   {10, milliseconds(1000)},  {50, milliseconds(1698)},
      {100, milliseconds(2000)}, {500, milliseconds(2698)}, {1000, milliseconds(3000)},
  };
  GossipConfig c;
  c.suspicion_mult = 3;
  c.probe_interval = seconds(1);
  for (const auto& k : cases) {
    CAPTURE(k.n);
    CHECK(suspicion_min_timeout(c, k.n) / 3 == k.expected);
  }
  // n below 10 never shrinks the timeout below mult * interval.
  CHECK(suspicion_min_timeout(c, 0) == seconds(3));
  CHECK(suspicion_min_timeout(c, 1) == seconds(3));
  // LAN defaults, 3 nodes: 4 * 1 * 1s.
  CHECK(suspicion_min_timeout(GossipConfig::lan(), 3) == seconds(4));
}

TEST_CASE("retransmit_limit matches memberlist retransmitLimit") {
  CHECK(retransmit_limit(3, 0) == 0);
  CHECK(retransmit_limit(3, 1) == 3);
  CHECK(retransmit_limit(3, 9) == 3);
  CHECK(retransmit_limit(3, 10) == 6);
  CHECK(retransmit_limit(3, 99) == 6);
  CHECK(retransmit_limit(3, 100) == 9);
  CHECK(retransmit_limit(4, 1000) == 16);
}

TEST_CASE("push_pull_scaled matches memberlist pushPullScale") {
  const Duration sec = seconds(1);
  for (std::size_t i = 0; i <= 32; ++i) CHECK(push_pull_scaled(sec, i) == sec);
  for (std::size_t i = 33; i <= 64; ++i) CHECK(push_pull_scaled(sec, i) == 2 * sec);
  for (std::size_t i = 65; i <= 128; ++i) CHECK(push_pull_scaled(sec, i) == 3 * sec);
  CHECK(push_pull_scaled(sec, 129) == 4 * sec);
  CHECK(push_pull_scaled(seconds(30), 1000) == seconds(30) * 6);
}
