#include "test/e2e/agent_fixture.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace vigil::e2e {
namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// What an agent under test may inherit: nothing that points it at the host's cluster or
// network (its own VIGIL_* settings, the pod's API server and zone, proxies, the system bus).
bool hermetic_env_key(const std::string& key) {
  static const char* const dropped[] = {
      "NODE_NAME",  "http_proxy",  "https_proxy", "no_proxy",  "all_proxy",
      "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY",    "ALL_PROXY", "DBUS_SYSTEM_BUS_ADDRESS"};
  if (key.rfind("VIGIL_", 0) == 0 || key.rfind("KUBERNETES_", 0) == 0) return false;
  for (const char* d : dropped)
    if (key == d) return false;
  return true;
}

// Spawns VIGIL_BIN with args, output to `log_path`, environment = ours (hermetic) + `env`.
pid_t spawn_vigil(const std::vector<std::string>& args,
                  const std::map<std::string, std::string>& env, const std::string& log_path) {
  std::vector<std::string> argv_s{VIGIL_BIN};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : argv_s) argv.push_back(s.data());
  argv.push_back(nullptr);

  std::map<std::string, std::string> merged;
  for (char** e = environ; *e; ++e) {
    std::string kv(*e);
    auto eq = kv.find('=');
    if (eq == std::string::npos) continue;
    const std::string key = kv.substr(0, eq);
    if (!hermetic_env_key(key)) continue;
    merged[key] = kv.substr(eq + 1);
  }
  for (const auto& [k, v] : env) merged[k] = v;
  std::vector<std::string> env_s;
  for (const auto& [k, v] : merged) env_s.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& s : env_s) envp.push_back(s.data());
  envp.push_back(nullptr);

  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) throw std::runtime_error("posix_spawn " + argv_s[0] + " failed");
  return pid;
}

// waitpid with a deadline; kills (SIGKILL) and reaps on timeout. Exit code or -1.
int reap(pid_t pid, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  for (;;) {
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (r < 0) return -1;
    if (std::chrono::steady_clock::now() >= deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(20ms);
  }
}

}  // namespace

gossip::GossipConfig fixture_gossip() {
  // Fast timings for loopback: detection within a few seconds, push-pull often.
  gossip::GossipConfig g = gossip::GossipConfig::local();
  g.probe_interval = 200ms;
  g.probe_timeout = 80ms;
  g.gossip_interval = 50ms;
  g.suspicion_mult = 3;
  g.suspicion_max_timeout_mult = 4;
  g.push_pull_interval = 2s;
  g.reconnect_interval = 1s;
  g.stream_timeout = 1s;
  g.gossip_to_the_dead_time = 10s;
  return g;
}

std::string gossip_json(const gossip::GossipConfig& g) {
  auto ms = [](gossip::Duration d) {
    return "\"" + std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(d).count()) +
           "ms\"";
  };
  std::ostringstream o;
  o << "\"gossip\": {\"probe_interval\": " << ms(g.probe_interval)
    << ", \"probe_timeout\": " << ms(g.probe_timeout)
    << ", \"indirect_checks\": " << g.indirect_checks
    << ", \"suspicion_mult\": " << g.suspicion_mult
    << ", \"suspicion_max_timeout_mult\": " << g.suspicion_max_timeout_mult
    << ", \"awareness_max_multiplier\": " << g.awareness_max_multiplier
    << ", \"retransmit_mult\": " << g.retransmit_mult
    << ", \"gossip_interval\": " << ms(g.gossip_interval)
    << ", \"push_pull_interval\": " << ms(g.push_pull_interval)
    << ", \"reconnect_interval\": " << ms(g.reconnect_interval)
    << ", \"stream_timeout\": " << ms(g.stream_timeout)
    << ", \"gossip_to_the_dead_time\": " << ms(g.gossip_to_the_dead_time) << "}";
  return o.str();
}

gossip::Duration suspicion_max(const gossip::GossipConfig& g, std::size_t n) {
  return g.suspicion_max_timeout_mult * gossip::suspicion_min_timeout(g, n);
}

