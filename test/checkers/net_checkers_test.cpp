// tcp, http, kubelet, apiserver (an HTTPS stand-in speaking the real /readyz?verbose format)
// and dns (a real dnsmasq on a loopback port): each checker against a real server.
#include <doctest/doctest.h>
#include <httplib.h>

#include <atomic>

#include "checkers/dns.hpp"
#include "test/checkers/real_support.hpp"
#include "test/checkers/subprocess.hpp"
#include "test/skip.hpp"

using namespace vigil::checkers;
using namespace vigil::test;

namespace {
std::string jq(const std::string& s) {
  return "\"" + s + "\"";
}
bool contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}
}  // namespace

TEST_CASE("tcp: a listening port is running, a closed port fails with the reason") {
  HttpStub stub;
  REQUIRE(stub.start());
  auto p = run_checker_json(R"({"type":"tcp","timeout":"2s","address":"127.0.0.1:)" +
                            std::to_string(stub.port()) + "\"}");
  CHECK(p.running());
  CHECK(contains(p.detail, "connected to 127.0.0.1:"));

  int closed = free_port();
  p = run_checker_json(R"({"type":"tcp","timeout":"2s","address":"127.0.0.1:)" +
                       std::to_string(closed) + "\"}");
  CHECK(p.failed());
  CHECK(p.severity == Severity::critical);
  CHECK(p.error == "connect 127.0.0.1:" + std::to_string(closed) + ": Connection refused");
}

TEST_CASE("http: status, body substring, timeouts") {
  HttpStub stub;
  std::atomic<int> status{200};
  stub.get("/healthz", [&](const httplib::Request&, httplib::Response& res) {
    res.status = status.load();
    res.set_content(status == 200 ? "all good" : "backend down", "text/plain");
  });
  stub.get("/chunked", [](const httplib::Request&, httplib::Response& res) {
    res.set_chunked_content_provider("text/plain", [](size_t offset, httplib::DataSink& sink) {
      if (offset == 0) sink.write("first part, ", 12);
      if (offset == 12) sink.write("second part", 11);
      if (offset >= 23) sink.done();
      return true;
    });
  });
  stub.get("/slow", [](const httplib::Request&, httplib::Response& res) {
    std::this_thread::sleep_for(std::chrono::seconds(3));
    res.set_content("late", "text/plain");
  });
  REQUIRE(stub.start());
  std::string url = stub.url() + "/healthz";

  auto p = run_checker_json(R"({"type":"http","url":)" + jq(url) + R"(,"body_contains":"good"})");
  CHECK(p.running());
  CHECK(contains(p.detail, "200 in "));

  p = run_checker_json(R"({"type":"http","url":)" + jq(url) + R"(,"body_contains":"great"})");
  CHECK(p.failed());
  CHECK(p.error == "GET " + url + ": body does not contain \"great\": all good");

  status = 503;
  p = run_checker_json(R"({"type":"http","url":)" + jq(url) + "}");
  CHECK(p.failed());
  CHECK(p.error == "GET " + url + ": 503 backend down");

  status = 404;  // an explicitly expected code is running
  p = run_checker_json(R"({"type":"http","url":)" + jq(url) + R"(,"expected_status":404})");
  CHECK(p.running());

  // A chunked body is reassembled before the substring check.
  p = run_checker_json(R"({"type":"http","url":)" + jq(stub.url() + "/chunked") +
                       R"(,"body_contains":"part, second"})");
  CHECK_MESSAGE(p.running(), p.error);

  // A server that answers after the timeout: the checker returns by its deadline.
  auto t0 = std::chrono::steady_clock::now();
  p = run_checker_json(R"({"type":"http","timeout":"1s","url":)" + jq(stub.url() + "/slow") + "}");
  CHECK(p.failed());
  CHECK(contains(p.error, "read: timed out"));
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(2900));

  // Bad config is one clear error line.
  p = run_checker_json(R"({"type":"http","url":"ftp://x","bogus":1})");
  CHECK(p.error ==
        "CONFIG: http: url: required, an http:// or https:// URL; bogus: unknown key for type "
        "http");
}

