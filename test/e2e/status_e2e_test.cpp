// End to end, issue 5: five real agents on 127.0.0.1, one of them (n0) with an etcd checker
// pointed at a real etcd. Killing etcd must show n0 degraded with the etcd error in every
// node's /v1/status, make `vigil status` exit 1 naming n0, and put a ProbeFailed event in
// every node's history; restarting etcd recovers everywhere; kill -9 of an agent is failed
// everywhere with its last probes kept and named by the diagnosis; history survives a restart.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "agent_fixture.hpp"
#include "test/checkers/subprocess.hpp"
#include "test/skip.hpp"

using namespace vigil::e2e;

extern char** environ;

namespace {

// A real etcd on loopback, started and killed by PID, its output in `dir`.log. Its ports come
// from free_port() (reserved for this test process: test/ports.hpp) at the first start, again
// (new ones) when it exits at start-up because one was taken anyway (test::kPortAttempts), and
// stay the same across restarts.
class Etcd {
 public:
  explicit Etcd(std::string dir) : dir_(std::move(dir)), log_(dir_ + ".log") {}
  ~Etcd() { stop(); }
  bool available() const { return !exe_.empty(); }
  std::string client_url() const { return "http://127.0.0.1:" + std::to_string(client_); }
  void start() {
    const bool pick = client_ == 0;
    for (int attempt = 1;; ++attempt) {
      if (pick) {
        client_ = free_port();
        peer_ = free_port();
      }
      spawn();
      if (!exited_address_in_use()) return;
      REQUIRE_MESSAGE((pick && attempt < vigil::test::kPortAttempts),
                      "etcd: address in use\n"
                          << vigil::test::file_tail(log_));
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
  }
  void stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

 private:
  void spawn() {
    const std::string c = client_url();
    const std::string p = "http://127.0.0.1:" + std::to_string(peer_);
    std::vector<std::string> args{exe_,
                                  "--data-dir",
                                  dir_,
                                  "--listen-client-urls",
                                  c,
                                  "--advertise-client-urls",
                                  c,
                                  "--listen-peer-urls",
                                  p,
                                  "--initial-advertise-peer-urls",
                                  p,
                                  "--initial-cluster",
                                  "default=" + p};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, log_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    REQUIRE(posix_spawn(&pid_, argv[0], &fa, nullptr, argv.data(), environ) == 0);
    posix_spawn_file_actions_destroy(&fa);
  }
  // Waits (bounded) until etcd bound its ports (it logs "starting member" only after opening
  // both listeners) or exited; true when it exited saying an address was in use (reaped).
  bool exited_address_in_use() {
    const std::size_t from = vigil::test::file_tail(log_, 1 << 24).size();  // this start only
    auto said = [&](const std::string& what) {
      const std::string all = vigil::test::file_tail(log_, 1 << 24);
      return all.size() > from && all.find(what, from) != std::string::npos;
    };
    bool exited = false;
    vigil::test::wait_until(
        [&] {
          exited = waitpid(pid_, nullptr, WNOHANG) == pid_;
          return exited || said("starting member");
        },
        15s);
    if (!exited) return false;
    pid_ = -1;
    return vigil::test::address_in_use(vigil::test::file_tail(log_, 1 << 24).substr(from));
  }

  std::string dir_, log_;
  int client_ = 0, peer_ = 0;
  std::string exe_ = vigil::test::find_exe("etcd");
  pid_t pid_ = -1;
};

nlohmann::json status_json(const Cluster& c, int i, int* code = nullptr) {
  auto [status, body] = c.http_get(i, "/v1/status");
  if (code) *code = status;
  if (status == 0) return nullptr;
  return nlohmann::json::parse(body, nullptr, false);
}

// The entry of `node` in agent i's /v1/status, or null.
nlohmann::json node_entry(const Cluster& c, int i, const std::string& node) {
  auto s = status_json(c, i);
  if (!s.is_object() || !s.contains("nodes")) return nullptr;
  for (const auto& n : s["nodes"])
    if (n.value("name", "") == node) return n;
  return nullptr;
}

bool history_has(const Cluster& c, int i, const std::string& query) {
  auto [status, body] = c.http_get(i, "/v1/history?" + query);
  if (status != 200) return false;
  auto j = nlohmann::json::parse(body, nullptr, false);
  return j.is_array() && !j.empty();
}

}  // namespace

TEST_CASE("e2e: etcd killed on one node is seen from every node; kill -9 named; history kept") {
  Cluster c;
  Etcd etcd(c.dir() + "/etcd");
  if (!etcd.available()) return vigil::test::skip("etcd not installed (apt etcd-server)");
  etcd.start();
  const std::string etcd_url = etcd.client_url();
  const std::string with_etcd = c.write_config(
      "etcd.json", R"([{"type": "etcd", "endpoints": [")" + etcd_url +
                       R"("], "interval": "1s", "timeout": "800ms", "failure_threshold": 1},
                      {"type": "disk", "paths": ["/"], "interval": "2s", "timeout": "1s"}])");
  const std::string plain = c.write_config(
      "plain.json", R"([{"type": "disk", "paths": ["/"], "interval": "2s", "timeout": "1s"}])");

  std::vector<int> all;
  all.push_back(c.start({.name = "n0", .config = with_etcd}));
  for (int k = 1; k < 5; ++k)
    all.push_back(c.start(
        {.name = "n" + std::to_string(k), .join = {c.gossip_addr(all[0])}, .config = plain}));

  // Converged, and every node sees n0's etcd probe running.
  REQUIRE(eventually(
      [&] {
        for (int i : all) {
          auto p = probe_of(node_entry(c, i, "n0"), "etcd");
          if (!p.is_object() || p.value("status", "") != "running") return false;
          auto s = status_json(c, i);
          if (!s.is_object() || s["nodes"].size() != 5) return false;
        }
        return true;
      },
      60s));
  INFO("n1's status: " << status_json(c, all[1]).dump());
  for (int i : all) {
    int code = 0;
    CHECK(status_json(c, i, &code).value("status", "") == "running");
    CHECK(code == 200);
  }

  // 1. Kill etcd: n0 is degraded with the etcd error on every node.
  etcd.stop();
  CHECK(eventually(
      [&] {
        for (int i : all) {
          auto n0 = node_entry(c, i, "n0");
          auto p = probe_of(n0, "etcd");
          if (!p.is_object() || p.value("status", "") != "failed") return false;
          if (p.value("error", "").find(etcd_url) == std::string::npos) return false;
          if (n0.value("status", "") != "degraded") return false;
        }
        return true;
      },
      60s));
  for (int i : all) {
    int code = 0;
    CHECK(status_json(c, i, &code).value("status", "") == "degraded");
    CHECK(code == 503);
  }
  auto cli =
      run_vigil({"status", "--addr", "http://127.0.0.1:" + std::to_string(c.spec(3).http_port)});
  CHECK(cli.exit_code == 1);
  CHECK(cli.output.find("n0") != std::string::npos);
  CHECK(cli.output.find("etcd") != std::string::npos);
  CHECK(eventually([&] {
    for (int i : all)
      if (!history_has(c, i, "type=ProbeFailed&node=n0&checker=etcd")) return false;
    return true;
  }));

  // 2. Restart etcd: recovered everywhere.
  etcd.start();
  CHECK(eventually(
      [&] {
        for (int i : all)
          if (status_json(c, i).value("status", "") != "running") return false;
        return true;
      },
      60s));
  CHECK(eventually([&] {
    for (int i : all)
      if (!history_has(c, i, "type=ProbeSucceeded&node=n0&checker=etcd")) return false;
    return true;
  }));

  // 3. kill -9 n2: failed everywhere, its last probes kept, the diagnosis names it.
  c.signal(all[2], SIGKILL);
  c.wait_exit(all[2]);
  const std::vector<int> rest{all[0], all[1], all[3], all[4]};
  CHECK(eventually(
      [&] {
        for (int i : rest) {
          auto n2 = node_entry(c, i, "n2");
          if (!n2.is_object() || n2["member_status"].value("status", "") != "failed") return false;
          if (n2.value("probes", nlohmann::json::array()).empty()) return false;
          bool named = false;
          for (const auto& d : status_json(c, i).value("diagnosis", nlohmann::json::array()))
            named = named || d.value("node", "") == "n2";
          if (!named) return false;
        }
        return true;
      },
      60s));

  // 4. History survives an agent restart (n1 stops gracefully and comes back).
  c.signal(all[1], SIGTERM);
  CHECK(c.wait_exit(all[1]) == 0);
  c.restart(all[1]);
  CHECK(eventually([&] { return c.http_get(all[1], "/healthz").first == 200; }));
  CHECK(history_has(c, all[1], "type=ProbeFailed&node=n0&checker=etcd"));
}
