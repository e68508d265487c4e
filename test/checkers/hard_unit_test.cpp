// Unit tests of the hard checkers' pure parts: time-drift with a fake PeerClock, the ping
// rotation bound, the ICMP checksum, the unix-socket HTTP framing.
#include <doctest/doctest.h>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <set>
#include <thread>

#include "checkers/icmp.hpp"
#include "checkers/large_echo.hpp"
#include "checkers/peer_rotation.hpp"
#include "checkers/ping.hpp"
#include "checkers/registry.hpp"
#include "checkers/time_drift.hpp"
#include "checkers/unix_http.hpp"
#include "test/checkers/subprocess.hpp"

using namespace vigil::checkers;
using namespace std::chrono_literals;

namespace {

class FakePeerClock final : public PeerClock {
 public:
  std::vector<PeerClockOffset> list;
  std::vector<PeerClockOffset> offsets() const override { return list; }
};

PeerClockOffset off(std::string peer, std::chrono::nanoseconds offset, Duration rtt = 1ms,
                    Duration age = 1s) {
  return PeerClockOffset{std::move(peer), offset, rtt, 3, Clock::now() - age};
}

Probe drift(std::shared_ptr<const PeerClock> clock,
            const std::string& json = R"({"type":"time-drift"})") {
  auto spec = parse_check_spec(std::string_view(json));
  REQUIRE(spec.error.empty());
  CheckerContext cc;
  auto made = make_time_drift_checker(spec.spec, cc);
  REQUIRE_MESSAGE(made.checker, made.error);
  CheckContext ctx;
  ctx.peer_clock = std::move(clock);
  return made.checker->run(ctx, Deadline::in(1s));
}

}  // namespace

TEST_CASE("time-drift: no source, no samples -> running with a detail saying so") {
  Probe p = drift(nullptr);
  CHECK(p.running());
  CHECK(p.detail.find("no peer clock source") != std::string::npos);
  auto clock = std::make_shared<FakePeerClock>();
  p = drift(clock);
  CHECK(p.running());
  CHECK(p.detail == "no peer clock offsets measured yet");
  clock->list = {off("n2", 5s, 1ms, 10min)};  // too old (max_age 5m)
  CHECK(drift(clock).detail == "no peer clock offsets measured yet");
}

TEST_CASE("time-drift: one skewed peer -> warning / critical naming it") {
  auto clock = std::make_shared<FakePeerClock>();
  clock->list = {off("n2", 3ms), off("n3", -2ms), off("n4", 250ms)};
  Probe p = drift(clock);
  CHECK(p.failed());
  CHECK(p.severity == Severity::warning);
  CHECK_MESSAGE(p.error == "clock offset beyond 100ms to 1 peer: n4 +250ms", p.error);
  CHECK(p.detail.find("3 peers measured") != std::string::npos);
  CHECK(p.detail.find("likely culprit") == std::string::npos);

  clock->list[2].offset = std::chrono::milliseconds(-1520);
  p = drift(clock);
  CHECK(p.severity == Severity::critical);
  CHECK_MESSAGE(p.error == "clock offset beyond 1s to 1 peer: n4 -1.52s", p.error);

  clock->list[2].offset = 40ms;
  CHECK(drift(clock).running());
  // Custom thresholds.
  CHECK(drift(clock, R"({"type":"time-drift","warning":"20ms","critical":"30ms"})").severity ==
        Severity::critical);
}

TEST_CASE("time-drift: half the RTT is measurement error, not drift") {
  auto clock = std::make_shared<FakePeerClock>();
  clock->list = {off("far", 140ms, 200ms)};  // |offset| - rtt/2 = 40ms < 100ms
  CHECK(drift(clock).running());
  clock->list = {off("far", 260ms, 200ms)};  // 160ms
  CHECK(drift(clock).severity == Severity::warning);
}

TEST_CASE("time-drift: every peer disagrees -> this node's clock is blamed") {
  auto clock = std::make_shared<FakePeerClock>();
  clock->list = {off("a", 2s), off("b", 2100ms), off("c", 1900ms)};
  Probe p = drift(clock);
  CHECK(p.severity == Severity::critical);
  CHECK(p.detail.find("its own clock is the likely culprit") != std::string::npos);
}

TEST_CASE("time-drift: thresholds validated") {
  auto spec = parse_check_spec(R"({"type":"time-drift","warning":"2s","critical":"1s"})");
  CheckerContext cc;
  auto made = make_time_drift_checker(spec.spec, cc);
  CHECK(!made.checker);
  CHECK(made.error.find("critical: must be >= warning") != std::string::npos);
  CHECK(format_offset(std::chrono::milliseconds(-250)) == "-250ms");
}

