// disk (a real 1 MiB tmpfs), exec (real scripts, process-group kill), run_once, the default
// set detection, and the Scheduler on the real AsioExecutor with real threads and time.
#include <doctest/doctest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <asio.hpp>
#include <fstream>
#include <future>
#include <mutex>
#include <thread>

#include "checkers/asio_executor.hpp"
#include "checkers/default_set.hpp"
#include "checkers/exec.hpp"
#include "checkers/run_once.hpp"
#include "checkers/scheduler.hpp"
#include "test/checkers/real_support.hpp"
#include "test/checkers/subprocess.hpp"
#include "test/skip.hpp"

using namespace vigil::checkers;
using namespace vigil::test;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

bool contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}
std::string jq(const std::string& s) {
  return "\"" + s + "\"";
}

// Gone, or a zombie nobody reaps (PID 1 of a container may not): either way not running.
bool process_gone(int pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  if (!f) return true;
  std::string line;
  std::getline(f, line);
  auto close = line.rfind(')');
  return close != std::string::npos && close + 2 < line.size() && line[close + 2] == 'Z';
}

int read_int(const std::string& path) {
  std::ifstream f(path);
  int v = 0;
  f >> v;
  return v;
}

}  // namespace

TEST_CASE("disk: a real 1 MiB tmpfs crosses the watermarks for space and inodes") {
  if (auto r = skip_reason(true, {"mount", "dd"}); !r.empty()) return skip(r);
  TempDir dir("vigil-disk");
  std::string mnt = dir / "mnt";
  REQUIRE(run_cmd({"mkdir", "-p", mnt}).exit_code == 0);
  auto m = run_cmd({"mount", "-t", "tmpfs", "-o", "size=1m,nr_inodes=64", "vigil-test", mnt});
  if (m.exit_code != 0) return skip("cannot mount a tmpfs: " + m.output);
  std::string spec = R"({"type":"disk","paths":[)" + jq(mnt) + "]}";
  auto p = run_checker_json(spec);
  CHECK_MESSAGE(p.running(), p.error);
  CHECK(contains(p.detail, mnt + ": 0% used (warn 80%, crit 90%), inodes "));

  REQUIRE(run_cmd({"dd", "if=/dev/zero", "of=" + mnt + "/fill", "bs=1k", "count=850"}).exit_code ==
          0);
  p = run_checker_json(spec);
  CHECK(p.failed());
  CHECK(p.severity == Severity::warning);
  CHECK(contains(p.error, mnt + ": 8"));
  CHECK(contains(p.error, "% used (warn 80%)"));

  run_cmd({"dd", "if=/dev/zero", "of=" + mnt + "/fill2", "bs=1k", "count=400"});  // ENOSPC
  p = run_checker_json(spec);
  CHECK(p.failed());
  CHECK(p.severity == Severity::critical);
  CHECK(contains(p.error, mnt + ": 100% used (crit 90%)"));

  // Custom watermarks move the verdict.
  p = run_checker_json(R"({"type":"disk","warning":99.5,"critical":100,"paths":[)" + jq(mnt) +
                       "]}");
  CHECK(p.severity == Severity::critical);  // 100% >= 100

  // Inodes: free the space, then use 60 of 64 inodes.
  REQUIRE(run_cmd({"sh", "-c", "rm -f " + mnt + "/fill " + mnt + "/fill2"}).exit_code == 0);
  REQUIRE(
      run_cmd({"sh", "-c", "cd " + mnt + " && for i in $(seq 1 60); do : > f$i; done"}).exit_code ==
      0);
  p = run_checker_json(spec);
  CHECK(p.failed());
  CHECK(p.severity == Severity::critical);
  CHECK(contains(p.error, mnt + ": inodes 9"));
  CHECK(contains(p.error, "% used (crit 90%)"));
  CHECK(run_cmd({"umount", mnt}).exit_code == 0);
}

