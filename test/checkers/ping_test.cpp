// ping checker between network namespaces made by the test (NetnsMesh: 3 nodes on a bridge,
// blackhole guard in the root namespace). The checker runs inside node 1 through
// `ip netns exec ... vigil_ping_helper`; loss is injected with iptables on one link.
#include <doctest/doctest.h>

#include <set>

#include <nlohmann/json.hpp>

#include "test/checkers/netns_mesh.hpp"
#include "test/checkers/subprocess.hpp"
#include "test/skip.hpp"

using namespace vigil::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

const std::string kSkip = skip_reason(true, {"ip", "iptables", "sysctl"});

struct Helper {
  std::vector<json> runs;
  std::string output;
  int exit_code = -1;
};

// Runs the helper in node `from` with nodes `peers` as mesh peers.
Helper ping_from(const NetnsMesh& mesh, int from, const std::vector<int>& peers,
                 const std::string& spec, int rounds = 1, bool drop_privileges = false,
                 const std::vector<int>& peers6 = {}) {
  std::vector<std::string> argv = {"ip",
                                   "netns",
                                   "exec",
                                   mesh.ns(from),
                                   VIGIL_PING_HELPER,
                                   "--node",
                                   "n" + std::to_string(from),
                                   "--rounds",
                                   std::to_string(rounds),
                                   "--spec",
                                   spec};
  for (int p : peers) {
    argv.push_back("--peer");
    argv.push_back("n" + std::to_string(p) + "=" + mesh.ip(p));
  }
  for (int p : peers6) {
    argv.push_back("--peer");
    argv.push_back("n" + std::to_string(p) + "=" + mesh.ip6(p));
  }
  if (drop_privileges) argv.push_back("--drop-privileges");
  RunResult r = run_cmd(argv, 60s);
  Helper h;
  h.output = r.output;
  h.exit_code = r.exit_code;
  std::size_t pos = 0;
  while (pos < r.output.size()) {
    auto eol = r.output.find('\n', pos);
    if (eol == std::string::npos) eol = r.output.size();
    auto j = json::parse(r.output.substr(pos, eol - pos), nullptr, false);
    if (j.is_object()) h.runs.push_back(j);
    pos = eol + 1;
  }
  return h;
}

const json* peer(const json& run, const std::string& name) {
  for (const auto& p : run["peers"])
    if (p["peer"] == name) return &p;
  return nullptr;
}

double loss(const json& p) {
  return p["lost"].get<double>() / p["sent"].get<double>();
}

}  // namespace

TEST_CASE("ping: 30% loss injected on one link shows on that peer only") {
  if (!kSkip.empty()) return skip(kSkip);
  NetnsMesh mesh(3);
  REQUIRE_MESSAGE(mesh.ok(), mesh.error());
  // Node 3 drops 30% of the echo requests it receives.
  REQUIRE(
      mesh.exec(3, {"iptables", "-A", "INPUT", "-p", "icmp", "--icmp-type", "echo-request", "-m",
                    "statistic", "--mode", "random", "--probability", "0.3", "-j", "DROP"}) == "");
  // 200 echoes per peer, 5 ms apart (~1 s): the loss estimate is 0.30 +- 0.03.
  auto h = ping_from(mesh, 1, {2, 3},
                     R"({"type":"ping","count":200,"packet_interval":"5ms",
                         "reply_timeout":"1s","timeout":"8s","loss_threshold":0.1})");
  REQUIRE_MESSAGE(h.runs.size() == 1, h.output);
  const json& run = h.runs[0];
  const json* n2 = peer(run, "n2");
  const json* n3 = peer(run, "n3");
  REQUIRE(n2);
  REQUIRE(n3);
  MESSAGE("n2 loss " << loss(*n2) << " rtt " << (*n2)["rtt_ms"] << "ms; n3 loss " << loss(*n3)
                     << " rtt " << (*n3)["rtt_ms"] << "ms");
  CHECK((*n2)["sent"] == 200);
  CHECK((*n3)["sent"] == 200);
  CHECK(loss(*n2) <= 0.02);
  CHECK(loss(*n3) >= 0.15);
  CHECK(loss(*n3) <= 0.45);
  CHECK((*n2)["rtt_ms"].get<double>() > 0);
  CHECK((*n2)["samples"] == 200 - (*n2)["lost"].get<int>());
  CHECK((*n2)["addr"] == mesh.ip(2));
  CHECK(run["status"] == "failed");
  CHECK(run["severity"] == "warning");
  std::string err = run["error"];
  CHECK_MESSAGE(err.find("n3") != std::string::npos, err);
  CHECK_MESSAGE(err.find("n2") == std::string::npos, err);
  CHECK_MESSAGE(run["detail"].get<std::string>().find("datagram ICMP socket") != std::string::npos,
                run["detail"]);
}