TEST_CASE("ping rotation: every peer covered within ceil(N/k) rounds, flat per-round load") {
  for (std::size_t n : {1u, 5u, 37u, 100u, 400u}) {
    for (std::size_t k : {1u, 8u, 10u}) {
      std::vector<std::string> peers;
      for (std::size_t i = 0; i < n; ++i) peers.push_back("node-" + std::to_string(i));
      PeerRotation rot("self", k);
      const std::size_t bound = PeerRotation::rounds_to_cover(n, k);
      // Any window of `bound` consecutive rounds covers everyone (checked from several starts).
      for (int start = 0; start < 3; ++start) {
        std::set<std::size_t> seen;
        for (std::size_t r = 0; r < bound; ++r) {
          auto pick = rot.next_round(peers);
          CHECK(pick.size() == std::min(n, k));
          seen.insert(pick.begin(), pick.end());
        }
        INFO("n=" << n << " k=" << k << " start=" << start);
        CHECK(seen.size() == n);
      }
    }
  }
}

TEST_CASE("ping rotation: incoming load across a 200-node mesh stays near k per round") {
  const std::size_t n = 200, k = 8;
  std::vector<std::string> names;
  for (std::size_t i = 0; i < n; ++i) names.push_back("n" + std::to_string(i));
  std::vector<PeerRotation> rots;
  for (const auto& s : names) rots.emplace_back(s, k);
  std::vector<int> incoming(n, 0);
  const int rounds = 50;
  for (int r = 0; r < rounds; ++r) {
    for (std::size_t i = 0; i < n; ++i) {
      std::vector<std::string> peers;
      std::vector<std::size_t> ids;
      for (std::size_t j = 0; j < n; ++j)
        if (j != i) peers.push_back(names[j]), ids.push_back(j);
      for (auto idx : rots[i].next_round(peers)) incoming[ids[idx]]++;
    }
  }
  // Over 50 rounds each node is the target of about k*50 = 400 probes; sweeps make it even.
  auto [mn, mx] = std::minmax_element(incoming.begin(), incoming.end());
  MESSAGE("incoming probes per node over 50 rounds: min " << *mn << " max " << *mx);
  CHECK(*mn >= 300);
  CHECK(*mx <= 500);
}

TEST_CASE("ping rotation: a newcomer is covered within the bound too") {
  std::vector<std::string> peers;
  for (int i = 0; i < 30; ++i) peers.push_back("p" + std::to_string(i));
  PeerRotation rot("me", 4);
  rot.next_round(peers);
  peers.push_back("late");
  bool seen = false;
  for (std::size_t r = 0; r < PeerRotation::rounds_to_cover(peers.size(), 4) && !seen; ++r)
    for (auto i : rot.next_round(peers)) seen |= peers[i] == "late";
  CHECK(seen);
}

TEST_CASE("ping large echo: one per target per interval, whatever the rotation") {
  const TimePoint t0 = TimePoint{} + 1h;
  LargeEchoSchedule s(30s);
  const std::vector<std::string> all = {"a", "b", "c"};
  CHECK(s.due(all, t0) == std::vector<std::size_t>{0, 1, 2});  // the first run: every target
  CHECK(s.due(all, t0 + 10s).empty());
  CHECK(s.due(all, t0 + 26s).empty());
  CHECK(s.due({"c", "d"}, t0 + 26s) == std::vector<std::size_t>{1});  // a newcomer at once
  CHECK(s.due(all, t0 + 27s) == std::vector<std::size_t>{0, 1, 2});   // a run a tenth early
  CHECK(s.due({"d"}, t0 + 40s).empty());                              // sent at t0 + 26 s
  CHECK(s.due({"d"}, t0 + 53s) == std::vector<std::size_t>{0});
  // A rotation that visits each peer every 3rd run (10 s apart, each up to 1 s early or late):
  // one large echo per peer per 30 s, not one per visit, and a peer absent from a round keeps
  // its time.
  LargeEchoSchedule r(30s);
  std::map<std::string, int> sent;
  for (int run = 0; run < 30; ++run) {  // 300 s
    const std::vector<std::string> round = {"p" + std::to_string(run % 3),
                                            "q" + std::to_string(run % 3)};
    const Duration jitter = (run % 2 ? 1 : -1) * std::chrono::milliseconds(run % 5 * 250);
    for (std::size_t i : r.due(round, t0 + run * 10s + jitter)) ++sent[round[i]];
  }
  for (const auto& [peer, n] : sent) {
    INFO(peer);
    CHECK(n == 10);  // 300 s / 30 s
  }
  CHECK(r.remembered() <= 6);
  // Off.
  LargeEchoSchedule off(Duration::zero());
  CHECK(off.due(all, t0).empty());
  CHECK(off.remembered() == 0);
}