std::string icmp_unavailable() {
  for (int type : {SOCK_DGRAM, SOCK_RAW}) {
    const int s = socket(AF_INET, type, IPPROTO_ICMP);
    if (s >= 0) {
      close(s);
      return {};
    }
  }
  return "no ICMP socket for the ping checker: gid " + std::to_string(getgid()) +
         " outside net.ipv4.ping_group_range and no CAP_NET_RAW (run as root)";
}

nlohmann::json probe_of(const nlohmann::json& node, const std::string& checker) {
  if (!node.is_object()) return nullptr;
  for (const auto& p : node.value("probes", nlohmann::json::array()))
    if (p.value("checker", "") == checker) return p;
  return nullptr;
}

bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (pred()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return pred();
    std::this_thread::sleep_for(50ms);
  }
}

ProcResult run_vigil(const std::vector<std::string>& args,
                     const std::map<std::string, std::string>& env,
                     std::chrono::milliseconds timeout) {
  char path[] = "/tmp/vigil-e2e-out-XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) throw std::runtime_error("mkstemp failed");
  close(fd);
  ProcResult r;
  pid_t pid = spawn_vigil(args, env, path);
  r.exit_code = reap(pid, timeout);
  r.output = read_file(path);
  std::remove(path);
  return r;
}

Cluster::Cluster() {
  char tmpl[] = "/tmp/vigil-e2e-XXXXXX";
  if (!mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
  dir_ = tmpl;
  config_ = write_config("config.json", "");
}

std::string Cluster::hermetic_checkers() const {
  // The default set without what depends on the host (docker/containerd sockets, kubelet and
  // etcd ports, the system bus, the API server): only the agents themselves and their dir.
  return R"([{"type": "disk", "paths": [")" + dir_ +
         R"("]}, {"type": "ping"}, )"
         R"({"type": "time-drift"}])";
}

std::string Cluster::write_config(const std::string& file, const std::string& checkers_json) {
  const std::string path = dir_ + "/" + file;
  std::ofstream(path) << "{\n  \"profile\": \"local\",\n  \"data_dir\": \"" << dir_ << "\",\n"
                      << "  \"checkers\": "
                      << (checkers_json.empty() ? hermetic_checkers() : checkers_json) << ",\n  "
                      << gossip_json(fixture_gossip()) << "\n}\n";
  return path;
}