TEST_CASE("ping: a node cut off from everyone looks isolated (critical)") {
  if (!kSkip.empty()) return skip(kSkip);
  NetnsMesh mesh(3);
  REQUIRE_MESSAGE(mesh.ok(), mesh.error());
  const std::string spec =
      R"({"type":"ping","count":3,"packet_interval":"50ms","reply_timeout":"500ms","timeout":"3s"})";
  auto before = ping_from(mesh, 1, {2, 3}, spec);
  REQUIRE_MESSAGE(before.runs.size() == 1, before.output);
  CHECK_MESSAGE(before.runs[0]["status"] == "running", before.runs[0].dump());

  REQUIRE(mesh.cut(1, true) == "");
  auto h = ping_from(mesh, 1, {2, 3}, spec);
  REQUIRE_MESSAGE(h.runs.size() == 1, h.output);
  CHECK(h.runs[0]["status"] == "failed");
  CHECK(h.runs[0]["severity"] == "critical");
  CHECK(h.runs[0]["error"].get<std::string>().find("isolated") != std::string::npos);
  CHECK(loss(*peer(h.runs[0], "n2")) == 1.0);
  CHECK(loss(*peer(h.runs[0], "n3")) == 1.0);
}

TEST_CASE("ping: raw-socket fallback, and a clear error when neither socket is allowed") {
  if (!kSkip.empty()) return skip(kSkip);
  NetnsMesh mesh(2);
  REQUIRE_MESSAGE(mesh.ok(), mesh.error());
  REQUIRE(mesh.exec(1, {"sysctl", "-qw", "net.ipv4.ping_group_range=1 0"}) == "");
  const std::string spec =
      R"({"type":"ping","count":5,"packet_interval":"20ms","reply_timeout":"1s","timeout":"3s"})";
  auto raw = ping_from(mesh, 1, {2}, spec);  // root: CAP_NET_RAW
  REQUIRE_MESSAGE(raw.runs.size() == 1, raw.output);
  CHECK_MESSAGE(raw.runs[0]["status"] == "running", raw.runs[0].dump());
  CHECK(raw.runs[0]["detail"].get<std::string>().find("raw ICMP socket") != std::string::npos);
  CHECK(loss(*peer(raw.runs[0], "n2")) == 0.0);

  auto none = ping_from(mesh, 1, {2}, spec, 1, /*drop_privileges=*/true);  // nobody
  REQUIRE_MESSAGE(none.runs.size() == 1, none.output);
  CHECK(none.runs[0]["status"] == "failed");
  CHECK(none.runs[0]["severity"] == "critical");
  std::string err = none.runs[0]["error"];
  CHECK_MESSAGE(err.find("ping_group_range") != std::string::npos, err);
  CHECK_MESSAGE(err.find("CAP_NET_RAW") != std::string::npos, err);
}

TEST_CASE("ping: max_peers_per_round rotates through the peers") {
  if (!kSkip.empty()) return skip(kSkip);
  NetnsMesh mesh(4);
  REQUIRE_MESSAGE(mesh.ok(), mesh.error());
  auto h = ping_from(mesh, 1, {2, 3, 4},
                     R"({"type":"ping","count":2,"packet_interval":"20ms","reply_timeout":"500ms",
                         "timeout":"3s","max_peers_per_round":1})",
                     3);
  REQUIRE_MESSAGE(h.runs.size() == 3, h.output);
  std::set<std::string> seen;
  for (const auto& run : h.runs) {
    CHECK(run["peers"].size() == 1);
    CHECK(run["status"] == "running");
    seen.insert(run["peers"][0]["peer"].get<std::string>());
    CHECK(run["detail"].get<std::string>().find("pinged 1 of 3 peers") != std::string::npos);
  }
  CHECK(seen.size() == 3);  // ceil(3/1) = 3 rounds cover all
}

TEST_CASE("ping: IPv6 peers next to IPv4 ones, datagram and raw") {
  if (!kSkip.empty()) return skip(kSkip);
  NetnsMesh mesh(3);
  REQUIRE_MESSAGE(mesh.ok(), mesh.error());
  const std::string spec =
      R"({"type":"ping","count":5,"packet_interval":"20ms","reply_timeout":"1s","timeout":"3s",
          "targets":["n2-v6-external=)" +
      mesh.ip6(2) + R"("]})";
  for (const char* range : {"0 2147483647", "1 0"}) {  // datagram sockets, then raw fallback
    REQUIRE(mesh.exec(1, {"sysctl", "-qw", std::string("net.ipv4.ping_group_range=") + range}) ==
            "");
    auto h = ping_from(mesh, 1, {2}, spec, 1, false, {3});
    REQUIRE_MESSAGE(h.runs.size() == 1, h.output);
    const json& run = h.runs[0];
    INFO(run.dump());
    CHECK(run["status"] == "running");
    REQUIRE(run["peers"].size() == 3);
    for (const auto& p : run["peers"]) {
      CHECK(p["sent"] == 5);
      CHECK(p["lost"] == 0);
    }
    CHECK((*peer(run, "n3"))["addr"] == mesh.ip6(3));
    CHECK((*peer(run, "n2-v6-external"))["addr"] == mesh.ip6(2));
    const std::string want = std::string(range[0] == '0' ? "datagram" : "raw") + " ICMP socket";
    CHECK(run["detail"].get<std::string>().find(want) != std::string::npos);
  }
}

