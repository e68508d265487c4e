// End-to-end: a flood at one agent's gossip port while four real agents run on 127.0.0.1.
// Random and oversize UDP datagrams, and half-open TCP connections (silent, a partial frame
// header, a header announcing a large frame followed by a few bytes) held open. Asserts: the
// datagrams are counted as dropped (vigil_gossip_decode_errors_total), the agent keeps
// serving, nobody raises a suspicion (vigil_suspicions_total flat on every agent, every member
// alive everywhere), the target keeps probing at its configured pace, the held connections are
// closed by the agent within gossip.stream_timeout (plus generous slack), and holding frames
// that were announced but never sent does not cost the agent their announced size in memory.
// Loopback only; every loop is bounded.
#include <arpa/inet.h>
#include <dirent.h>
#include <doctest/doctest.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>

#include "test/e2e/agent_fixture.hpp"

using namespace vigil::e2e;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kAgents = 4;
using vigil::gossip::Duration;
using vigil::gossip::GossipConfig;

// This test's gossip timings: written to the agents' config (write_flood_config) and the source
// of every wait and margin below. The local profile with probes relaxed against a loaded test
// machine, so a suspicion means the flood hurt, not that the host was slow.
GossipConfig flood_gossip() {
  GossipConfig g = GossipConfig::local();
  g.probe_interval = 500ms;
  g.probe_timeout = 250ms;
  g.gossip_interval = 100ms;
  g.suspicion_mult = 4;
  g.push_pull_interval = 5s;
  g.stream_timeout = 2s;
  return g;
}

std::string write_flood_config(const Cluster& c) {
  const std::string path = c.dir() + "/flood.json";
  // No checkers: nothing but gossip competes for the agents' loop and the host's cores.
  std::ofstream(path) << R"({"profile": "local", "checkers": [], "data_dir": ")" << c.dir()
                      << R"(", )" << gossip_json(flood_gossip()) << "}";
  return path;
}