TEST_CASE("disk: a missing path is critical with the reason; bad watermarks are config errors") {
  auto p = run_checker_json(R"({"type":"disk","paths":["/", "/nonexistent-vigil"]})");
  CHECK(p.failed());
  CHECK(contains(p.error, "statvfs /nonexistent-vigil: No such file or directory"));
  CHECK(contains(p.detail, "/: "));
  p = run_checker_json(R"({"type":"disk","warning":95,"critical":90})");
  CHECK(p.error == "CONFIG: disk: warning: must be <= critical");
}

TEST_CASE("exec: exit codes map to running / warning / critical, output is captured and capped") {
  auto p = run_checker_json(R"({"type":"exec","command":"echo all fine; echo second line"})");
  CHECK(p.running());
  CHECK(p.detail == "all fine\nsecond line\n");

  p = run_checker_json(
      R"({"type":"exec","command":"echo checking; echo 'ntp offset 120ms' >&2; exit 1"})");
  CHECK(p.failed());
  CHECK(p.severity == Severity::warning);
  CHECK(p.error ==
        "exec /bin/sh -c echo checking; echo 'ntp offset 120ms' >&2; exit 1: exit 1: "
        "ntp offset 120ms");

  p = run_checker_json(R"({"type":"exec","command":["/bin/sh","-c","exit 3"]})");
  CHECK(p.failed());
  CHECK(p.severity == Severity::critical);
  CHECK(p.error == "exec /bin/sh -c exit 3: exit 3");

  p = run_checker_json(R"({"type":"exec","command":["/bin/sh","-c","echo $GREETING"],)"
                       R"("env":{"GREETING":"hello from env"}})");
  CHECK(p.detail == "hello from env\n");

  p = run_checker_json(R"({"type":"exec","command":"head -c 200000 /dev/zero | tr '\\0' x"})");
  CHECK(p.running());
  CHECK(p.detail.size() == 4096);

  p = run_checker_json(R"({"type":"exec","command":["/nonexistent/vigil-script","x"]})");
  CHECK(p.failed());
  CHECK(p.error ==
        "exec /nonexistent/vigil-script x: cannot run /nonexistent/vigil-script: No "
        "such file or directory");

  p = run_checker_json(R"({"type":"exec","command":["/bin/sh","-c","kill -9 $$"]})");
  CHECK(p.failed());
  CHECK(p.error == "exec /bin/sh -c kill -9 $$: killed by signal 9");
}

TEST_CASE("exec: a hanging script is killed at the timeout with its whole process group") {
  TempDir dir("vigil-exec");
  std::string script = dir / "hang.sh";
  REQUIRE(write_file(script, "#!/bin/sh\necho $$ > " + dir / "main.pid" +
                                 "\nsleep 300 &\necho $! > " + dir / "child.pid" +
                                 "\necho started\nwait\n"));
  REQUIRE(run_cmd({"chmod", "+x", script}).exit_code == 0);
  auto t0 = std::chrono::steady_clock::now();
  auto p = run_checker_json(R"({"type":"exec","timeout":"1s","command":[)" + jq(script) + "]}");
  auto took = std::chrono::steady_clock::now() - t0;
  CHECK(p.failed());
  CHECK(p.severity == Severity::critical);
  CHECK(p.error == "exec " + script + ": timed out, process group killed: started");
  CHECK(took < seconds(30));  // bounded by the timeout, not by `sleep 300`
  int main_pid = read_int(dir / "main.pid"), child_pid = read_int(dir / "child.pid");
  REQUIRE(main_pid > 1);
  REQUIRE(child_pid > 1);
  CHECK(wait_until([&] { return process_gone(main_pid) && process_gone(child_pid); }, seconds(10)));

  // A script that exits but leaves a background child: the group is cleaned up too.
  REQUIRE(write_file(script, "#!/bin/sh\nsleep 300 >/dev/null 2>&1 &\necho $! > " +
                                 dir / "child.pid" + "\necho done\n"));
  p = run_checker_json(R"({"type":"exec","timeout":"5s","command":[)" + jq(script) + "]}");
  CHECK(p.running());
  child_pid = read_int(dir / "child.pid");
  REQUIRE(child_pid > 1);
  CHECK(wait_until([&] { return process_gone(child_pid); }, seconds(10)));
}

