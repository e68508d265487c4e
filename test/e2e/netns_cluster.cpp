#include "test/e2e/netns_cluster.hpp"

#include <fcntl.h>
#include <httplib.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "test/checkers/subprocess.hpp"

extern char** environ;

namespace vigil::e2e {
namespace {

std::string ms_text(gossip::Duration d) {
  return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(d).count()) + "ms";
}

// Runs `fn` on a thread that entered network namespace `ns` first; false when it could not.
bool in_netns(const std::string& ns, const std::function<void()>& fn) {
  bool entered = false;
  std::thread t([&] {
    const std::string path = "/run/netns/" + ns;
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    // Per thread: only this thread's sockets live in the namespace. On failure we return
    // before any socket is made (and the root namespace blackholes the subnet anyway).
    entered = ::setns(fd, CLONE_NEWNET) == 0;
    ::close(fd);
    if (entered) fn();
  });
  t.join();
  return entered;
}

// fork + exec of argv (`ip netns exec NS vigil ...`, which execs the agent in place, so the PID
// is the agent's), stdout+stderr appended to `log`, stdin /dev/null, own process group, and an
// environment without VIGIL_* variables (hermetic). Returns the PID or -1.
pid_t spawn(const std::vector<std::string>& argv, const std::string& log) {
  std::vector<std::string> env_s;
  for (char** e = environ; *e; ++e) {
    if (std::strncmp(*e, "VIGIL_", 6) != 0 && std::strncmp(*e, "NODE_NAME=", 10) != 0)
      env_s.emplace_back(*e);
  }
  std::vector<char*> args, envp;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  for (auto& e : env_s) envp.push_back(e.data());
  envp.push_back(nullptr);
  const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return -1;
  const pid_t pid = ::fork();
  if (pid == 0) {  // only async-signal-safe calls from here
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    const int null = ::open("/dev/null", O_RDONLY);
    if (null >= 0) ::dup2(null, 0);
    ::setpgid(0, 0);
    ::execve(args[0], args.data(), envp.data());
    ::_exit(127);
  }
  ::close(fd);
  return pid;
}

std::string file_tail(const std::string& path, std::size_t max) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  return s.size() > max ? s.substr(s.size() - max) : s;
}

}  // namespace

gossip::GossipConfig netns_timings() {
  gossip::GossipConfig c = gossip::GossipConfig::local();
  c.probe_interval = std::chrono::milliseconds(500);
  c.probe_timeout = std::chrono::milliseconds(200);
  c.indirect_checks = 3;
  // LAN's 4, not local's 2: with 2, a refutation after a heal missed one node for > 1.5 s (the
  // minimum suspicion) in soak runs and under ASan (a same-side node declared failed).
  c.retransmit_mult = 4;
  c.suspicion_mult = 3;
  c.suspicion_max_timeout_mult = 4;
  c.gossip_interval = std::chrono::milliseconds(100);
  c.push_pull_interval = std::chrono::seconds(5);
  c.reconnect_interval = std::chrono::seconds(1);
  c.stream_timeout = std::chrono::seconds(1);
  c.gossip_to_the_dead_time = std::chrono::seconds(10);
  return c;
}

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string rfc3339(std::int64_t ms) {
  const auto secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  return buf;
}

std::int64_t parse_rfc3339(const std::string& text) {
  std::tm tm{};
  int msec = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ", &tm.tm_year, &tm.tm_mon,
                  &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &msec) < 6)
    return -1;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<std::int64_t>(::timegm(&tm)) * 1000 + msec;
}