TEST_CASE("kubelet: /healthz ok is running, 500 is critical with the body") {
  HttpStub stub;
  std::atomic<bool> healthy{true};
  stub.get("/healthz", [&](const httplib::Request&, httplib::Response& res) {
    res.status = healthy ? 200 : 500;
    res.set_content(healthy ? "ok" : "[-]syncloop failed: reason withheld\nhealthz check failed",
                    "text/plain");
  });
  REQUIRE(stub.start());
  std::string spec = R"({"type":"kubelet","url":)" + jq(stub.url() + "/healthz") + "}";
  CHECK(run_checker_json(spec).running());
  healthy = false;
  auto p = run_checker_json(spec);
  CHECK(p.failed());
  CHECK(contains(p.error, ": 500 [-]syncloop failed"));
}

namespace {

// The kube-apiserver stand-in: bearer token check (401 metav1.Status otherwise) and the real
// verbose readiness format (kube-apiserver's healthz.go: "[+]name ok", "[-]name failed: reason
// withheld", 500 when any check fails).
struct ApiserverStandIn {
  explicit ApiserverStandIn(const TestPki& pki) : stub(pki.server_cert, pki.server_key) {
    stub.get("/readyz", [this](const httplib::Request& req, httplib::Response& res) {
      if (req.get_header_value("Authorization") != "Bearer " + token) {
        res.status = 401;
        res.set_content(R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",)"
                        R"("message":"Unauthorized","reason":"Unauthorized","code":401})",
                        "application/json");
        return;
      }
      std::string body;
      bool ok = true;
      for (const char* check : {"ping", "log", "etcd", "informer-sync", "poststarthook/rbac"}) {
        bool failed =
            etcd_down && (std::string(check) == "etcd" || std::string(check) == "informer-sync");
        ok = ok && !failed;
        body += failed ? std::string("[-]") + check + " failed: reason withheld\n"
                       : std::string("[+]") + check + " ok\n";
      }
      body += ok ? "readyz check passed\n" : "readyz check failed\n";
      res.status = ok ? 200 : 500;
      res.set_content(body, "text/plain; charset=utf-8");
    });
  }
  HttpStub stub;
  std::string token = "sa-token-123";
  std::atomic<bool> etcd_down{false};
};

}  // namespace

TEST_CASE("apiserver: readyz via the direct and the DNS path, token and CA from files") {
  TempDir dir("vigil-apiserver");
  TestPki pki = make_test_pki(dir.path());
  REQUIRE_MESSAGE(pki.error.empty(), pki.error);
  ApiserverStandIn api(pki);
  REQUIRE(api.stub.start());
  // The host_root layout of a pod: /var/run/secrets/kubernetes.io/serviceaccount/{token,ca.crt}.
  std::string sa = dir / "var/run/secrets/kubernetes.io/serviceaccount";
  REQUIRE(run_cmd({"mkdir", "-p", sa}).exit_code == 0);
  REQUIRE(write_file(sa + "/token", api.token + "\n"));
  REQUIRE(run_cmd({"cp", pki.ca_cert, sa + "/ca.crt"}).exit_code == 0);
  std::string port = std::to_string(api.stub.port());
  std::string direct = "https://127.0.0.1:" + port, dns = "https://localhost:" + port;
  std::string spec =
      R"({"type":"apiserver","direct_url":)" + jq(direct) + R"(,"dns_url":)" + jq(dns) + "}";

  auto p = run_checker_json(spec, dir.path());
  CHECK_MESSAGE(p.running(), p.error);
  CHECK(contains(p.detail, "direct: ready in "));
  CHECK(contains(p.detail, "dns: ready in "));

  api.etcd_down = true;
  p = run_checker_json(spec, dir.path());
  CHECK(p.failed());
  CHECK(p.severity == Severity::critical);
  CHECK(contains(p.error,
                 "GET " + direct + "/readyz?verbose: 500 failed checks: etcd, informer-sync"));
  CHECK(
      contains(p.error, "GET " + dns + "/readyz?verbose: 500 failed checks: etcd, informer-sync"));
  api.etcd_down = false;

  REQUIRE(write_file(sa + "/token", "stale-token\n"));  // re-read every run
  p = run_checker_json(spec, dir.path());
  CHECK(p.failed());
  CHECK(contains(
      p.error,
      "GET " + direct + "/readyz?verbose: 401 Unauthorized (check the token in " + sa + "/token)"));
  REQUIRE(write_file(sa + "/token", api.token));
  CHECK(run_checker_json(spec, dir.path()).running());

  // A CA that did not sign the server: verification fails, and says so.
  TempDir other("vigil-apiserver-other");
  TestPki wrong = make_test_pki(other.path());
  REQUIRE(wrong.error.empty());
  p = run_checker_json(R"({"type":"apiserver","dns_url":"","direct_url":)" + jq(direct) +
                           R"(,"ca_file":)" + jq(wrong.ca_cert) + "}",
                       dir.path());
  CHECK(p.failed());
  CHECK(contains(p.error, "certificate verify failed"));

  // No token file: an actionable error, not a request without credentials.
  p = run_checker_json(spec, other.path());
  CHECK(p.failed());
  CHECK(contains(p.error, "read service-account token " + other.path()));
}