TEST_CASE("ping: large DF echoes lost behind a smaller MTU while small ones pass; EMSGSIZE apart") {
  if (!kSkip.empty()) return skip(kSkip);
  NetnsMesh mesh(3);
  REQUIRE_MESSAGE(mesh.ok(), mesh.error());
  const std::string spec =
      R"({"type":"ping","count":3,"packet_interval":"20ms","reply_timeout":"500ms","timeout":"3s",
          "mtu":1500,"mtu_interval":"1s"})";
  const json* p = nullptr;
  // Healthy: the 1500-byte echo (DF) comes back from both peers, IPv4 and IPv6.
  auto ok = ping_from(mesh, 1, {2, 3}, spec, 1, false, {});
  REQUIRE_MESSAGE(ok.runs.size() == 1, ok.output);
  for (const char* n : {"n2", "n3"}) {
    REQUIRE((p = peer(ok.runs[0], n)));
    INFO(p->dump());
    CHECK((*p)["large_sent"] == 1);
    CHECK((*p)["large_lost"] == 0);
    CHECK((*p)["large_bytes"] == 1500);
  }
  // n3's port on the bridge drops frames above 1280 bytes, both ways (a real blackhole: n3's
  // own eth0 still says 1500, nobody is told). Small echoes pass, the large one is lost.
  REQUIRE(mesh.set_bridge_mtu(3, 1280) == "");
  for (int round = 0; round < 2; ++round) {  // datagram socket, then raw
    if (round == 1) REQUIRE(mesh.exec(1, {"sysctl", "-qw", "net.ipv4.ping_group_range=1 0"}) == "");
    auto h = ping_from(mesh, 1, {2, 3}, spec, 1, false, {});
    REQUIRE_MESSAGE(h.runs.size() == 1, h.output);
    const json& run = h.runs[0];
    INFO(run.dump());
    CHECK(run["status"] == "running");  // large echoes are evidence, never the verdict
    REQUIRE((p = peer(run, "n3")));
    CHECK((*p)["lost"] == 0);
    CHECK((*p)["large_sent"] == 1);
    CHECK((*p)["large_lost"] == 1);
    REQUIRE((p = peer(run, "n2")));
    CHECK((*p)["large_lost"] == 0);
    CHECK(run["detail"].get<std::string>().find("1500-byte echo (DF) lost: n3") !=
          std::string::npos);
  }
  REQUIRE(mesh.exec(1, {"sysctl", "-qw", "net.ipv4.ping_group_range=0 2147483647"}) == "");
  // IPv6 the same way (IPV6_DONTFRAG): the bridge drops it too.
  auto h6 = ping_from(mesh, 1, {}, spec, 1, false, {2, 3});
  REQUIRE_MESSAGE(h6.runs.size() == 1, h6.output);
  INFO(h6.runs[0].dump());
  REQUIRE((p = peer(h6.runs[0], "n3")));
  CHECK((*p)["large_lost"] == 1);
  CHECK((*p)["lost"] == 0);
  REQUIRE((p = peer(h6.runs[0], "n2")));
  CHECK((*p)["large_lost"] == 0);
  // Our own interface smaller than the configured MTU: the stack refuses the echo (EMSGSIZE).
  // That is no blackhole (the sender knows): not sent, not lost, said in the detail.
  REQUIRE(mesh.set_bridge_mtu(3, 1500) == "");
  REQUIRE(mesh.exec(2, {"ip", "link", "set", "eth0", "mtu", "1400"}) == "");
  auto local = ping_from(mesh, 2, {1, 3}, spec, 1, false, {});
  REQUIRE_MESSAGE(local.runs.size() == 1, local.output);
  const json& run = local.runs[0];
  INFO(run.dump());
  for (const char* n : {"n1", "n3"}) {
    REQUIRE((p = peer(run, n)));
    CHECK((*p)["large_too_big"] == true);
    CHECK((*p)["large_sent"] == 0);
    CHECK((*p)["large_lost"] == 0);
    CHECK((*p)["lost"] == 0);
  }
  CHECK(run["status"] == "running");
  CHECK(run["detail"].get<std::string>().find("refused by this node's stack") != std::string::npos);
}