NetnsCluster::NetnsCluster(int nodes, const std::string& vigil_bin, const std::string& tag,
                           gossip::GossipConfig timings)
    : n_(nodes),
      timings_(std::move(timings)),
      bin_(vigil_bin),
      agents_(static_cast<std::size_t>(nodes) + 1) {
  const int pid = static_cast<int>(::getpid());
  prefix_ = tag.substr(0, 4) + std::to_string(pid);
  // 10.200.200-249.0/24: apart from the checkers' NetnsMesh (10.200.100-199).
  subnet_ = "10.200." + std::to_string(200 + pid % 50);
  char tmpl[] = "/tmp/vigil-netns-XXXXXX";
  if (!::mkdtemp(tmpl)) {
    error_ = "mkdtemp failed";
    return;
  }
  dir_ = tmpl;
  ip_bin_ = test::find_exe("ip");
  auto step = [&](const std::vector<std::string>& argv) {
    if (error_.empty()) error_ = run(argv);
  };
  step({"ip", "route", "replace", "blackhole", subnet_ + ".0/24"});  // the guard
  const std::string sw = prefix_ + "-sw";
  step({"ip", "netns", "add", sw});
  step({"ip", "-n", sw, "link", "set", "lo", "up"});
  step({"ip", "-n", sw, "link", "add", "br0", "type", "bridge"});
  step({"ip", "-n", sw, "addr", "add", gateway() + "/24", "dev", "br0"});
  step({"ip", "-n", sw, "link", "set", "br0", "up"});
  for (int i = 1; i <= n_; ++i) {
    const std::string v = "v" + std::to_string(i);
    step({"ip", "netns", "add", ns(i)});
    step({"ip", "-n", ns(i), "link", "set", "lo", "up"});
    step(
        {"ip", "-n", ns(i), "link", "add", "eth0", "type", "veth", "peer", "name", v, "netns", sw});
    step({"ip", "-n", sw, "link", "set", v, "master", "br0", "up"});
    step({"ip", "-n", ns(i), "addr", "add", ip(i) + "/24", "dev", "eth0"});
    step({"ip", "-n", ns(i), "link", "set", "eth0", "up"});
    // Per namespace, default "1 0": unprivileged ICMP sockets denied even to root.
    step({"ip", "netns", "exec", ns(i), "sysctl", "-qw", "net.ipv4.ping_group_range=0 2147483647"});
    std::filesystem::create_directories(data_dir(i));
  }
}

NetnsCluster::~NetnsCluster() {
  for (int i = 1; i <= n_; ++i) {
    Agent& a = agents_[static_cast<std::size_t>(i)];
    if (a.pid > 0) {
      ::kill(a.pid, SIGCONT);  // a test may have left it stopped
      ::kill(a.pid, SIGKILL);
      ::waitpid(a.pid, nullptr, 0);
      a.pid = -1;
    }
  }
  for (int i = 1; i <= n_; ++i) run({"ip", "netns", "del", ns(i)});
  run({"ip", "netns", "del", prefix_ + "-sw"});
  run({"ip", "route", "del", "blackhole", subnet_ + ".0/24"});
  if (!dir_.empty()) {
    // Unmount anything a test mounted below the dir (a full-disk tmpfs), then remove it.
    std::ifstream mi("/proc/self/mountinfo");
    std::string line;
    std::vector<std::string> mounts;
    while (std::getline(mi, line)) {
      std::istringstream ls(line);
      std::string id, parent, dev, root, point;
      ls >> id >> parent >> dev >> root >> point;
      if (point.rfind(dir_ + "/", 0) == 0) mounts.push_back(point);
    }
    for (const auto& m : mounts) run({"umount", "-l", m});
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

std::string NetnsCluster::ns(int i) const {
  return prefix_ + "-n" + std::to_string(i);
}
std::string NetnsCluster::sw_ns() const {
  return prefix_ + "-sw";
}
std::string NetnsCluster::ip(int i) const {
  return subnet_ + "." + std::to_string(i);
}
std::string NetnsCluster::name(int i) const {
  return "n" + std::to_string(i);
}
std::string NetnsCluster::gateway() const {
  return subnet_ + ".254";
}
std::string NetnsCluster::data_dir(int i) const {
  return dir_ + "/data-" + name(i);
}
std::string NetnsCluster::flag_path(int i) const {
  return dir_ + "/flag-" + name(i);
}

std::string NetnsCluster::exec(int i, const std::vector<std::string>& argv) const {
  std::vector<std::string> full = {"ip", "netns", "exec", ns(i)};
  full.insert(full.end(), argv.begin(), argv.end());
  return run(full);
}

std::string NetnsCluster::exec_sw(const std::vector<std::string>& argv) const {
  std::vector<std::string> full = {"ip", "netns", "exec", prefix_ + "-sw"};
  full.insert(full.end(), argv.begin(), argv.end());
  return run(full);
}

std::string NetnsCluster::run(const std::vector<std::string>& argv) const {
  test::RunResult r = test::run_cmd(argv, std::chrono::seconds(20));
  if (r.exit_code == 0) return {};
  std::string cmd;
  for (const auto& a : argv) cmd += (cmd.empty() ? "" : " ") + a;
  return cmd + ": exit " + std::to_string(r.exit_code) + ": " + r.output;
}

// --- agents -------------------------------------------------------------------------------

std::string NetnsCluster::default_checkers(int i) const {
  auto ms = [](std::chrono::milliseconds d) { return std::to_string(d.count()) + "ms"; };
  return R"([{"type": "ping", "name": "ping", "interval": ")" + ms(NetnsPing::interval) +
         R"(", "timeout": ")" + ms(NetnsPing::timeout) + R"(",
    "failure_threshold": 1, "count": 3, "packet_interval": "50ms", "reply_timeout": "400ms",
    "mtu": )" +
         std::to_string(NetnsPing::mtu) + R"(, "mtu_interval": ")" + ms(NetnsPing::mtu_interval) +
         R"(",
    "targets": ["gateway=)" +
         gateway() + R"("]},
   {"type": "exec", "name": "flag", "interval": "1s", "timeout": "900ms",
    "failure_threshold": 1, "severity": "warning", "command": "test ! -e )" +
         flag_path(i) + R"("}])";
}

