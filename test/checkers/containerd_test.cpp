// containerd checker against a real containerd (CRI plugin) started by the test with its own
// root, state, socket and CNI conf dir, tracked and stopped by PID.
#include <doctest/doctest.h>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "checkers/containerd.hpp"
#include "test/checkers/subprocess.hpp"
#include "test/skip.hpp"

using namespace vigil::checkers;
using namespace vigil::test;
using namespace std::chrono_literals;

namespace {

const std::string kSkip = skip_reason(true, {"containerd"}, {"/usr/lib/cni/loopback"});

std::unique_ptr<Checker> make_checker(const std::string& socket) {
  auto spec = parse_check_spec(
      std::string_view(R"({"type": "containerd", "socket": ")" + socket + R"("})"));
  REQUIRE(spec.error.empty());
  CheckerContext cc;
  auto made = make_containerd_checker(spec.spec, cc);
  REQUIRE_MESSAGE(made.checker, made.error);
  return std::move(made.checker);
}

Probe run_once(Checker& c, Duration timeout = 5s) {
  CheckContext ctx;
  return c.run(ctx, Deadline::in(timeout));
}

struct Containerd {
  TempDir dir{"vigil-containerd-"};
  Process proc;
  std::string sock = dir / "containerd.sock";
  std::string cni = dir / "cni";
  std::string log = dir / "containerd.log";

  void start() {
    REQUIRE(run_cmd({"mkdir", "-p", cni}).exit_code == 0);
    const std::string d = dir.path();
    REQUIRE(write_file(dir / "config.toml",
                       "version = 2\n"
                       "root = \"" +
                           d +
                           "/root\"\n"
                           "state = \"" +
                           d +
                           "/state\"\n"
                           "disabled_plugins = [\"io.containerd.snapshotter.v1.btrfs\", "
                           "\"io.containerd.snapshotter.v1.zfs\", "
                           "\"io.containerd.snapshotter.v1.devmapper\", "
                           "\"io.containerd.snapshotter.v1.aufs\"]\n"
                           "[grpc]\n  address = \"" +
                           sock +
                           "\"\n"
                           "[ttrpc]\n  address = \"" +
                           sock +
                           ".ttrpc\"\n"
                           "[plugins.\"io.containerd.grpc.v1.cri\"]\n"
                           "  disable_tcp_service = true\n"
                           "  [plugins.\"io.containerd.grpc.v1.cri\".cni]\n"
                           "    bin_dir = \"/usr/lib/cni\"\n"
                           "    conf_dir = \"" +
                           cni + "\"\n"));
    std::string err;
    REQUIRE_MESSAGE(proc.start({"containerd", "--config", dir / "config.toml"}, log, {}, &err),
                    err);
    auto c = make_checker(sock);
    // Up = the CRI answers (the probe may still fail on a condition).
    bool up = wait_until(
        [&] {
          Probe p = run_once(*c, 2s);
          return p.running() || p.error.find("NetworkReady") != std::string::npos;
        },
        60s);
    REQUIRE_MESSAGE(up, "containerd CRI did not answer within 60s: " << file_tail(log));
  }
  ~Containerd() {
    proc.stop(20s);
    kill_processes_mentioning(dir.path());
  }
};

}  // namespace

TEST_CASE("containerd: no CNI config -> NetworkReady false -> failed; a conflist -> running") {
  if (!kSkip.empty()) return skip(kSkip);
  Containerd ctd;
  ctd.start();
  auto c = make_checker(ctd.sock);
  Probe p = run_once(*c);
  CHECK(p.failed());
  CHECK(p.severity == Severity::critical);
  CHECK_MESSAGE(p.error.find("NetworkReady=false (NetworkPluginNotReady:") != std::string::npos,
                p.error);
  CHECK_MESSAGE(p.error.find("cni") != std::string::npos, p.error);
  CHECK_MESSAGE(p.error.find("RuntimeReady") == std::string::npos, p.error);  // that one holds
  CHECK_MESSAGE(p.detail.find("containerd 1.") != std::string::npos, p.detail);
  CHECK_MESSAGE(p.detail.find("RuntimeReady=true") != std::string::npos, p.detail);

  REQUIRE(write_file(ctd.cni + "/10-vigil.conflist",
                     R"({"cniVersion": "0.4.0", "name": "vigil-test",
                         "plugins": [{"type": "loopback"}]})"));
  bool ready = wait_until([&] { return (p = run_once(*c)).running(); }, 30s);
  CHECK_MESSAGE(ready, "still failed 30s after the conflist appeared: " << p.error);
  CHECK_MESSAGE(p.detail.find("NetworkReady=true") != std::string::npos, p.detail);

  ctd.proc.stop(20s);
  p = run_once(*c);
  CHECK(p.failed());
  CHECK(p.severity == Severity::critical);
  CHECK_MESSAGE(p.error.find("UNAVAILABLE") != std::string::npos, p.error);
  CHECK_MESSAGE(p.error.find(ctd.sock) != std::string::npos, p.error);
}

TEST_CASE("containerd: the gRPC call honours the deadline on a mute socket") {
  TempDir dir("vigil-cri-mute-");
  const std::string path = dir / "mute.sock";
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path.c_str());
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  REQUIRE(::listen(fd, 4) == 0);  // accepts in the backlog, never speaks HTTP/2

  auto c = make_checker(path);
  auto t0 = Clock::now();
  Probe p = run_once(*c, 800ms);
  auto took = Clock::now() - t0;
  ::close(fd);
  CHECK(p.failed());
  CHECK(p.severity == Severity::critical);
  bool timed_out = p.error.find("DEADLINE_EXCEEDED") != std::string::npos ||
                   p.error.find("UNAVAILABLE") != std::string::npos ||
                   p.error.find("no answer before the deadline") != std::string::npos;
  CHECK_MESSAGE(timed_out, p.error);
  CHECK(took < 5s);
}

TEST_CASE("containerd: missing socket names it and suggests the fix") {
  auto c = make_checker("/nonexistent/vigil/containerd.sock");
  Probe p = run_once(*c);
  CHECK(p.failed());
  CHECK_MESSAGE(p.error.find("CRI unix:///nonexistent/vigil/containerd.sock: Version: "
                             "UNAVAILABLE") != std::string::npos,
                p.error);
  CHECK_MESSAGE(p.error.find("is containerd running") != std::string::npos, p.error);
}