Cluster::~Cluster() {
  for (Agent& a : agents_) {
    if (a.pid > 0) {
      kill(a.pid, SIGKILL);
      reap(a.pid, 5s);
      a.pid = -1;
    }
  }
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::string Cluster::write_keyring(const std::string& file, const std::vector<std::string>& keys) {
  const std::string path = dir_ + "/" + file;
  nlohmann::json j = keys;
  std::ofstream(path) << j.dump();
  return path;
}

int Cluster::start(AgentSpec spec) {
  const bool pick_gossip = spec.gossip_port == 0, pick_http = spec.http_port == 0;
  Agent a;
  a.spec = std::move(spec);
  a.log_path = dir_ + "/" + a.spec.name + ".log";
  // The ports come from this process's reserved block (test/ports.cpp), so no other test can
  // take them; if something outside that scheme did anyway, the agent exits saying the address
  // is in use and starts again on new ports (bounded).
  for (int attempt = 1;; ++attempt) {
    if (pick_gossip) a.spec.gossip_port = free_port();
    if (pick_http) a.spec.http_port = free_port();
    const std::size_t log_from = read_file(a.log_path).size();  // this attempt's output only
    spawn(a);
    const bool retry = (pick_gossip || pick_http) && attempt < test::kPortAttempts;
    if (!exited_address_in_use(a, log_from, 15s) || !retry) break;
    reap(a.pid, 5s);
    a.pid = -1;
    std::ofstream(a.log_path, std::ios::app)
        << "--- test fixture: address in use, starting again on new ports\n";
  }
  agents_.push_back(std::move(a));
  return static_cast<int>(agents_.size()) - 1;
}

bool Cluster::exited_address_in_use(Agent& a, std::size_t log_from,
                                    std::chrono::milliseconds timeout) {
  auto output = [&] {
    const std::string all = read_file(a.log_path);
    return all.size() > log_from ? all.substr(log_from) : std::string();
  };
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    siginfo_t info{};
    // WNOWAIT: look without reaping, so wait_exit() still gets the exit code.
    const int r = waitid(P_PID, static_cast<id_t>(a.pid), &info, WEXITED | WNOHANG | WNOWAIT);
    if (r == 0 && info.si_pid == a.pid) return test::address_in_use(output());
    if (output().find("agent started") != std::string::npos) return false;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
}

void Cluster::spawn(Agent& a) {
  const AgentSpec& s = a.spec;
  const std::string bind = "127.0.0.1:" + std::to_string(s.gossip_port);
  const std::string http = "127.0.0.1:" + std::to_string(s.http_port);
  std::vector<std::string> args{"agent"};
  std::map<std::string, std::string> env = s.env;
  std::string joins;
  for (const auto& j : s.join) joins += (joins.empty() ? "" : ",") + j;
  const std::string& config = s.config.empty() ? config_ : s.config;
  // Every agent keeps its own history database, as on separate nodes.
  const std::string data_dir = dir_ + "/data-" + s.name;
  if (s.flags_via_env) {
    env["VIGIL_CONFIG"] = config;
    env["VIGIL_DATA_DIR"] = data_dir;
    env["VIGIL_NAME"] = s.name;
    env["VIGIL_BIND"] = bind;
    env["VIGIL_HTTP"] = http;
    if (!joins.empty()) env["VIGIL_JOIN"] = joins;
    if (!s.keyring.empty()) env["VIGIL_KEYRING"] = s.keyring;
  } else {
    args.insert(args.end(), {"--config", config, "--name", s.name, "--bind", bind, "--http", http,
                             "--data-dir", data_dir});
    for (const auto& j : s.join) args.insert(args.end(), {"--join", j});
    if (!s.keyring.empty()) args.insert(args.end(), {"--keyring", s.keyring});
  }
  args.insert(args.end(), s.extra.begin(), s.extra.end());
  a.pid = spawn_vigil(args, env, a.log_path);
}

void Cluster::restart(int i) {
  Agent& a = agents_.at(i);
  if (a.pid > 0) throw std::logic_error("restart of a running agent");
  spawn(a);
}

void Cluster::signal(int i, int sig) {
  if (agents_.at(i).pid > 0) kill(agents_.at(i).pid, sig);
}

int Cluster::wait_exit(int i, std::chrono::milliseconds timeout) {
  Agent& a = agents_.at(i);
  if (a.pid <= 0) return -1;
  int code = reap(a.pid, timeout);
  a.pid = -1;
  return code;
}

bool Cluster::running(int i) const {
  return agents_.at(i).pid > 0;
}

std::string Cluster::gossip_addr(int i) const {
  return "127.0.0.1:" + std::to_string(agents_.at(i).spec.gossip_port);
}

std::pair<int, std::string> Cluster::http_get(int i, const std::string& path) const {
  httplib::Client c("127.0.0.1", agents_.at(i).spec.http_port);
  c.set_connection_timeout(2s);
  c.set_read_timeout(5s);
  auto res = c.Get(path.c_str());
  if (!res) return {0, ""};
  return {res->status, res->body};
}

std::optional<nlohmann::json> Cluster::members(int i) const {
  auto [status, body] = http_get(i, "/v1/members");
  if (status != 200) return std::nullopt;
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (!j.is_array()) return std::nullopt;
  return j;
}

std::string Cluster::status_of(int i, const std::string& name) const {
  auto m = members(i);
  if (!m) return "";
  for (const auto& e : *m) {
    if (e.value("name", "") == name) return e.value("status", "");
  }
  return "";
}

long Cluster::incarnation_of(int i, const std::string& name) const {
  auto m = members(i);
  if (!m) return -1;
  for (const auto& e : *m) {
    if (e.value("name", "") == name) return e.value("incarnation", -1L);
  }
  return -1;
}

double Cluster::metric(int i, const std::string& sample) const {
  auto [status, body] = http_get(i, "/metrics");
  if (status != 200) return -1;
  std::istringstream in(body);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(sample + " ", 0) == 0) return std::stod(line.substr(sample.size() + 1));
  }
  return -1;
}

std::string Cluster::log(int i) const {
  return read_file(agents_.at(i).log_path);
}

}  // namespace vigil::e2e