void NetnsCluster::set_checkers(int i, const std::string& checkers_json) {
  agents_.at(static_cast<std::size_t>(i)).checkers = checkers_json;
}

void NetnsCluster::write_config(int i) const {
  const gossip::GossipConfig& c = timings_;
  const std::string& chk = agents_.at(static_cast<std::size_t>(i)).checkers;
  std::ofstream(dir_ + "/config-" + name(i) + ".json")
      << R"({
  "profile": "local",
  "checkers": )"
      << (chk.empty() ? default_checkers(i) : chk) << R"(,
  "gossip": {
    "probe_interval": ")"
      << ms_text(c.probe_interval) << R"(", "probe_timeout": ")" << ms_text(c.probe_timeout)
      << R"(", "indirect_checks": )" << c.indirect_checks << R"(, "retransmit_mult": )"
      << c.retransmit_mult << R"(,
    "suspicion_mult": )"
      << c.suspicion_mult << R"(, "suspicion_max_timeout_mult": )" << c.suspicion_max_timeout_mult
      << R"(, "gossip_interval": ")" << ms_text(c.gossip_interval) << R"(",
    "push_pull_interval": ")"
      << ms_text(c.push_pull_interval) << R"(", "reconnect_interval": ")"
      << ms_text(c.reconnect_interval) << R"(", "stream_timeout": ")" << ms_text(c.stream_timeout)
      << R"(",
    "gossip_to_the_dead_time": ")"
      << ms_text(c.gossip_to_the_dead_time) << R"("
  }
})";
}

bool NetnsCluster::start(int i) {
  return start_with(i, {});
}

void NetnsCluster::signal(int i, int sig) {
  Agent& a = agents_.at(static_cast<std::size_t>(i));
  if (a.pid <= 0) return;
  if (sig == SIGKILL || sig == SIGTERM || sig == SIGINT) a.expect_exit = true;
  ::kill(a.pid, sig);
}

void NetnsCluster::note_exit(int i, int status) {
  Agent& a = agents_.at(static_cast<std::size_t>(i));
  if (!a.expect_exit) {
    std::string why = WIFEXITED(status) ? "exit " + std::to_string(WEXITSTATUS(status))
                                        : "signal " + std::to_string(WTERMSIG(status));
    crashes_.push_back(name(i) + ": " + why + "; log tail:\n" + log_tail(i, 1500));
  }
  a.pid = -1;
  a.expect_exit = false;
}

