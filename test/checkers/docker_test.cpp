// docker checker against a real dockerd started by the test (own data-root, exec-root and
// socket under a temp dir; no iptables, no bridge), tracked and stopped by PID.
#include <doctest/doctest.h>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "checkers/docker.hpp"
#include "checkers/spec_reader.hpp"
#include "test/checkers/subprocess.hpp"
#include "test/skip.hpp"

using namespace vigil::checkers;
using namespace vigil::test;
using namespace std::chrono_literals;

namespace {

const std::string kSkip = skip_reason(true, {"dockerd", "/usr/bin/docker"}, {"/bin/busybox"});

std::unique_ptr<Checker> make_checker(const std::string& socket) {
  auto spec =
      parse_check_spec(std::string_view(R"({"type": "docker", "socket": ")" + socket + R"("})"));
  REQUIRE(spec.error.empty());
  CheckerContext cc;
  auto made = make_docker_checker(spec.spec, cc);
  REQUIRE_MESSAGE(made.checker, made.error);
  return std::move(made.checker);
}

Probe run_once(Checker& c, Duration timeout = 5s) {
  CheckContext ctx;
  return c.run(ctx, Deadline::in(timeout));
}

struct Dockerd {
  TempDir dir{"vigil-dockerd-"};
  Process proc;
  std::string sock = dir / "docker.sock";
  std::string log = dir / "dockerd.log";

  void start() {
    std::string err;
    REQUIRE_MESSAGE(
        proc.start({"dockerd", "--data-root", dir / "data", "--exec-root", dir / "exec", "-H",
                    "unix://" + sock, "--pidfile", dir / "docker.pid", "--iptables=false",
                    "--ip6tables=false", "--bridge=none", "--ip-masq=false"},
                   log, {}, &err),
        err);
    auto c = make_checker(sock);
    bool up = wait_until([&] { return run_once(*c, 2s).running(); }, 60s);
    REQUIRE_MESSAGE(up, "dockerd did not answer /_ping within 60s: " << file_tail(log));
  }
  RunResult docker(std::vector<std::string> args) {
    args.insert(args.begin(), {"/usr/bin/docker", "-H", "unix://" + sock});
    return run_cmd(args, 60s);
  }
  ~Dockerd() {
    proc.stop(20s);
    kill_processes_mentioning(dir.path());  // containerd/shims it may have left behind
  }
};

}  // namespace

TEST_CASE("docker: running daemon, then stopped daemon") {
  if (!kSkip.empty()) return skip(kSkip);
  Dockerd d;
  d.start();
  auto c = make_checker(d.sock);
  Probe p = run_once(*c);
  CHECK(p.running());
  CHECK_MESSAGE(p.detail.find("storage driver") != std::string::npos, p.detail);
  CHECK_MESSAGE(p.detail.find("running") != std::string::npos, p.detail);

  d.proc.stop(20s);
  p = run_once(*c);
  CHECK(p.failed());
  CHECK(p.severity == Severity::critical);
  CHECK_MESSAGE(p.error.find(d.sock) != std::string::npos, p.error);
  // The socket file may linger (refused) or be removed (no such file): both are named.
  bool named = p.error.find("Connection refused") != std::string::npos ||
               p.error.find("No such file") != std::string::npos;
  CHECK_MESSAGE(named, p.error);
  CHECK_MESSAGE(p.error.find("is dockerd running?") != std::string::npos, p.error);
}

TEST_CASE("docker: an unhealthy container is a warning naming it") {
  if (!kSkip.empty()) return skip(kSkip);
  Dockerd d;
  d.start();
  // No registry here: import a busybox-static rootfs as an image.
  TempDir rootfs("vigil-rootfs-");
  REQUIRE(run_cmd({"mkdir", "-p", rootfs / "bin"}).exit_code == 0);
  REQUIRE(run_cmd({"cp", "/bin/busybox", rootfs / "bin/busybox"}).exit_code == 0);
  for (const char* a : {"sh", "sleep", "true"})
    REQUIRE(::symlink("busybox", (rootfs / (std::string("bin/") + a)).c_str()) == 0);
  const std::string tar = d.dir / "rootfs.tar";
  REQUIRE(run_cmd({"tar", "-C", rootfs.path(), "-cf", tar, "."}).exit_code == 0);
  auto imp = d.docker({"import", tar, "vigil-test-busybox:1"});
  REQUIRE_MESSAGE(imp.exit_code == 0, imp.output);

  auto c = make_checker(d.sock);
  CHECK(run_once(*c).running());  // nothing unhealthy yet

  const std::string name = "vigil-unhealthy-" + std::to_string(::getpid());
  auto run = d.docker({"run", "-d", "--name", name, "--network", "none", "--health-cmd", "exit 1",
                       "--health-interval", "1s", "--health-retries", "1", "vigil-test-busybox:1",
                       "/bin/sleep", "600"});
  REQUIRE_MESSAGE(run.exit_code == 0, run.output);
  Probe p;
  bool warned = wait_until([&] { return (p = run_once(*c)).failed(); }, 30s);
  CHECK_MESSAGE(warned, "no unhealthy container reported within 30s: " << p.detail);
  CHECK(p.severity == Severity::warning);
  CHECK_MESSAGE(p.error.find(name) != std::string::npos, p.error);
  CHECK_MESSAGE(p.error.find("1 unhealthy container") != std::string::npos, p.error);
  CHECK_MESSAGE(p.detail.find("1 running") != std::string::npos, p.detail);
  d.docker({"rm", "-f", name});
}

TEST_CASE("docker: a socket that never answers times out by the deadline") {
  TempDir dir("vigil-docker-mute-");
  const std::string path = dir / "mute.sock";
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path.c_str());
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  REQUIRE(::listen(fd, 4) == 0);  // connections complete in the backlog, nobody answers

  auto c = make_checker(path);
  auto t0 = Clock::now();
  Probe p = run_once(*c, 700ms);
  auto took = Clock::now() - t0;
  ::close(fd);
  CHECK(p.failed());
  CHECK(p.severity == Severity::critical);
  CHECK_MESSAGE(p.error.find("timed out") != std::string::npos, p.error);
  CHECK(took >= 600ms);
  CHECK(took < 5s);  // bounded by the deadline, generous for a loaded machine
}

TEST_CASE("docker: missing socket is critical with an actionable error") {
  auto c = make_checker("/nonexistent/vigil/docker.sock");
  Probe p = run_once(*c);
  CHECK(p.failed());
  CHECK(p.severity == Severity::critical);
  CHECK_MESSAGE(p.error.find("GET /_ping on unix:///nonexistent/vigil/docker.sock: connect: "
                             "No such file or directory") != std::string::npos,
                p.error);
}

TEST_CASE("docker: config keys are validated") {
  auto spec = parse_check_spec(R"({"type": "docker", "sockett": "/x"})");
  REQUIRE(spec.error.empty());
  CheckerContext cc;
  auto made = make_docker_checker(spec.spec, cc);
  CHECK(!made.checker);
  CHECK_MESSAGE(made.error.find("sockett: unknown key") != std::string::npos, made.error);
  cc.host_root = "/host";
  auto def = parse_check_spec(R"({"type": "docker"})");
  CHECK(make_docker_checker(def.spec, cc).checker != nullptr);
}
