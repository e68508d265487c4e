// etcd checker against real etcd-server processes on loopback ports: a healthy member, a
// 3-member cluster that loses quorum (the server's own 503 answer in the error), and a TLS
// member that requires a client certificate.
#include <doctest/doctest.h>

#include <filesystem>

#include "checkers/http_client.hpp"
#include "test/checkers/real_support.hpp"
#include "test/checkers/subprocess.hpp"
#include "test/skip.hpp"

using namespace vigil::checkers;
using namespace vigil::test;

namespace {

bool contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

struct Member {
  std::string name;
  int client = 0, peer = 0;
  Process proc;
};

// True once member `m` has bound its client and peer ports (etcd logs "starting member" only
// after both listeners are open), false when it exited first; bounded.
bool bound_or_exited(Member& m, const std::string& log) {
  auto bound = [&] { return file_tail(log, 1 << 20).find("starting member") != std::string::npos; };
  wait_until([&] { return bound() || !m.proc.alive(); }, std::chrono::seconds(15));
  return bound();
}

// Starts `members` with one initial cluster. `tls` adds server TLS + client-cert auth. Ports
// come from free_port() (reserved for this test process: test/ports.hpp); when a member exits
// at start-up because one of them was taken anyway, the whole cluster starts again on new
// ports (test::kPortAttempts).
bool start_cluster(std::vector<Member>& ms, const TempDir& dir, const TestPki* tls = nullptr) {
  for (int attempt = 1;; ++attempt) {
    std::string cluster;
    std::string scheme = tls ? "https" : "http";
    for (auto& m : ms) {
      m.client = free_port();
      m.peer = free_port();
      cluster +=
          (cluster.empty() ? "" : ",") + m.name + "=http://127.0.0.1:" + std::to_string(m.peer);
    }
    for (auto& m : ms) {
      std::string c = scheme + "://127.0.0.1:" + std::to_string(m.client);
      std::string p = "http://127.0.0.1:" + std::to_string(m.peer);
      std::vector<std::string> argv = {find_exe("etcd"),
                                       "--name",
                                       m.name,
                                       "--data-dir",
                                       dir / (m.name + ".data"),
                                       "--listen-client-urls",
                                       c,
                                       "--advertise-client-urls",
                                       c,
                                       "--listen-peer-urls",
                                       p,
                                       "--initial-advertise-peer-urls",
                                       p,
                                       "--initial-cluster",
                                       cluster,
                                       "--initial-cluster-state",
                                       "new",
                                       "--heartbeat-interval",
                                       "100",
                                       "--election-timeout",
                                       "1000"};
      if (tls) {
        for (std::string a :
             {"--cert-file=" + tls->server_cert, "--key-file=" + tls->server_key,
              "--trusted-ca-file=" + tls->ca_cert, std::string("--client-cert-auth")})
          argv.push_back(a);
      }
      std::string err;
      if (!m.proc.start(argv, dir / (m.name + ".log"), {}, &err)) {
        MESSAGE("etcd start: " << err);
        return false;
      }
    }
    bool port_taken = false;
    for (auto& m : ms) {
      const std::string log = dir / (m.name + ".log");
      if (!bound_or_exited(m, log) && !m.proc.alive() &&
          vigil::test::address_in_use(file_tail(log, 1 << 20)))
        port_taken = true;
    }
    if (!port_taken) return true;
    if (attempt >= vigil::test::kPortAttempts) {
      MESSAGE("etcd: an address stayed in use through " << attempt << " attempts");
      return false;
    }
    for (auto& m : ms) {
      m.proc.stop();
      std::error_code ec;
      std::filesystem::remove_all(dir / (m.name + ".data"), ec);
      // The failed attempt's log is kept next to the new one.
      std::filesystem::rename(dir / (m.name + ".log"),
                              dir / (m.name + ".log.attempt" + std::to_string(attempt)), ec);
    }
  }
}

std::string endpoint(const Member& m, const std::string& scheme = "http") {
  return scheme + "://127.0.0.1:" + std::to_string(m.client);
}

std::string no_etcd() {
  return skip_reason(false, {"etcd"});
}

}  // namespace

