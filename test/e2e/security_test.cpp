// HTTP API security end to end (issue 7): real `vigil agent` processes on 127.0.0.1 serving
// the API over TLS (a self-signed certificate made in the test) with a bearer token; the
// client commands against them; bad token/TLS files refused before anything starts; every
// route refuses every method but GET and nothing changes.
#include <doctest/doctest.h>
#include <httplib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "test/e2e/agent_fixture.hpp"
#include "test/e2e/security_test_cert.hpp"

using namespace vigil::e2e;

namespace {

constexpr const char* kToken = "e2e-Token_0123456789abcdef";

struct Answer {
  int status = 0;  ///< 0: no HTTP answer
  std::string body, www_authenticate;
  httplib::Error error = httplib::Error::Success;
};

// GET/POST/... over https with the test CA; `token` "" = no Authorization header.
Answer call(int port, const std::string& method, const std::string& path, const std::string& ca,
            const std::string& token) {
  httplib::Client c("https://127.0.0.1:" + std::to_string(port));
  c.set_ca_cert_path(ca);
  c.enable_server_certificate_verification(true);
  c.set_connection_timeout(2s);
  c.set_read_timeout(5s);
  if (!token.empty()) c.set_bearer_token_auth(token);
  httplib::Result res = method == "GET"      ? c.Get(path)
                        : method == "POST"   ? c.Post(path, "{}", "application/json")
                        : method == "PUT"    ? c.Put(path, "{}", "application/json")
                        : method == "PATCH"  ? c.Patch(path, "{}", "application/json")
                        : method == "DELETE" ? c.Delete(path)
                                             : c.Options(path);
  Answer a;
  if (!res) {
    a.error = res.error();
    return a;
  }
  a.status = res->status;
  a.body = res->body;
  a.www_authenticate = res->get_header_value("WWW-Authenticate");
  return a;
}

int alive_count(const Answer& a) {
  if (a.status != 200) return -1;
  auto j = nlohmann::json::parse(a.body, nullptr, false);
  if (!j.is_array()) return -1;
  int n = 0;
  for (const auto& m : j) n += m.value("status", "") == "alive";
  return n;
}

std::size_t lines(const std::string& s) {
  std::size_t n = 0;
  for (char ch : s) n += ch == '\n';
  return n + (!s.empty() && s.back() != '\n');
}

}  // namespace

TEST_CASE("security: bad token or TLS files -> one line, exit 2, nothing started") {
  Cluster c;
  auto a = vigil::testcert::make_self_signed(c.dir() + "/a");
  auto b = vigil::testcert::make_self_signed(c.dir() + "/b");
  const std::string empty = c.dir() + "/empty.token", spaced = c.dir() + "/spaced.token",
                    junk = c.dir() + "/junk.pem";
  std::ofstream(empty) << "\n";
  std::ofstream(spaced) << "two words\n";
  std::ofstream(junk) << "junk\n";
  struct Case {
    std::vector<std::string> flags;
    const char* want;
  } cases[] = {
      {{"--http-token-file", c.dir() + "/missing.token"}, "cannot read HTTP token file"},
      {{"--http-token-file", empty}, "is empty"},
      {{"--http-token-file", spaced}, "one word"},
      {{"--http-tls-cert", a.cert}, "needs both"},
      {{"--http-tls-key", a.key}, "needs both"},
      {{"--http-tls-cert", c.dir() + "/missing.crt", "--http-tls-key", a.key},
       "cannot read TLS certificate file"},
      {{"--http-tls-cert", junk, "--http-tls-key", a.key}, "is not a PEM certificate"},
      {{"--http-tls-cert", a.cert, "--http-tls-key", junk}, "is not an unencrypted PEM"},
      {{"--http-tls-cert", a.cert, "--http-tls-key", b.key}, "does not match the certificate"},
  };
  int n = 0;
  for (const Case& k : cases) {
    const std::string want = k.want;
    CAPTURE(want);
    const std::string data = c.dir() + "/data-bad-" + std::to_string(n++);
    std::vector<std::string> args{"agent",
                                  "--config",
                                  c.config_path(),
                                  "--name",
                                  "bad",
                                  "--bind",
                                  "127.0.0.1:" + std::to_string(free_port()),
                                  "--http",
                                  "127.0.0.1:" + std::to_string(free_port()),
                                  "--data-dir",
                                  data};
    args.insert(args.end(), k.flags.begin(), k.flags.end());
    ProcResult r = run_vigil(args);
    CHECK(r.exit_code == 2);
    CHECK(lines(r.output) == 1);
    CHECK(r.output.rfind("vigil: ", 0) == 0);
    CHECK_MESSAGE(r.output.find(want) != std::string::npos, r.output);
    CHECK_MESSAGE(!std::filesystem::exists(data), "the data dir was created: something started");
  }
}