TEST_CASE("run_once: runs the selected checkers concurrently and reports config errors") {
  int closed = free_port();
  std::string specs = R"([{"type":"tcp","name":"closed","timeout":"2s","address":"127.0.0.1:)" +
                      std::to_string(closed) +
                      R"("},{"type":"exec","name":"script","command":"echo ok"},)"
                      R"({"type":"exec","name":"slow","timeout":"1s","command":"sleep 30"},)"
                      R"({"type":"exec","name":"soft","severity":"warning","command":"exit 2"}])";
  auto parsed = parse_check_specs(specs);
  REQUIRE(parsed.error.empty());
  CheckerRegistry reg;
  register_builtin_checkers(reg);
  CheckerContext ctx;
  auto r = run_checkers_once(parsed.specs, reg, ctx);
  REQUIRE(r.error.empty());
  REQUIRE(r.probes.size() == 4);
  CHECK(r.probes[0].checker == "closed");
  CHECK(r.probes[0].type == "tcp");
  CHECK(r.probes[0].failed());
  CHECK(r.probes[1].running());
  CHECK(r.probes[2].failed());
  CHECK(contains(r.probes[2].error, "timed out"));
  CHECK(r.probes[3].severity == Severity::warning);  // capped by the spec's severity
  CHECK_FALSE(all_ok(r.probes));

  RunOnceOptions only;
  only.only = {"script", "soft"};
  r = run_checkers_once(parsed.specs, reg, ctx, only);
  REQUIRE(r.probes.size() == 2);
  CHECK(all_ok(r.probes));  // a failed warning does not fail `vigil check`

  only.only = {"nosuch"};
  CHECK(run_checkers_once(parsed.specs, reg, ctx, only).error ==
        "no checker named \"nosuch\" (configured: closed, script, slow, soft)");

  auto bad = parse_check_specs(R"([{"type":"tcp"},{"type":"disk","paths":[]},{"type":"warp"}])");
  REQUIRE(bad.error.empty());
  auto e = run_checkers_once(bad.specs, reg, ctx).error;
  CHECK(contains(e, "tcp: address: required"));
  CHECK(contains(e, "disk: paths: must not be empty"));
  CHECK(contains(e, "warp: unknown checker type \"warp\""));
  CHECK(parse_check_specs(R"([{"type":"tcp"},{"type":"tcp"}])").error ==
        "checkers[1]: duplicate name \"tcp\" (set \"name\" to tell two checkers of one type "
        "apart)");
}

namespace {
void make_unix_socket(const std::string& path) {
  run_cmd({"mkdir", "-p", path.substr(0, path.rfind('/'))});
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::snprintf(a.sun_path, sizeof a.sun_path, "%s", path.c_str());
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  ::close(fd);  // the socket file stays
}
}  // namespace

TEST_CASE("default set: enables what it finds and says why") {
  TempDir root("vigil-defaults");
  ::unsetenv("DBUS_SYSTEM_BUS_ADDRESS");
  DefaultSetOptions o;
  o.host_root = root.path();
  o.mesh = false;
  o.etcd_port = free_port();
  o.kubelet_port = free_port();
  auto bare = default_checkers(o);
  std::vector<std::string> types;
  for (auto& s : bare.specs) types.push_back(s.type);
  CHECK(types == std::vector<std::string>{"disk"});
  CHECK(std::find(bare.reasons.begin(), bare.reasons.end(),
                  "docker: skipped: no socket at " + root.path() + "/var/run/docker.sock") !=
        bare.reasons.end());

  make_unix_socket(root / "var/run/docker.sock");
  make_unix_socket(root / "run/containerd/containerd.sock");
  make_unix_socket(root / "run/dbus/system_bus_socket");
  run_cmd({"mkdir", "-p", root / "var/run/secrets/kubernetes.io/serviceaccount"});
  REQUIRE(write_file(root / "var/run/secrets/kubernetes.io/serviceaccount/token", "t"));
  run_cmd({"mkdir", "-p", root / "etc"});
  REQUIRE(
      write_file(root / "etc/resolv.conf", "search default.svc.cluster.local svc.cluster.local\n"));
  HttpStub kubelet;
  REQUIRE(kubelet.start());
  o.kubelet_port = kubelet.port();
  o.mesh = true;
  auto found = default_checkers(o);
  types.clear();
  for (auto& s : found.specs) types.push_back(s.type);
  CHECK(types == std::vector<std::string>{"docker", "containerd", "apiserver", "kubelet", "dns",
                                          "systemd", "disk", "ping", "time-drift"});
  CHECK(std::find(found.reasons.begin(), found.reasons.end(),
                  "kubelet: enabled: 127.0.0.1:" + std::to_string(kubelet.port()) + " answers") !=
        found.reasons.end());
  // Every default spec is valid for its factory.
  CheckerRegistry reg;
  register_builtin_checkers(reg);
  CheckerContext ctx;
  ctx.host_root = root.path();
  for (auto& s : found.specs) {
    auto made = reg.make(s, ctx);
    CHECK_MESSAGE(made.checker, made.error);
  }
}