int NetnsCluster::wait_exit(int i, std::chrono::milliseconds timeout) {
  Agent& a = agents_.at(static_cast<std::size_t>(i));
  if (a.pid <= 0) return -1;
  const auto deadline = Clock::now() + timeout;
  int status = 0;
  for (;;) {
    const pid_t r = ::waitpid(a.pid, &status, WNOHANG);
    if (r == a.pid) break;
    if (r < 0) {
      a.pid = -1;
      return -1;
    }
    if (Clock::now() >= deadline) {
      ::kill(a.pid, SIGKILL);
      ::waitpid(a.pid, &status, 0);
      a.expect_exit = true;
      note_exit(i, status);
      return -1;
    }
    std::this_thread::sleep_for(20ms);
  }
  note_exit(i, status);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void NetnsCluster::kill9(int i) {
  signal(i, SIGKILL);
  wait_exit(i, 10s);
}

bool NetnsCluster::running(int i) {
  Agent& a = agents_.at(static_cast<std::size_t>(i));
  if (a.pid <= 0) return false;
  int status = 0;
  const pid_t r = ::waitpid(a.pid, &status, WNOHANG);
  if (r == a.pid) {
    note_exit(i, status);
    return false;
  }
  return r == 0;
}

pid_t NetnsCluster::pid(int i) const {
  return agents_.at(static_cast<std::size_t>(i)).pid;
}

long NetnsCluster::rss_kib(int i) const {
  const pid_t p = pid(i);
  if (p <= 0) return -1;
  std::ifstream in("/proc/" + std::to_string(p) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return -1;
}

std::string NetnsCluster::log_tail(int i, std::size_t max) const {
  return file_tail(dir_ + "/" + name(i) + ".log", max);
}

// --- faults -------------------------------------------------------------------------------

std::string NetnsCluster::cut(int i, bool down) {
  return run(
      {"ip", "-n", prefix_ + "-sw", "link", "set", "v" + std::to_string(i), down ? "down" : "up"});
}

std::string NetnsCluster::partition(const std::vector<int>& a, const std::vector<int>& b,
                                    const std::string& protocols) {
  auto set = [&](const std::vector<int>& g) {
    std::string s;
    for (int i : g) s += (s.empty() ? "" : ", ") + ip(i);
    return "{ " + s + " }";
  };
  const std::string rules =
      "table bridge vigil_partition {\n chain forward_chain {\n  type filter hook forward "
      "priority 0; policy accept;\n  ip saddr " +
      set(a) + " ip daddr " + set(b) + " meta l4proto { " + protocols + " } drop\n  ip saddr " +
      set(b) + " ip daddr " + set(a) + " meta l4proto { " + protocols + " } drop\n }\n}\n";
  const std::string file = dir_ + "/partition.nft";
  std::ofstream(file) << rules;
  std::string err = exec_sw({"nft", "-f", file});
  if (err.empty()) partitioned_ = true;
  return err;
}

std::string NetnsCluster::heal_partition() {
  if (!partitioned_) return {};
  partitioned_ = false;
  return exec_sw({"nft", "delete", "table", "bridge", "vigil_partition"});
}

std::string NetnsCluster::set_bridge_mtu(int i, int mtu) {
  return run({"ip", "-n", prefix_ + "-sw", "link", "set", "v" + std::to_string(i), "mtu",
              std::to_string(mtu)});
}

std::string NetnsCluster::set_loss(int i, double fraction) {
  // Remove by flushing both chains of the node's own namespace (nothing else adds rules there).
  std::string err = exec(i, {"iptables", "-F", "INPUT"});
  if (err.empty()) err = exec(i, {"iptables", "-F", "OUTPUT"});
  if (!err.empty() || fraction <= 0) return err;
  char p[32];
  std::snprintf(p, sizeof p, "%.4f", fraction);
  err = exec(i, {"iptables", "-A", "INPUT", "-i", "eth0", "-m", "statistic", "--mode", "random",
                 "--probability", p, "-j", "DROP"});
  if (err.empty()) {
    err = exec(i, {"iptables", "-A", "OUTPUT", "-o", "eth0", "-m", "statistic", "--mode", "random",
                   "--probability", p, "-j", "DROP"});
  }
  return err;
}

// --- clients ------------------------------------------------------------------------------

std::pair<int, std::string> NetnsCluster::get(int i, const std::string& path) const {
  std::pair<int, std::string> out{0, ""};
  const std::string host = ip(i);
  in_netns(ns(i), [&] {
    httplib::Client c(host, 7947);
    c.set_connection_timeout(2s);
    c.set_read_timeout(5s);
    auto res = c.Get(path.c_str());
    if (res) out = {res->status, res->body};
  });
  return out;
}

nlohmann::json NetnsCluster::get_json(int i, const std::string& path) const {
  auto [status, body] = get(i, path);
  if (status != 200 && status != 503) return nullptr;
  return nlohmann::json::parse(body, nullptr, false);
}

std::vector<std::pair<std::string, std::string>> NetnsCluster::members(int i) const {
  std::vector<std::pair<std::string, std::string>> out;
  auto j = get_json(i, "/v1/members");
  if (!j.is_array()) return out;
  for (const auto& m : j) out.emplace_back(m.value("name", ""), m.value("status", ""));
  return out;
}

std::string NetnsCluster::member_status(int i, int j) const {
  for (const auto& [n, s] : members(i)) {
    if (n == name(j)) return s;
  }
  return "";
}

std::optional<double> NetnsCluster::metric(int i, const std::string& series) const {
  auto [status, body] = get(i, "/metrics");
  if (status != 200) return std::nullopt;
  std::istringstream in(body);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return std::nullopt;
}

bool NetnsCluster::has_metric_family(int i, const std::string& family) const {
  auto [status, body] = get(i, "/metrics");
  if (status != 200) return false;
  std::istringstream in(body);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(family + "{", 0) == 0 || line.rfind(family + " ", 0) == 0) return true;
  }
  return false;
}