long long ms(Duration d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

sockaddr_in loopback(int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  return a;
}

// One labeled or unlabeled sample of agent i's /metrics ("name{l=\"v\",...}"), or -1.
double sample(const Cluster& c, int i, const std::string& series) {
  auto [status, body] = c.http_get(i, "/metrics");
  if (status != 200) return -1;
  std::istringstream in(body);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return -1;
}

double suspicions(const Cluster& c, int i) {
  return sample(c, i, "vigil_suspicions_total");
}
double pings_out(const Cluster& c, int i) {
  return sample(c, i, "vigil_gossip_messages_total{type=\"ping\",direction=\"out\"}");
}

bool all_alive_everywhere(const Cluster& c, const std::vector<std::string>& names) {
  for (int i = 0; i < kAgents; ++i) {
    auto m = c.members(i);
    if (!m || m->size() != names.size()) return false;
    for (const auto& e : *m) {
      if (e.value("status", "") != "alive") return false;
    }
  }
  return true;
}

// The PID of the agent started with `--name name` whose arguments mention `dir` (the
// cluster's unique temp dir), found in /proc; -1 if none.
pid_t find_agent_pid(const std::string& dir, const std::string& name) {
  DIR* d = opendir("/proc");
  if (!d) return -1;
  pid_t found = -1;
  while (dirent* e = readdir(d)) {
    const pid_t pid = std::atoi(e->d_name);
    if (pid <= 0) continue;
    std::ifstream f("/proc/" + std::string(e->d_name) + "/cmdline", std::ios::binary);
    std::string cmd((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    if (cmd.find(dir) != std::string::npos &&
        cmd.find(std::string("--name") + '\0' + name + '\0') != std::string::npos) {
      found = pid;
    }
  }
  closedir(d);
  return found;
}

// Resident memory of `pid` in KiB (VmRSS), or -1.
long rss_kib(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return -1;
}

// Sends `count` datagrams to 127.0.0.1:port, about `per_second`: random bytes of 0..1400
// bytes, every 20th one oversize (20,000 bytes, over the agent's max_datagram_bytes).
std::uint64_t udp_flood(int port, int count, int per_second, std::uint32_t seed) {
  std::mt19937 rng(seed);
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  REQUIRE(s >= 0);
  const sockaddr_in a = loopback(port);
  std::uint64_t sent = 0;
  const int batch = std::max(1, per_second / 50);  // 50 batches a second
  std::vector<std::uint8_t> buf;
  auto next = Clock::now();
  for (int i = 0; i < count; ++i) {
    buf.resize(i % 20 == 19 ? 20000 : rng() % 1401);
    for (auto& b : buf) b = static_cast<std::uint8_t>(rng());
    if (::sendto(s, buf.data(), buf.size(), 0, reinterpret_cast<const sockaddr*>(&a), sizeof a) >=
        0) {
      ++sent;
    }
    if (i % batch == batch - 1) {
      next += 20ms;
      std::this_thread::sleep_until(next);
    }
  }
  ::close(s);
  return sent;
}

// A held TCP connection to the gossip port and what it sent.
struct HalfOpen {
  int fd = -1;
  Clock::time_point opened;
  std::optional<Clock::duration> closed_after;  ///< when the agent closed it
};

// Opens `count` connections: a third silent, a third with 2 bytes of a frame header, a third
// with a header announcing `announced` bytes followed by 16 bytes of it.
std::vector<HalfOpen> open_half_open(int port, int count, std::uint32_t announced) {
  std::vector<HalfOpen> conns;
  const sockaddr_in a = loopback(port);
  for (int i = 0; i < count; ++i) {
    HalfOpen h;
    h.fd = socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(h.fd >= 0);
    REQUIRE(connect(h.fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) == 0);
    h.opened = Clock::now();
    std::vector<std::uint8_t> bytes;
    if (i % 3 == 1) bytes = {0x00, 0x00};
    if (i % 3 == 2) {
      bytes = {std::uint8_t(announced >> 24), std::uint8_t(announced >> 16),
               std::uint8_t(announced >> 8), std::uint8_t(announced)};
      bytes.resize(4 + 16, 0x5A);
    }
    if (!bytes.empty()) REQUIRE(send(h.fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) > 0);
    conns.push_back(h);
  }
  return conns;
}

// Marks the connections the agent closed (EOF or reset); true when all are closed.
bool poll_closed(std::vector<HalfOpen>& conns) {
  bool all = true;
  for (HalfOpen& h : conns) {
    if (h.closed_after) continue;
    pollfd p{h.fd, POLLIN, 0};
    char b;
    if (poll(&p, 1, 0) == 1 && (p.revents & (POLLIN | POLLHUP | POLLERR)) &&
        recv(h.fd, &b, 1, MSG_DONTWAIT) <= 0) {
      h.closed_after = Clock::now() - h.opened;
    } else {
      all = false;
    }
  }
  return all;
}

}  // namespace

TEST_CASE("e2e: UDP garbage and half-open TCP floods at one agent leave the mesh unharmed") {
  const GossipConfig g = flood_gossip();
  // The UDP flood: 24,000 datagrams at 4,000/s, i.e. 6 s = 12 probe intervals.
  constexpr int kFloodDatagrams = 24000, kFloodRate = 4000;
  // Settling after convergence: N probe intervals (2 s). Round robin, every agent has probed
  // each of its N - 1 peers once since, and a probe started during the join (which ends within
  // its probe interval: direct ack by probe_timeout, indirect and TCP by the next probe) has
  // finished, so a join-time suspicion cannot land after the baseline.
  const Duration settle = kAgents * g.probe_interval;
  // The quiet window for the probing pace: 6 probe intervals (3 s), one ping out per interval,
  // so >= 6 pings; a count is off by at most one at each window edge. Worst case, the quiet
  // rate reads 7 pings / 6 intervals and the flood rate 11 / 12: ratio 0.79, above the 0.5
  // asserted below, which a real slowdown (probes delayed by the flood) falls under.
  const Duration quiet_window = 6 * g.probe_interval;
  // A suspicion raised by a probe that was running when the flood ended shows within one probe
  // period; Lifeguard stretches an unhealthy agent's period up to awareness_max_multiplier x
  // probe_interval (8 x 500 ms = 4 s), so that long is waited before "no suspicions" is read.
  const Duration late_suspicion = g.awareness_max_multiplier * g.probe_interval;
  // A held connection is closed by the agent once idle for stream_timeout (2 s). The bound
  // adds 10 s of scheduling slack for a loop busy with the flood on 2 shared cores: it asserts
  // that the idle limit exists (without it a connection stays open for good), not its precision.
  const auto close_bound =
      std::chrono::duration_cast<std::chrono::milliseconds>(g.stream_timeout + 10s);
  // RSS is read while the connections are held: after a quarter of stream_timeout (500 ms).
  const Duration held_for = g.stream_timeout / 4;

  Cluster c;
  const std::string config = write_flood_config(c);
  std::vector<std::string> names;
  for (int i = 0; i < kAgents; ++i) {
    names.push_back("flood-" + std::to_string(i));
    AgentSpec s{.name = names.back(), .config = config};
    if (i > 0) s.join = {c.gossip_addr(0)};
    c.start(s);
  }
  REQUIRE_MESSAGE(eventually([&] { return all_alive_everywhere(c, names); }), c.log(0));
  const int target = 0;
  const int port = c.spec(target).gossip_port;
  const pid_t pid = find_agent_pid(c.dir(), names[target]);
  REQUIRE(pid > 0);

  // Let the mesh settle, then take the baseline.
  std::this_thread::sleep_for(settle);
  REQUIRE(all_alive_everywhere(c, names));
  std::vector<double> susp0;
  for (int i = 0; i < kAgents; ++i) susp0.push_back(suspicions(c, i));
  const double decode0 = c.metric(target, "vigil_gossip_decode_errors_total");
  const long rss0 = rss_kib(pid);
  REQUIRE(decode0 >= 0);
  REQUIRE(rss0 > 0);

  // A quiet window of probing for the baseline pace.
  const double ping_a = pings_out(c, target);
  auto t_a = Clock::now();
  std::this_thread::sleep_for(quiet_window);
  const double quiet_pings = pings_out(c, target) - ping_a;
  const double quiet_secs = std::chrono::duration<double>(Clock::now() - t_a).count();

  // The flood: half-open connections first (held through the UDP flood), then 6 s of UDP.
  // 96 connections stay under the agent's max_inbound_streams (128), so the peers' own
  // push-pulls still get through; a third announce a frame of 8 MiB - 1 (just under the
  // agent's max_frame_bytes) and send 16 bytes of it.
  constexpr std::uint32_t kAnnounced = (8u << 20) - 1;
  std::mutex mu;  // guards conns: the watcher polls them while more are opened
  std::vector<HalfOpen> conns = open_half_open(port, 96, kAnnounced);
  std::atomic<bool> watching{true};
  std::thread watcher([&] {
    while (watching) {
      {
        std::lock_guard lock(mu);
        poll_closed(conns);
      }
      std::this_thread::sleep_for(20ms);
    }
  });
  const long rss_held = [&] {
    std::this_thread::sleep_for(held_for);  // while held (well within stream_timeout)
    return rss_kib(pid);
  }();
  const double ping_b = pings_out(c, target);
  auto t_b = Clock::now();
  std::atomic<std::uint64_t> sent{0};
  std::thread flooder([&] { sent = udp_flood(port, kFloodDatagrams, kFloodRate, 7); });
  // A second wave of half-open connections during the UDP flood.
  std::this_thread::sleep_for(2s);
  auto more = open_half_open(port, 30, kAnnounced);
  {
    std::lock_guard lock(mu);
    conns.insert(conns.end(), more.begin(), more.end());
  }
  flooder.join();
  const double flood_pings = pings_out(c, target) - ping_b;
  const double flood_secs = std::chrono::duration<double>(Clock::now() - t_b).count();

  // Every held connection is closed by the agent within close_bound (above).
  const bool all_closed = eventually(
      [&] {
        std::lock_guard lock(mu);
        return std::all_of(conns.begin(), conns.end(),
                           [](const HalfOpen& h) { return h.closed_after.has_value(); });
      },
      close_bound + 5s);
  watching = false;
  watcher.join();
  Clock::duration worst{};
  int open_left = 0;
  for (const HalfOpen& h : conns) {
    if (h.closed_after) worst = std::max(worst, *h.closed_after);
    if (!h.closed_after) ++open_left;
    ::close(h.fd);
  }
  MESSAGE("flood: " << sent.load() << " datagrams sent; " << conns.size()
                    << " half-open connections, the last closed by the agent "
                    << std::chrono::duration_cast<std::chrono::milliseconds>(worst).count()
                    << " ms after it opened (stream_timeout " << ms(g.stream_timeout) << " ms)");
  CHECK_MESSAGE(all_closed, open_left << " half-open connections still open");
  CHECK(worst <= close_bound);

  // Dropped and counted.
  const double decode1 = c.metric(target, "vigil_gossip_decode_errors_total");
  MESSAGE("decode errors " << decode0 << " -> " << decode1 << "; RSS " << rss0 << " KiB -> "
                           << rss_held << " KiB while 32 frames of 8 MiB were announced");
  CHECK(decode1 - decode0 >= 1000);  // thousands sent; the kernel may drop some when full

  // Announced-but-unsent frames must not be allocated up front (32 x 8 MiB = 256 MiB).
  CHECK(rss_held - rss0 < 64 * 1024);

  // Probing kept its pace: at least half the quiet rate (it is one ping per probe_interval).
  const double quiet_rate = quiet_pings / quiet_secs, flood_rate = flood_pings / flood_secs;
  MESSAGE("pings/s quiet " << quiet_rate << ", during the flood " << flood_rate
                           << " (probe_interval " << ms(g.probe_interval) << " ms)");
  CHECK(quiet_rate > 0);
  CHECK(flood_rate >= 0.5 * quiet_rate);

  // Still serving; nobody suspected anybody; everyone alive everywhere.
  std::this_thread::sleep_for(late_suspicion);  // a suspicion raised late shows by now
  CHECK(c.http_get(target, "/healthz").first == 200);
  for (int i = 0; i < kAgents; ++i) {
    CAPTURE(i);
    CHECK(suspicions(c, i) == susp0[i]);
    CHECK(c.running(i));
  }
  CHECK(all_alive_everywhere(c, names));
}
