// End-to-end: real `vigil agent` processes on 127.0.0.1 (see agent_fixture.hpp).
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <random>

#include "gossip/udp/keyring.hpp"
#include "test/e2e/agent_fixture.hpp"
#include "test/skip.hpp"

using namespace vigil::e2e;
using vigil::gossip::udp::base64_encode;
using vigil::gossip::udp::Keyring;

namespace {

std::string port_addr(int port) {
  return "127.0.0.1:" + std::to_string(port);
}

// True when every agent in `observers` sees `name` with `status`.
bool all_see(const Cluster& c, const std::vector<int>& observers, const std::string& name,
             const std::string& status) {
  return std::all_of(observers.begin(), observers.end(),
                     [&](int i) { return c.status_of(i, name) == status; });
}

// True when agent i lists exactly `names`, all alive.
bool sees_exactly_alive(const Cluster& c, int i, std::vector<std::string> names) {
  auto m = c.members(i);
  if (!m || m->size() != names.size()) return false;
  for (const auto& e : *m) {
    if (e.value("status", "") != "alive") return false;
    auto it = std::find(names.begin(), names.end(), e.value("name", ""));
    if (it == names.end()) return false;
    names.erase(it);
  }
  return names.empty();
}

// Sends `count` datagrams of random bytes (sizes 0..max_len) to 127.0.0.1:port.
void send_garbage(int port, int count, std::size_t max_len, std::mt19937& rng) {
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  REQUIRE(s >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  for (int i = 0; i < count; ++i) {
    std::vector<std::uint8_t> buf(rng() % (max_len + 1));
    for (auto& b : buf) b = static_cast<std::uint8_t>(rng());
    if (!buf.empty() && i % 3 == 0) buf[0] = 1;  // looks like a keyring version byte
    ::sendto(s, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof a);
  }
  ::close(s);
}

void send_oversize(int port, int count) {
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  std::vector<std::uint8_t> big(20000, 0xAB);
  for (int i = 0; i < count; ++i) {
    ::sendto(s, big.data(), big.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof a);
  }
  ::close(s);
}

}  // namespace

TEST_CASE(
    "e2e: five encrypted agents converge, reject an intruder and garbage, detect "
    "kill -9, accept the restart, see a SIGTERM as left") {
  Cluster c;
  const std::string ring = c.write_keyring("ring.json", {base64_encode(Keyring::generate_key())});
  const int p0 = free_port();

  // n4 starts first, seeded only with n0 which is not up yet: it must keep retrying.
  const int i4 = c.start({.name = "n4", .join = {port_addr(p0)}, .keyring = ring});
  REQUIRE(eventually([&] { return c.http_get(i4, "/readyz").first == 503; }));
  // (Waited for, not assumed: on a loaded machine n4's first attempt may come late.)
  REQUIRE(eventually([&] { return c.log(i4).find("retrying") != std::string::npos; }));
  const int i0 = c.start({.name = "n0", .gossip_port = p0, .keyring = ring});
  const int i1 = c.start({.name = "n1", .join = {port_addr(p0)}, .keyring = ring});
  const int i2 = c.start({.name = "n2", .join = {port_addr(p0)}, .keyring = ring});
  // n3 is configured only through VIGIL_* variables, joining a DNS name and a second seed.
  const int i3 = c.start({.name = "n3",
                          .join = {"localhost:" + std::to_string(p0), c.gossip_addr(i1)},
                          .keyring = ring,
                          .flags_via_env = true});
  const std::vector<int> all{i0, i1, i2, i3, i4};
  const std::vector<std::string> names{"n0", "n1", "n2", "n3", "n4"};

  // 1. Convergence.
  REQUIRE(eventually([&] {
    return std::all_of(all.begin(), all.end(),
                       [&](int i) { return sees_exactly_alive(c, i, names); });
  }));
  for (int i : all) CHECK(c.http_get(i, "/readyz").first == 200);
  CHECK(c.log(i4).find("retrying") != std::string::npos);  // it did retry before n0 existed

  // The CLI reads the same view.
  auto table =
      run_vigil({"members", "--addr", "http://127.0.0.1:" + std::to_string(c.spec(i0).http_port)});
  CHECK(table.exit_code == 0);
  CHECK(table.output.rfind("NAME", 0) == 0);
  CHECK(std::count(table.output.begin(), table.output.end(), '\n') == 6);
  CHECK(table.output.find("n3") != std::string::npos);
  auto json = run_vigil(
      {"members", "--json", "--addr", "127.0.0.1:" + std::to_string(c.spec(i2).http_port)});
  CHECK(json.exit_code == 0);
  CHECK(nlohmann::json::parse(json.output).size() == 5);

  // 2. A node with the wrong key cannot join and changes nothing.
  const std::string wrong = c.write_keyring("wrong.json", {base64_encode(Keyring::generate_key())});
  const double dec_before = c.metric(i0, "vigil_gossip_decrypt_errors_total");
  REQUIRE(dec_before >= 0);
  const int ix = c.start({.name = "intruder", .join = {port_addr(p0)}, .keyring = wrong});
  CHECK(eventually([&] { return c.metric(i0, "vigil_gossip_decrypt_errors_total") > dec_before; }));
  CHECK(eventually([&] { return c.log(ix).find("retrying") != std::string::npos; }));
  CHECK(c.http_get(ix, "/readyz").first == 503);
  auto im = c.members(ix);
  REQUIRE(im);
  CHECK(im->size() == 1);
  for (int i : all) CHECK(sees_exactly_alive(c, i, names));
  c.signal(ix, SIGKILL);
  c.wait_exit(ix);

  // 3. Garbage and oversize datagrams are dropped and counted; membership is unchanged.
  std::mt19937 rng(42);
  const double dec1 = c.metric(i1, "vigil_gossip_decrypt_errors_total");
  const double bad1 = c.metric(i1, "vigil_gossip_decode_errors_total");
  // In batches, waiting for each to be counted, so the kernel's socket buffer never drops any.
  for (int b = 1; b <= 10; ++b) {
    send_garbage(c.spec(i1).gossip_port, 10, 1400, rng);
    REQUIRE(eventually(
        [&] { return c.metric(i1, "vigil_gossip_decrypt_errors_total") >= dec1 + 10 * b; }));
  }
  for (int b = 1; b <= 3; ++b) {
    send_oversize(c.spec(i1).gossip_port, 1);
    REQUIRE(
        eventually([&] { return c.metric(i1, "vigil_gossip_decode_errors_total") >= bad1 + b; }));
  }
  for (int i : all) CHECK(sees_exactly_alive(c, i, names));

  // 4. kill -9: the others mark it failed.
  const long inc_before = c.incarnation_of(i0, "n2");
  REQUIRE(inc_before >= 0);
  c.signal(i2, SIGKILL);
  c.wait_exit(i2);
  const std::vector<int> survivors{i0, i1, i3, i4};
  CHECK(eventually([&] { return all_see(c, survivors, "n2", "failed"); }));

  // 5. Restart under the same name: it refutes its death and is alive everywhere.
  c.restart(i2);
  CHECK(eventually([&] {
    return std::all_of(all.begin(), all.end(), [&](int i) {
      return c.status_of(i, "n2") == "alive" && c.incarnation_of(i, "n2") > inc_before;
    });
  }));

  // 6. SIGTERM: graceful leave, exit 0; the others see it left, not failed.
  c.signal(i3, SIGTERM);
  CHECK(c.wait_exit(i3) == 0);
  const std::vector<int> rest{i0, i1, i2, i4};
  CHECK(eventually([&] { return all_see(c, rest, "n3", "left"); }));
  // ... and it stays left past the point where a crash would have turned into failed. Each
  // survivor probes its N - 1 = 4 members round robin in an order shuffled every round, so it
  // probes a crashed n3 within 2(N - 1) - 1 = 7 probe intervals (1.4 s; the probe_timeout falls
  // inside its interval), and declares it failed at most one suspicion timeout later (nobody
  // confirming: suspicion_max_timeout_mult 4 x suspicion_mult 3 x max(1, log10 5) x 200 ms =
  // 2.4 s): 3.8 s with the fixture's timings.
  const auto g = fixture_gossip();
  const auto crash_window = std::chrono::duration_cast<std::chrono::milliseconds>(
      (2 * 4 - 1) * g.probe_interval + suspicion_max(g, 5));
  CHECK_FALSE(eventually([&] { return !all_see(c, rest, "n3", "left"); }, crash_window));
  CHECK(c.log(i3).find("left the mesh") != std::string::npos);
}

TEST_CASE("e2e: plaintext agent counts garbage as decode errors; /metrics passes promtool") {
  Cluster c;
  const int i = c.start({.name = "solo"});
  REQUIRE(eventually([&] { return c.http_get(i, "/readyz").first == 200; }));
  CHECK(c.http_get(i, "/healthz").first == 200);
  CHECK(c.log(i).find("encryption disabled") != std::string::npos);
  const double bad = c.metric(i, "vigil_gossip_decode_errors_total");
  REQUIRE(bad >= 0);
  std::mt19937 rng(7);
  for (int b = 1; b <= 5; ++b) {
    send_garbage(c.spec(i).gossip_port, 10, 1400, rng);
    REQUIRE(eventually(
        [&] { return c.metric(i, "vigil_gossip_decode_errors_total") >= bad + 10 * b; }));
  }
  send_oversize(c.spec(i).gossip_port, 1);
  CHECK(eventually([&] { return c.metric(i, "vigil_gossip_decode_errors_total") >= bad + 51; }));
  auto m = c.members(i);
  REQUIRE(m);
  CHECK(m->size() == 1);
  CHECK((*m)[0]["status"] == "alive");
  CHECK(c.metric(i, "vigil_gossip_decrypt_errors_total") == 0);

  auto [code, body] = c.http_get(i, "/v1/nope");
  CHECK(code == 404);
  CHECK(nlohmann::json::parse(body).contains("error"));

  if (access("/usr/bin/promtool", X_OK) != 0)
    return vigil::test::skip("promtool check: /usr/bin/promtool missing (apt package prometheus)");
  const std::string file = c.dir() + "/metrics.txt";
  std::ofstream(file) << c.http_get(i, "/metrics").second;
  const std::string cmd = "/usr/bin/promtool check metrics < " + file + " > " + file + ".out 2>&1";
  const int rc = std::system(cmd.c_str());
  std::ifstream out(file + ".out");
  std::string why((std::istreambuf_iterator<char>(out)), std::istreambuf_iterator<char>());
  CHECK_MESSAGE(rc == 0, why);
}

TEST_CASE("e2e: bad flags, config and keyring exit 2 with one line, nothing started") {
  Cluster c;
  auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(c.dir() + "/" + name) << text;
    return c.dir() + "/" + name;
  };
  const std::string unknown = write("unknown.json", R"({"name":"x","colour":"blue"})");
  const std::string bad_dur = write("dur.json", R"({"gossip":{"probe_interval":"fast"}})");
  const std::string bad_val = write("val.json", R"({"gossip":{"probe_timeout":"5s"}})");
  const std::string not_json = write("broken.json", R"({"name": )");
  const std::string short_key = write("short.json", R"(["AAAAAAAAAAAAAAAAAAAAAA=="])");
  const std::string http = "127.0.0.1:" + std::to_string(free_port());
  struct Row {
    std::vector<std::string> args;
    std::map<std::string, std::string> env;
    std::string expect;
  } rows[] = {
      {{}, {}, "subcommand"},
      {{"agent", "--bogus"}, {}, "--bogus"},
      {{"agent", "--profile", "fast"}, {}, "profile must be lan, wan or local"},
      {{"agent"}, {{"VIGIL_PROFILE", "fast"}}, "profile must be lan, wan or local"},
      {{"agent", "--bind", "127.0.0.1:70000"}, {}, "bind"},
      {{"agent", "--bind", "localhost:7946"}, {}, "IP address"},
      {{"agent", "--http", "nope"}, {}, "http must be HOST:PORT"},
      {{"agent", "--log-level", "loud"}, {}, "log level"},
      {{"agent", "--tag", "novalue"}, {}, "KEY=VALUE"},
      {{"agent", "--config", c.dir() + "/missing.json"}, {}, "cannot read config file"},
      {{"agent", "--config", unknown}, {}, "unknown key \"colour\""},
      {{"agent", "--config", bad_dur}, {}, "invalid duration"},
      {{"agent", "--config", bad_val}, {}, "probe_timeout must be shorter"},
      {{"agent", "--config", not_json}, {}, "not valid JSON"},
      {{"agent", "--keyring", c.dir() + "/nokeys.json"}, {}, "cannot read keyring"},
      {{"agent", "--keyring", short_key}, {}, "want 32"},
      {{"members", "--addr", http}, {}, "cannot reach the agent"},
  };
  for (const Row& r : rows) {
    std::vector<std::string> args = r.args;
    if (!args.empty() && args[0] == "agent" &&
        std::find(args.begin(), args.end(), "--http") == args.end()) {
      args.insert(args.end(), {"--http", http});  // were it started, it would not clash
    }
    auto res = run_vigil(args, r.env);
    CAPTURE(r.expect);
    CAPTURE(res.output);
    CHECK(res.exit_code == 2);
    CHECK(std::count(res.output.begin(), res.output.end(), '\n') == 1);
    CHECK(res.output.find(r.expect) != std::string::npos);
    CHECK(res.output.rfind("vigil: ", 0) == 0);
  }
  auto v = run_vigil({"version"});
  CHECK(v.exit_code == 0);
  CHECK(v.output.rfind("vigil ", 0) == 0);
  auto k = run_vigil({"keygen"});
  CHECK(k.exit_code == 0);
  auto key = k.output.substr(0, k.output.find('\n'));
  CHECK(Keyring::parse("[\"" + key + "\"]").keys().size() == 1);
}
