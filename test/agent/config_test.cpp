#include "agent/config.hpp"

#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "agent/status_extension.hpp"  // status_options: the agent's wiring

using namespace vigil::agent;
using namespace std::chrono_literals;

namespace {
struct TempFile {
  std::string path;
  explicit TempFile(const std::string& text) {
    char tmpl[] = "/tmp/vigil-config-test-XXXXXX";
    int fd = mkstemp(tmpl);
    REQUIRE(fd >= 0);
    close(fd);
    path = tmpl;
    std::ofstream(path) << text;
  }
  ~TempFile() { std::remove(path.c_str()); }
};
}  // namespace

TEST_CASE("config: defaults") {
  AgentFlags f;
  f.name = "n1";
  AgentConfig c = resolve_config(f);
  CHECK(c.name == "n1");
  CHECK(c.bind == "0.0.0.0:7946");
  CHECK(c.http == "0.0.0.0:7947");
  CHECK(c.profile == "lan");
  CHECK(c.gossip.probe_interval == 1s);
  CHECK_FALSE(c.keyring);
  CHECK(c.join.empty());
}

TEST_CASE("config: file, then flags override; gossip overrides on the profile") {
  TempFile file(R"({
    "name": "from-file", "bind": "127.0.0.1:8000", "join": ["a:1", "b"],
    "tags": {"zone": "eu-1a", "role": "worker"}, "profile": "local",
    "gossip": {"probe_interval": "300ms", "suspicion_mult": 5, "tcp_fallback_probe": false,
               "doubt_returnee_verdicts": false},
    "checkers": [{"type": "disk"}], "history": {"retention": "7d"}, "metrics": {}
  })");
  AgentFlags f;
  f.config = file.path;
  f.bind = "127.0.0.1:9000";
  f.join = std::vector<std::string>{"c:3,d:4"};
  f.tags = std::vector<std::string>{"zone=eu-1b", "rack=r7"};
  AgentConfig c = resolve_config(f);
  CHECK(c.name == "from-file");
  CHECK(c.bind == "127.0.0.1:9000");
  CHECK(c.join == std::vector<std::string>{"c:3", "d:4"});
  CHECK(c.tags == vigil::gossip::Tags{{"rack", "r7"}, {"role", "worker"}, {"zone", "eu-1b"}});
  CHECK(c.gossip.probe_interval == 300ms);
  CHECK(c.gossip.suspicion_mult == 5);
  CHECK_FALSE(c.gossip.tcp_fallback_probe);
  CHECK_FALSE(c.gossip.doubt_returnee_verdicts);
  CHECK(c.gossip.gossip_interval == vigil::gossip::GossipConfig::local().gossip_interval);
  CHECK(c.checkers_json == R"([{"type":"disk"}])");
  CHECK(c.history_json == R"({"retention":"7d"})");
  CHECK(c.history_retention == std::chrono::hours(24 * 7));
  CHECK(c.metrics_json == "{}");
}