namespace {
// Ignores its deadline on purpose: sleeps `for_` then answers running.
class Sleeper final : public Checker {
 public:
  explicit Sleeper(std::chrono::milliseconds d) : Checker("sleeper", "sleeper"), for_(d) {}
  Probe run(const CheckContext&, Deadline) override {
    std::this_thread::sleep_for(for_);
    return Probe::ok("woke up");
  }

 private:
  std::chrono::milliseconds for_;
};
}  // namespace

TEST_CASE("scheduler on the real AsioExecutor: results come back to the loop; overruns time out") {
  asio::io_context io;
  auto guard = asio::make_work_guard(io);
  std::thread loop([&] { io.run(); });
  SteadyTimeSource clock;
  std::mutex mu;
  std::vector<ProbeUpdate> updates;
  std::thread::id loop_id = loop.get_id();
  bool wrong_thread = false;
  AsioExecutor ex(io, 2);
  std::unique_ptr<Scheduler> sched;
  asio::post(io, [&] {
    SchedulerOptions o;
    o.stagger = 0;
    sched = std::make_unique<Scheduler>(
        ex, clock, [] { return CheckContext{}; },
        [&](const ProbeUpdate& u) {
          std::lock_guard lock(mu);
          wrong_thread = wrong_thread || std::this_thread::get_id() != loop_id;
          updates.push_back(u);
        },
        o);
    CheckerRegistry reg;
    register_builtin_checkers(reg);
    CheckerContext ctx;
    auto spec = parse_check_spec(R"({"type":"exec","name":"echo","interval":"1s","timeout":"1s",)"
                                 R"("command":"echo hi"})")
                    .spec;
    sched->add(reg.make(spec, ctx).checker, spec);
    CheckSpec slow;
    slow.type = "sleeper";
    slow.name = "sleeper";
    slow.interval = seconds(1);
    slow.timeout = milliseconds(200);
    slow.failure_threshold = 1;
    sched->add(std::make_unique<Sleeper>(milliseconds(1500)), slow);
    sched->start();
  });
  auto count = [&](const std::string& name, bool timed_out) {
    std::lock_guard lock(mu);
    return std::count_if(updates.begin(), updates.end(), [&](const ProbeUpdate& u) {
      return u.probe.checker == name && u.timed_out == timed_out;
    });
  };
  CHECK(wait_until([&] { return count("echo", false) >= 2 && count("sleeper", true) >= 1; },
                   seconds(30)));
  {
    std::lock_guard lock(mu);
    CHECK_FALSE(wrong_thread);
    for (auto& u : updates) {
      if (u.probe.checker == "echo") CHECK(u.probe.detail == "hi\n");
      if (u.probe.checker == "sleeper") {
        CHECK(u.timed_out);  // its late "woke up" was dropped
        CHECK(u.probe.failed());
      }
    }
  }
  std::promise<void> stopped;
  asio::post(io, [&] {
    sched.reset();
    stopped.set_value();
  });
  stopped.get_future().wait();
  guard.reset();
  io.stop();
  loop.join();
}