TEST_CASE("security: token + TLS on three agents; clients; read-only routes") {
  Cluster c;
  auto cert = vigil::testcert::make_self_signed(c.dir() + "/server");
  auto other = vigil::testcert::make_self_signed(c.dir() + "/other-ca");
  const std::string token_file = c.dir() + "/api.token";
  std::ofstream(token_file) << kToken << "\n";
  const std::string wrong_token_file = c.dir() + "/wrong.token";
  std::ofstream(wrong_token_file) << "not-the-token\n";
  const std::string config = c.write_config("sec.json", "[]");
  const std::vector<std::string> secure{"--http-token-file", token_file,       "--http-tls-cert",
                                        cert.cert,           "--http-tls-key", cert.key};
  std::vector<int> ports;
  for (int i = 0; i < 3; ++i) {
    AgentSpec s{"sec" + std::to_string(i)};
    s.config = config;
    s.extra = secure;
    if (i > 0) s.join = {c.gossip_addr(0)};
    c.start(s);
    ports.push_back(c.spec(i).http_port);
  }
  // A fourth agent with the token but plain HTTP (a token on a trusted network).
  AgentSpec plain{"sec-plain"};
  plain.config = config;
  plain.extra = {"--http-token-file", token_file};
  plain.join = {c.gossip_addr(0)};
  const int p = c.start(plain);

  REQUIRE_MESSAGE(eventually([&] {
                    for (int port : ports) {
                      if (alive_count(call(port, "GET", "/v1/members", cert.cert, kToken)) != 4) {
                        return false;
                      }
                    }
                    return true;
                  }),
                  c.log(0));

  const int port = ports[0];
  // No token: 401 JSON with a challenge, on every guarded path.
  for (const char* path : {"/v1/members", "/v1/status", "/v1/status/local", "/v1/history",
                           "/metrics", "/", "/no/such/path"}) {
    CAPTURE(path);
    Answer a = call(port, "GET", path, cert.cert, "");
    CHECK(a.status == 401);
    CHECK(a.www_authenticate.find("Bearer") != std::string::npos);
    CHECK(nlohmann::json::parse(a.body, nullptr, false).value("error", "") ==
          "authentication required");
    CHECK(call(port, "GET", path, cert.cert, "wrong-token").status == 401);
  }
  // The kubelet's probes need no token.
  CHECK(call(port, "GET", "/healthz", cert.cert, "").status == 200);
  CHECK(call(port, "GET", "/readyz", cert.cert, "").status == 200);
  // With the token: 200.
  CHECK(call(port, "GET", "/v1/status", cert.cert, kToken).status != 401);
  Answer metrics = call(port, "GET", "/metrics", cert.cert, kToken);
  CHECK(metrics.status == 200);
  CHECK(metrics.body.find("vigil_members") != std::string::npos);
  // Plain HTTP to the TLS port: no HTTP answer, promptly, and the agent keeps serving.
  CHECK(c.http_get(0, "/healthz").first == 0);
  CHECK(call(port, "GET", "/healthz", cert.cert, "").status == 200);
  // A certificate from another CA is not trusted.
  CHECK(call(port, "GET", "/healthz", other.cert, "").error ==
        httplib::Error::SSLServerVerification);

  // The client commands.
  const std::string url = "https://127.0.0.1:" + std::to_string(port);
  ProcResult r =
      run_vigil({"members", "--addr", url, "--ca", cert.cert, "--token-file", token_file});
  CHECK(r.exit_code == 0);
  for (const char* n : {"sec0", "sec1", "sec2", "sec-plain"}) {
    CHECK(r.output.find(n) != std::string::npos);
  }
  r = run_vigil({"members", "--addr", url, "--json"},
                {{"VIGIL_CA", cert.cert}, {"VIGIL_TOKEN_FILE", token_file}});
  CHECK(r.exit_code == 0);
  // --all: every node (the default lists only the nodes that are not running).
  r = run_vigil({"status", "--addr", url, "--ca", cert.cert, "--token-file", token_file, "--all"});
  CHECK_MESSAGE((r.exit_code == 0 || r.exit_code == 1), r.output);
  CHECK(r.output.find("sec2") != std::string::npos);
  r = run_vigil({"history", "--addr", url, "--ca", cert.cert, "--token-file", token_file});
  CHECK_MESSAGE(r.exit_code == 0, r.output);
  r = run_vigil({"members", "--addr", url, "--insecure", "--token-file", token_file});
  CHECK(r.exit_code == 0);
  // ...and their failures: one line, exit 2, with a hint.
  struct Bad {
    std::vector<std::string> args;
    const char* want;
  } bad[] = {
      {{"members", "--addr", url, "--ca", cert.cert}, "--token-file"},
      {{"status", "--addr", url, "--ca", cert.cert, "--token-file", wrong_token_file}, "401"},
      {{"members", "--addr", url, "--token-file", token_file}, "--ca"},
      {{"history", "--addr", url, "--ca", other.cert, "--token-file", token_file}, "--ca"},
      {{"members", "--addr", "http://127.0.0.1:" + std::to_string(port), "--token-file",
        token_file},
       "https://"},
      {{"members", "--addr", url, "--ca", c.dir() + "/missing.pem"}, "cannot read CA file"},
      {{"status", "--addr", url, "--token-file", c.dir() + "/missing.token"},
       "cannot read token file"},
  };
  for (const Bad& b : bad) {
    const std::string want = b.want;
    CAPTURE(want);
    r = run_vigil(b.args);
    CHECK(r.exit_code == 2);
    CHECK(lines(r.output) == 1);
    CHECK_MESSAGE(r.output.find(b.want) != std::string::npos, r.output);
  }
  // The token alone over plain HTTP.
  const std::string plain_url = "http://127.0.0.1:" + std::to_string(c.spec(p).http_port);
  CHECK(run_vigil({"members", "--addr", plain_url, "--token-file", token_file}).exit_code == 0);
  CHECK(run_vigil({"members", "--addr", plain_url}).exit_code == 2);
  CHECK(c.http_get(p, "/v1/members").first == 401);
  CHECK(c.http_get(p, "/healthz").first == 200);

  // Read-only: no route takes another method, with the token or without, and nothing changes.
  const std::string history_before = call(port, "GET", "/v1/history", cert.cert, kToken).body;
  for (const char* path : {"/v1/members", "/v1/status", "/v1/status/local", "/v1/history",
                           "/metrics", "/healthz", "/readyz", "/", "/v1/reachability"}) {
    for (const char* method : {"POST", "PUT", "PATCH", "DELETE", "OPTIONS"}) {
      CAPTURE(path);
      CAPTURE(method);
      Answer a = call(port, method, path, cert.cert, kToken);
      CHECK(a.status >= 400);
      CHECK(a.status < 500);
      CHECK(nlohmann::json::parse(a.body, nullptr, false).contains("error"));
    }
  }
  CHECK(alive_count(call(port, "GET", "/v1/members", cert.cert, kToken)) == 4);
  CHECK(call(port, "GET", "/v1/history", cert.cert, kToken).body == history_before);
}