TEST_CASE("etcd: a healthy single member is running and names its leader") {
  if (auto r = no_etcd(); !r.empty()) return skip(r);
  TempDir dir("vigil-etcd1");
  std::vector<Member> ms(1);
  ms[0].name = "solo";
  REQUIRE(start_cluster(ms, dir));
  std::string spec = R"({"type":"etcd","timeout":"3s","endpoints":[")" + endpoint(ms[0]) + "\"]}";
  Probe p;
  bool ok = wait_until([&] { return (p = run_checker_json(spec)).running(); });
  REQUIRE_MESSAGE(ok, p.error << "\n" << file_tail(dir / "solo.log"));
  CHECK(contains(p.detail, endpoint(ms[0]) + " healthy (version 3."));
  CHECK(contains(p.detail, "is leader"));

  // Stopped: the error is the connection failure, not "check failed".
  ms[0].proc.stop();
  p = run_checker_json(spec);
  CHECK(p.failed());
  CHECK(p.error == "GET " + endpoint(ms[0]) + "/health: connect 127.0.0.1:" +
                       std::to_string(ms[0].client) + ": Connection refused");
}

TEST_CASE("etcd: a 3-member cluster that lost two members fails with the server's 503") {
  if (auto r = no_etcd(); !r.empty()) return skip(r);
  TempDir dir("vigil-etcd3");
  std::vector<Member> ms(3);
  ms[0].name = "m1", ms[1].name = "m2", ms[2].name = "m3";
  REQUIRE(start_cluster(ms, dir));
  std::string all = R"({"type":"etcd","timeout":"4s","interval":"10s","endpoints":[")" +
                    endpoint(ms[0]) + "\",\"" + endpoint(ms[1]) + "\",\"" + endpoint(ms[2]) +
                    "\"]}";
  Probe p;
  REQUIRE_MESSAGE(wait_until([&] { return (p = run_checker_json(all)).running(); }),
                  p.error << "\n"
                          << file_tail(dir / "m1.log"));
  CHECK(contains(p.detail, endpoint(ms[2]) + " healthy"));

  ms[1].proc.stop();
  ms[2].proc.stop();
  std::string one = R"({"type":"etcd","timeout":"4s","endpoints":[")" + endpoint(ms[0]) + "\"]}";
  REQUIRE_MESSAGE(wait_until([&] { return (p = run_checker_json(one)).failed(); }), p.detail);
  CHECK(p.severity == Severity::critical);
  CHECK(p.error == "GET " + endpoint(ms[0]) + "/health: 503 {\"health\":\"false\"}");

  // All three endpoints: the survivor's answer and both dead members are named.
  p = run_checker_json(all);
  CHECK(p.failed());
  CHECK(contains(p.error, "GET " + endpoint(ms[0]) + "/health: 503 {\"health\":\"false\"}"));
  CHECK(contains(p.error, "GET " + endpoint(ms[1]) + "/health: connect 127.0.0.1:"));
  CHECK(contains(p.error, "GET " + endpoint(ms[2]) + "/health: connect 127.0.0.1:"));
}

TEST_CASE("etcd: TLS with a client certificate") {
  if (auto r = skip_reason(false, {"etcd", "openssl"}); !r.empty()) return skip(r);
  TempDir dir("vigil-etcdtls");
  TestPki pki = make_test_pki(dir.path());
  REQUIRE_MESSAGE(pki.error.empty(), pki.error);
  std::vector<Member> ms(1);
  ms[0].name = "secure";
  REQUIRE(start_cluster(ms, dir, &pki));
  std::string ep = endpoint(ms[0], "https");
  std::string spec = R"({"type":"etcd","timeout":"3s","endpoints":[")" + ep + R"("],"ca_file":")" +
                     pki.ca_cert + R"(","cert_file":")" + pki.client_cert + R"(","key_file":")" +
                     pki.client_key + "\"}";
  Probe p;
  REQUIRE_MESSAGE(wait_until([&] { return (p = run_checker_json(spec)).running(); }),
                  p.error << "\n"
                          << file_tail(dir / "secure.log"));
  CHECK(contains(p.detail, "is leader"));

  // Without the client certificate the member refuses us: critical, and the error says where.
  p = run_checker_json(R"({"type":"etcd","timeout":"3s","endpoints":[")" + ep +
                       R"("],"ca_file":")" + pki.ca_cert + "\"}");
  CHECK(p.failed());
  CHECK(contains(p.error, "GET " + ep + "/health: "));
}