TEST_CASE("ping large echo: the IP packet is exactly the configured MTU") {
  CHECK(echo_payload_for_mtu(AF_INET, 1500) == 1500 - 20 - 8);
  CHECK(echo_payload_for_mtu(AF_INET6, 1500) == 1500 - 40 - 8);
  CHECK(echo_payload_for_mtu(AF_INET, 9000) == 8972);
  CHECK(echo_payload_for_mtu(AF_INET, 576) == 548);
  CHECK(echo_payload_for_mtu(AF_INET6, 40) == 0);
}

TEST_CASE("ping config: mtu 576..65535 (default 1500), mtu_interval 0s or >= 1s") {
  auto make = [](const std::string& json) {
    auto spec = parse_check_spec(std::string_view(json));
    REQUIRE(spec.error.empty());
    CheckerContext cc;
    cc.node_name = "self";
    return make_ping_checker(spec.spec, cc);
  };
  CHECK(make(R"({"type":"ping"})").checker);
  CHECK(PingConfig{}.mtu == 1500);
  CHECK(PingConfig{}.mtu_interval == 30s);
  for (const char* ok : {R"({"type":"ping","mtu":576})", R"({"type":"ping","mtu":9000})",
                         R"({"type":"ping","mtu":65535,"mtu_interval":"0s"})",
                         R"({"type":"ping","mtu_interval":"2s"})"}) {
    auto m = make(ok);
    INFO(ok << " -> " << m.error);
    CHECK(m.checker);
  }
  for (const char* bad : {R"({"type":"ping","mtu":575})", R"({"type":"ping","mtu":65536})",
                          R"({"type":"ping","mtu":"1500"})", R"({"type":"ping","mtu":1500.5})"}) {
    auto m = make(bad);
    INFO(bad);
    CHECK(!m.checker);
    CHECK(m.error.find("mtu: must be an integer in [576, 65535]") != std::string::npos);
    CHECK(m.error.find('\n') == std::string::npos);  // one line
  }
  auto m = make(R"({"type":"ping","mtu_interval":"500ms"})");
  CHECK(!m.checker);
  CHECK(m.error.find("mtu_interval: must be 0s (no large echoes) or >= 1s") != std::string::npos);
}

TEST_CASE("icmp checksum (RFC 1071 example)") {
  const std::uint8_t data[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
  // Sum 0xddf2 -> checksum ~0xddf2 = 0x220d (network order).
  CHECK(inet_checksum(data, sizeof(data)) == htons(0x220d));
}

TEST_CASE("unix http: content-length and chunked bodies, status codes") {
  vigil::test::TempDir dir("vigil-uhttp-");
  const std::string path = dir / "s.sock";
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path.c_str());
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  REQUIRE(::listen(fd, 4) == 0);
  const std::vector<std::string> answers = {
      "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOK",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nB\r\n, "
      "world!!!!\r\n0\r\n\r\n",
      "HTTP/1.0 500 Internal Server Error\r\n\r\nboom"};
  std::thread server([&] {
    for (const auto& a : answers) {
      int c = ::accept(fd, nullptr, nullptr);
      char buf[2048];
      (void)::recv(c, buf, sizeof(buf), 0);
      (void)::send(c, a.data(), a.size(), MSG_NOSIGNAL);
      ::close(c);
    }
  });
  auto r1 = unix_http_get(path, "/_ping", Deadline::in(5s));
  auto r2 = unix_http_get(path, "/info", Deadline::in(5s));
  auto r3 = unix_http_get(path, "/x", Deadline::in(5s));
  server.join();
  ::close(fd);
  CHECK(r1.ok);
  CHECK(r1.status == 200);
  CHECK(r1.body == "OK");
  CHECK(r2.ok);
  CHECK(r2.body == "hello, world!!!!");
  CHECK(r3.ok);
  CHECK(r3.status == 500);
  CHECK(r3.body == "boom");
  CHECK(url_encode(R"({"health":["unhealthy"]})") == "%7B%22health%22%3A%5B%22unhealthy%22%5D%7D");
}

TEST_CASE("builtin registry has the hard checkers") {
  CheckerRegistry reg;
  register_builtin_checkers(reg);
  for (const char* t : {"docker", "containerd", "systemd", "ping", "time-drift"}) CHECK(reg.has(t));
}