std::pair<int, std::string> NetnsCluster::cli(int i, const std::vector<std::string>& args) const {
  std::vector<std::string> argv = {"ip", "netns", "exec", ns(i), bin_};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.insert(argv.end(), {"--addr", "http://" + ip(i) + ":7947"});
  test::RunResult r = test::run_cmd(argv, std::chrono::seconds(20));
  return {r.exit_code, r.output};
}

// --- bounds -------------------------------------------------------------------------------

Seconds NetnsCluster::detect_bound() const {
  const gossip::GossipConfig& c = timings_;
  const auto n = static_cast<std::size_t>(n_);
  const gossip::Duration pass = c.probe_interval * static_cast<long>(n_ - 1);
  const gossip::Duration suspicion_max =
      gossip::suspicion_min_timeout(c, n) * c.suspicion_max_timeout_mult;
  return Seconds(pass + c.probe_interval + suspicion_max +
                 gossip::push_pull_scaled(c.push_pull_interval, n)) +
         slack();
}

Seconds NetnsCluster::converge_bound() const {
  const gossip::GossipConfig& c = timings_;
  const auto n = static_cast<std::size_t>(n_);
  const gossip::Duration suspicion_max =
      gossip::suspicion_min_timeout(c, n) * c.suspicion_max_timeout_mult;
  return Seconds(suspicion_max + c.reconnect_interval * 5 +
                 gossip::push_pull_scaled(c.push_pull_interval, n)) +
         slack();
}

Seconds NetnsCluster::isolated_detect_bound() const {
  const gossip::GossipConfig& c = timings_;
  return detect_bound() +
         Seconds(c.probe_interval * static_cast<long>(n_ - 1) * (c.awareness_max_multiplier - 1));
}

bool NetnsCluster::converged(const std::string& want_stopped) const {
  for (int i = 1; i <= n_; ++i) {
    if (pid(i) <= 0) continue;
    const auto m = members(i);
    if (m.empty()) return false;
    for (int j = 1; j <= n_; ++j) {
      std::string st;
      for (const auto& [nm, s] : m) {
        if (nm == name(j)) st = s;
      }
      if (pid(j) > 0 && st != "alive") return false;
      if (pid(j) <= 0 && !want_stopped.empty() && st != want_stopped) return false;
    }
  }
  return true;
}

bool NetnsCluster::eventually(const std::function<bool()>& pred, Seconds timeout) {
  const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(timeout);
  for (;;) {
    if (pred()) return true;
    if (Clock::now() >= deadline) return pred();
    std::this_thread::sleep_for(100ms);
  }
}

bool NetnsCluster::start_with(int i, const std::vector<std::string>& extra_args) {
  Agent& a = agents_.at(static_cast<std::size_t>(i));
  if (running(i)) return false;
  write_config(i);
  std::vector<std::string> argv = {
      ip_bin_,  "netns",         "exec",       ns(i),
      bin_,     "agent",         "--config",   dir_ + "/config-" + name(i) + ".json",
      "--name", name(i),         "--bind",     ip(i) + ":7946",
      "--http", ip(i) + ":7947", "--data-dir", data_dir(i)};
  for (int j = 1; j <= n_; ++j) {
    if (j != i) argv.insert(argv.end(), {"--join", ip(j) + ":7946"});
  }
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  a.pid = spawn(argv, dir_ + "/" + name(i) + ".log");
  a.expect_exit = false;
  return a.pid > 0;
}

}  // namespace vigil::e2e
