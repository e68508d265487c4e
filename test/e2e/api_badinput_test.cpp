// End-to-end: every HTTP endpoint of a real `vigil agent` fed malformed requests over a raw
// socket (bad and repeated parameters, huge values, bad percent-encoding, very long URLs,
// unknown paths, wrong methods, broken request lines). Each answer must be a 4xx with
// Content-Type application/json and a body that is exactly {"error": "<text>"}; never a 5xx,
// an HTML page, a dropped connection, or the endpoint's normal document. The agent must keep
// serving afterwards.
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "test/e2e/agent_fixture.hpp"

using namespace vigil::e2e;

namespace {

struct RawResponse {
  int status = 0;  ///< 0: no status line (connection dropped or timed out)
  std::map<std::string, std::string> headers;  ///< lower-case names
  std::string body;
};

// Sends `request` verbatim to 127.0.0.1:port and reads until the server closes (bounded).
RawResponse raw_http(int port, const std::string& request) {
  RawResponse r;
  int s = socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(s >= 0);
  timeval tv{10, 0};
  setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  if (connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(s);
    return r;
  }
  std::size_t sent = 0;
  while (sent < request.size()) {
    ssize_t n = send(s, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;  // the server may answer (and close) before reading everything
    sent += static_cast<std::size_t>(n);
  }
  std::string raw;
  char buf[8192];
  for (int i = 0; i < 10000; ++i) {
    ssize_t n = recv(s, buf, sizeof buf, 0);
    if (n <= 0) break;
    raw.append(buf, static_cast<std::size_t>(n));
    if (raw.size() > (4u << 20)) break;
  }
  close(s);
  const auto head_end = raw.find("\r\n\r\n");
  if (raw.rfind("HTTP/1.", 0) != 0 || head_end == std::string::npos) return r;
  r.status = std::atoi(raw.c_str() + 9);
  std::size_t pos = raw.find("\r\n") + 2;
  while (pos < head_end) {
    const auto eol = raw.find("\r\n", pos);
    const std::string line = raw.substr(pos, eol - pos);
    const auto colon = line.find(':');
    if (colon != std::string::npos) {
      std::string k = line.substr(0, colon);
      std::transform(k.begin(), k.end(), k.begin(),
                     [](unsigned char c) { return std::tolower(c); });
      std::string v = line.substr(colon + 1);
      v.erase(0, v.find_first_not_of(' '));
      r.headers[k] = v;
    }
    pos = eol + 2;
  }
  r.body = raw.substr(head_end + 4);
  return r;
}

std::string request(const std::string& method, const std::string& target,
                    const std::string& extra_headers = "", const std::string& body = "") {
  std::string r = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  r += extra_headers;
  if (!body.empty()) r += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  return r + "\r\n" + body;
}

// The answer is one of `statuses` with a JSON body {"error": "<non-empty text>"} and nothing
// else.
void check_json_error(const RawResponse& r, const std::set<int>& statuses,
                      const std::string& what) {
  CAPTURE(what);
  CAPTURE(r.status);
  CAPTURE(r.body.substr(0, 300));
  CHECK(statuses.count(r.status) == 1);
  auto ct = r.headers.find("content-type");
  CHECK((ct != r.headers.end() && ct->second.rfind("application/json", 0) == 0));
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  const bool error_object = j.is_object() && j.size() == 1 && j.contains("error") &&
                            j["error"].is_string() && !j["error"].get<std::string>().empty();
  CHECK_MESSAGE(error_object, "body is not {\"error\": \"...\"}");
}

const std::vector<std::string> kEndpoints = {"/v1/status",  "/v1/status/local", "/v1/members",
                                             "/v1/history", "/metrics",         "/healthz",
                                             "/readyz"};

}  // namespace

TEST_CASE("e2e: every API endpoint answers malformed requests with 4xx JSON errors only") {
  Cluster c;
  const int a = c.start({.name = "api-a"});
  const int b = c.start({.name = "api-b", .join = {c.gossip_addr(a)}});
  const int port = c.spec(a).http_port;
  REQUIRE_MESSAGE(eventually([&] { return c.status_of(a, "api-b") == "alive"; }), c.log(a));
  REQUIRE(eventually([&] { return c.http_get(a, "/v1/status/local").first != 0; }));
  (void)b;

  // Sanity: each endpoint answers a well-formed GET with its own document, so the checks
  // below can tell a rejected request from a served one.
  for (const auto& e : kEndpoints) {
    auto r = raw_http(port, request("GET", e));
    CAPTURE(e);
    CHECK((r.status == 200 || r.status == 503));
    if (e != "/metrics") CHECK(!nlohmann::json::parse(r.body, nullptr, false).contains("error"));
  }
  CHECK(raw_http(port, request("GET", "/v1/history?since=1h&limit=10000")).status == 200);

  SUBCASE("parameters on endpoints that take none") {
    const std::vector<std::string> queries = {"x=1",
                                              "since=1h",
                                              "limit=1&limit=2",
                                              "%zz=1",
                                              "a=%",
                                              "%FF%FE=1",
                                              "%00=%00",
                                              "=1",
                                              "node=a%2",
                                              "limit=99999999999999999999999999999999",
                                              "x=" + std::string(4000, 'v'),
                                              std::string(300, 'k') + "=1"};
    for (const auto& e : kEndpoints) {
      if (e == "/v1/history") continue;
      for (const auto& q : queries) {
        check_json_error(raw_http(port, request("GET", e + "?" + q)), {400}, e + "?" + q);
      }
    }
  }

  SUBCASE("/v1/history: bad, huge, repeated and badly encoded values") {
    const std::vector<std::string> queries = {
        "since=yesterday",
        "since=",
        "until=2026-13-45T99:99:99Z",
        "since=9999999999999999999999d",
        "since=-1h",
        "since=1h%00",
        "since=%zz",
        "since=%",
        "since=30m&until=1h",
        "since=1h&since=2h",
        "limit=0",
        "limit=-5",
        "limit=10001",
        "limit=18446744073709551617",
        "limit=1.5",
        "limit=0x10",
        "limit=%31%30%30%30%30%31",  // 100001, percent-encoded
        "limit=",
        "limit=abc",
        "type=Bogus",
        "type=nodeadded",
        "type=",
        "type=NodeAdded&type=NodeFailed",
        "node=",
        "node=" + std::string(257, 'n'),
        "checker=" + std::string(5000, 'c'),
        "node=a&node=b",
        "foo=bar",
        "%FF=1",
        "node%FF=1",
        "since%3D1h=2",
        "limit=5&x=%E2%9C",
    };
    for (const auto& q : queries) {
      check_json_error(raw_http(port, request("GET", "/v1/history?" + q)), {400}, q);
    }
  }

  SUBCASE("unknown paths") {
    for (const std::string p :
         {"/v2/status", "/v1/statusx", "/v1/status/local/x", "/v1/members/", "/v1/members/api-a",
          "/metrics/x", "/healthzz", "/v1/history/1", "/%zz", "/v1/%FF", "/../../etc/passwd",
          "/v1//status", "/index.html"}) {
      check_json_error(raw_http(port, request("GET", p)), {400, 404}, p);
    }
  }

  SUBCASE("wrong methods") {
    std::vector<std::string> paths = kEndpoints;
    paths.push_back("/no/such/path");
    for (const auto& p : paths) {
      for (const std::string m : {"POST", "PUT", "DELETE", "PATCH"}) {
        check_json_error(raw_http(port, request(m, p, "", "{\"x\":1}")), {400, 404, 405},
                         m + " " + p);
      }
    }
    // A body announced far larger than anything the read-only API accepts: answered at once,
    // not read (and buffered) to the end.
    auto big = raw_http(port, request("POST", "/v1/status", "Content-Length: 1073741824\r\n"));
    check_json_error(big, {400, 404, 405, 413}, "POST with a 1 GiB Content-Length");
    check_json_error(raw_http(port, request("BREW", "/v1/status")), {400, 404, 405}, "BREW");
  }

  SUBCASE("very long URLs and broken request lines") {
    check_json_error(raw_http(port, request("GET", "/" + std::string(20000, 'a'))), {400, 404, 414},
                     "20 kB path");
    check_json_error(raw_http(port, request("GET", "/v1/history?node=" + std::string(20000, 'n'))),
                     {400, 414}, "20 kB query");
    check_json_error(raw_http(port, request("GET", "/v1/status?" + std::string(9000, '&'))),
                     {400, 414}, "9 kB of separators");
    check_json_error(raw_http(port, "GET\r\n\r\n"), {400}, "request line without a target");
    check_json_error(raw_http(port, "GET /v1/status HTTP/9.9\r\n\r\n"), {400, 505},
                     "unknown HTTP version");
    check_json_error(raw_http(port, std::string("\x16\x03\x01\x02\x00garbage\r\n\r\n", 16)), {400},
                     "binary garbage");
  }

  // Still serving, and still the same documents.
  CHECK(raw_http(port, request("GET", "/healthz")).status == 200);
  auto m = c.members(a);
  REQUIRE(m);
  CHECK(m->size() == 2);
  CHECK(c.running(a));
}