TEST_CASE("dns: a real dnsmasq answers, says NXDOMAIN, and is reported when down") {
  if (auto r = skip_reason(false, {"dnsmasq"}); !r.empty()) return skip(r);
  TempDir dir("vigil-dns");
  // The port is reserved for this test process (test/ports.hpp); should dnsmasq still exit
  // because it is in use (a program outside that scheme), it starts again on a new one.
  int port = 0;
  Process dnsmasq;
  for (int attempt = 1;; ++attempt) {
    port = free_port();
    std::string err;
    REQUIRE_MESSAGE(
        dnsmasq.start(
            {find_exe("dnsmasq"), "-k", "--conf-file=/dev/null", "--port=" + std::to_string(port),
             "--listen-address=127.0.0.1", "--bind-interfaces", "--no-resolv", "--no-hosts",
             "--pid-file=", "--user=root", "--local=/mesh.test/",
             "--address=/n1.mesh.test/10.200.0.1", "--host-record=svc.mesh.test,10.200.0.7",
             "--host-record=svc.mesh.test,10.200.0.8"},
            dir / "dnsmasq.log", {}, &err),
        err);
    const bool answers =
        wait_until([&] {
          auto a = dns_query("127.0.0.1", port, "n1.mesh.test", 1,
                             vigil::checkers::Deadline::in(std::chrono::milliseconds(300)));
          return a.rcode == 0 || !dnsmasq.alive();
        }) &&
        dnsmasq.alive();
    if (answers) break;
    const bool taken = !dnsmasq.alive() && address_in_use(file_tail(dir / "dnsmasq.log"));
    REQUIRE_MESSAGE((taken && attempt < kPortAttempts), file_tail(dir / "dnsmasq.log"));
  }
  std::string server = "127.0.0.1:" + std::to_string(port);

  auto p = run_checker_json(R"({"type":"dns","timeout":"2s","query":"n1.mesh.test","server":)" +
                            jq(server) + R"(,"expect":["10.200.0.1"]})");
  CHECK_MESSAGE(p.running(), p.error);
  CHECK(contains(p.detail, "n1.mesh.test -> 10.200.0.1"));

  p = run_checker_json(R"({"type":"dns","timeout":"2s","query":"svc.mesh.test","server":)" +
                       jq(server) + "}");
  CHECK(p.running());
  CHECK(contains(p.detail, "10.200.0.7"));
  CHECK(contains(p.detail, "10.200.0.8"));

  p = run_checker_json(R"({"type":"dns","timeout":"2s","query":"n1.mesh.test","server":)" +
                       jq(server) + R"(,"expect":["10.200.0.9"]})");
  CHECK(p.failed());
  CHECK(contains(p.error, "expected 10.200.0.9, got 10.200.0.1"));

  p = run_checker_json(R"({"type":"dns","timeout":"2s","query":"nope.mesh.test","server":)" +
                       jq(server) + "}");
  CHECK(p.failed());
  CHECK(p.error == "resolve A nope.mesh.test via " + server + ": NXDOMAIN");

  dnsmasq.stop();
  p = run_checker_json(R"({"type":"dns","timeout":"2s","query":"n1.mesh.test","server":)" +
                       jq(server) + "}");
  CHECK(p.failed());
  CHECK(p.error == "resolve A n1.mesh.test via " + server + ": Connection refused");
}

TEST_CASE("dns: the node resolver path resolves localhost") {
  auto p = run_checker_json(R"({"type":"dns","timeout":"3s","query":"localhost"})");
  CHECK_MESSAGE(p.running(), p.error);
  CHECK(contains(p.detail, "127.0.0.1"));
}