TEST_CASE("config: errors are one-line ConfigErrors") {
  auto err = [](const AgentFlags& f) -> std::string {
    try {
      resolve_config(f);
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "";
  };
  AgentFlags f;
  f.name = "x";
  f.profile = "fast";
  CHECK(err(f).find("profile") != std::string::npos);
  f.profile.reset();
  f.bind = "localhost:1";
  CHECK(err(f).find("IP address") != std::string::npos);
  f.bind.reset();
  f.advertise = "node.example:7946";
  CHECK(err(f).find("advertise") != std::string::npos);
  f.advertise.reset();
  f.join = std::vector<std::string>{"host:notaport"};
  CHECK(err(f).find("join") != std::string::npos);
  f.join.reset();
  f.tags = std::vector<std::string>{std::string("big=") + std::string(600, 'x')};
  CHECK(err(f).find("max_tags_bytes") != std::string::npos);
  f.tags = std::vector<std::string>{std::string("big=") + std::string(300, 'x')};
  CHECK(err(f) == "tag \"big\" has a key or value over 256 bytes");
  f.tags.reset();
  f.log_format = "xml";
  CHECK(err(f).find("log format") != std::string::npos);
  f.log_format.reset();
  {
    TempFile file(R"({"gossip": {"probe_intervall": "1s"}})");
    f.config = file.path;
    CHECK(err(f) == "unknown key \"gossip.probe_intervall\"");
  }
  {
    TempFile file(R"({"gossip": {"indirect_checks": "3"}})");
    f.config = file.path;
    CHECK(err(f) == "gossip.indirect_checks must be an integer");
  }
  {
    TempFile file(R"({"join": 5})");
    f.config = file.path;
    CHECK(err(f).find("join must be an array") != std::string::npos);
  }
  {
    TempFile file(R"(["not", "an", "object"])");
    f.config = file.path;
    CHECK(err(f).find("must hold a JSON object") != std::string::npos);
  }
  for (const std::string& e : {err(f)}) CHECK(e.find('\n') == std::string::npos);
}

TEST_CASE("config: keyring is loaded and validated") {
  TempFile ring(R"(["qDr1HJbjN9q6a5sbV0dyZKf5lnnV6HoXF0BYm4B7Uos="])");
  AgentFlags f;
  f.name = "x";
  f.keyring = ring.path;
  AgentConfig c = resolve_config(f);
  REQUIRE(c.keyring);
  CHECK(c.keyring->keys().size() == 1);
  f.keyring = "/nonexistent/ring.json";
  CHECK_THROWS_AS(resolve_config(f), ConfigError);
}

TEST_CASE("config: name falls back to $NODE_NAME") {
  setenv("NODE_NAME", "k8s-node-7", 1);
  AgentFlags f;
  CHECK(resolve_config(f).name == "k8s-node-7");
  unsetenv("NODE_NAME");
  CHECK_FALSE(resolve_config(f).name.empty());  // hostname
}

TEST_CASE("config: metrics.max_peers from the file, --metrics-max-peers over it, bounds") {
  AgentFlags f;
  f.name = "n1";
  CHECK(resolve_config(f).metrics_max_peers == 64);
  TempFile file(R"({"metrics": {"max_peers": 8}})");
  f.config = file.path;
  CHECK(resolve_config(f).metrics_max_peers == 8);
  f.metrics_max_peers = 0;  // zone aggregates only
  CHECK(resolve_config(f).metrics_max_peers == 0);
  f.metrics_max_peers = 1000000;
  CHECK_THROWS_WITH_AS(resolve_config(f), "--metrics-max-peers must be from 0 to 100000",
                       ConfigError);
  f.metrics_max_peers.reset();
  for (const char* bad : {R"({"metrics": {"max_peers": -1}})", R"({"metrics": {"max_peers": "8"}})",
                          R"({"metrics": {"max_peers": 100001}})", R"({"metrics": {"peers": 8}})",
                          R"({"metrics": 8})"}) {
    TempFile b(bad);
    f.config = b.path;
    CAPTURE(bad);
    CHECK_THROWS_AS(resolve_config(f), ConfigError);
  }
}

TEST_CASE("config: metrics.max_nodes from the file, default and bounds") {
  AgentFlags f;
  f.name = "n";
  CHECK(resolve_config(f).metrics_max_nodes == 64);
  TempFile file(R"({"metrics": {"max_nodes": 3, "max_peers": 5}})");
  f.config = file.path;
  auto c = resolve_config(f);
  CHECK(c.metrics_max_nodes == 3);
  CHECK(c.metrics_max_peers == 5);
  TempFile bad(R"({"metrics": {"max_nodes": -2}})");
  f.config = bad.path;
  CHECK_THROWS_WITH_AS(resolve_config(f), doctest::Contains("metrics.max_nodes must be an integer"),
                       ConfigError);
}

TEST_CASE("config: keyring_poll_interval, HTTP token and TLS keys") {
  TempFile token("  s3cret-token\n");
  TempFile file(R"({"keyring_poll_interval": "2s", "http_token_file": ")" + token.path + R"("})");
  AgentFlags f;
  f.name = "x";
  CHECK(resolve_config(f).keyring_poll_interval == 5s);  // default
  CHECK(resolve_config(f).http_token.empty());
  f.config = file.path;
  AgentConfig c = resolve_config(f);
  CHECK(c.keyring_poll_interval == 2s);
  CHECK(c.http_token == "s3cret-token");
  for (const char* bad : {R"({"keyring_poll_interval": "10ms"})", R"({"keyring_poll_interval": 5})",
                          R"({"keyring_poll_interval": "-1s"})", R"({"http_tls_cert": 1})"}) {
    TempFile b(bad);
    f.config = b.path;
    CAPTURE(bad);
    CHECK_THROWS_AS(resolve_config(f), ConfigError);
  }
  TempFile zero(R"({"keyring_poll_interval": "0s"})");
  f.config = zero.path;
  CHECK(resolve_config(f).keyring_poll_interval == 0s);
  f.config.reset();
  f.http_tls_cert = "/nonexistent/cert.pem";
  CHECK_THROWS_WITH_AS(resolve_config(f), doctest::Contains("both"), ConfigError);
  f.http_tls_key = "/nonexistent/key.pem";
  CHECK_THROWS_WITH_AS(resolve_config(f), doctest::Contains("cannot read TLS certificate file"),
                       ConfigError);
}

TEST_CASE("config: history.retention is parsed, defaults to 7 days, and reaches the store") {
  AgentFlags f;
  f.name = "x";
  CHECK(resolve_config(f).history_retention == std::chrono::hours(24 * 7));  // design.md
  CHECK(status_options(resolve_config(f)).retention == std::chrono::hours(24 * 7));

  const std::pair<const char*, std::chrono::milliseconds> good[] = {
      {"168h", 168h}, {"72h", 72h},   {"90m", 90min},         {"1m", 1min},
      {"7d", 168h},   {"1d12h", 36h}, {"2d30m", 48h + 30min}, {"36500d", 36500 * 24h}};
  for (const auto& [text, want] : good) {
    CAPTURE(text);
    TempFile file(std::string(R"({"history": {"retention": ")") + text + "\"}}");
    f.config = file.path;
    const AgentConfig c = resolve_config(f);
    CHECK(c.history_retention == want);
    // cmd_agent's wiring: the status layer (and its HistoryStore) gets the configured value.
    CHECK(status_options(c).retention == want);
  }
  // Flags leave it alone; an empty section keeps the default.
  TempFile empty(R"({"history": {}})");
  f.config = empty.path;
  CHECK(resolve_config(f).history_retention == std::chrono::hours(24 * 7));
}

TEST_CASE("config: a bad history section is one ConfigError line naming the key") {
  auto err = [](const std::string& text) -> std::string {
    TempFile file(text);
    AgentFlags f;
    f.name = "x";
    f.config = file.path;
    try {
      resolve_config(f);
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "";
  };
  for (const char* bad : {R"("7 days")", R"("")", R"("-1h")", R"("30s")", R"("0s")", R"("0d")",
                          R"("36501d")", R"("1000000000h")", R"("1.5d")", R"("d")", R"("7dd")",
                          R"("1h7d")", R"(168)", R"(null)", R"(["7d"])"}) {
    CAPTURE(bad);
    const std::string e = err(std::string(R"({"history": {"retention": )") + bad + "}}");
    CHECK(e.find("history.retention must be a duration from 1m to 36500d") != std::string::npos);
    CHECK(e.find(std::string("got ") + bad) != std::string::npos);
    CHECK(e.find('\n') == std::string::npos);
  }
  CHECK(err(R"({"history": {"retension": "7d"}})").find("unknown key \"history.retension\"") !=
        std::string::npos);
  CHECK(err(R"({"history": "168h"})").find("history must be an object") != std::string::npos);
}

TEST_CASE("config: parse_retention") {
  CHECK(parse_retention("7d") == std::chrono::milliseconds(168h));
  CHECK(parse_retention("1d1h1m") == std::chrono::milliseconds(25h + 1min));
  CHECK(parse_retention("250ms") == std::chrono::milliseconds(250));
  CHECK(parse_retention("999999d") == std::chrono::milliseconds(999999 * 24h));  // range: caller
  CHECK_FALSE(parse_retention("9999999d"));  // more than 6 digits of days
  CHECK_FALSE(parse_retention(""));
  CHECK_FALSE(parse_retention("7D"));
  CHECK_FALSE(parse_retention(" 7d"));
  CHECK_FALSE(parse_retention("7d1x"));
}
