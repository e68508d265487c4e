// CheckSpec parsing, SpecReader validation and the registry.
#include <doctest/doctest.h>

#include "checkers/registry.hpp"
#include "checkers/spec_reader.hpp"
#include "test/fakes/fake_checker.hpp"

using namespace vigil::checkers;
using std::chrono::milliseconds;
using std::chrono::seconds;

TEST_CASE("durations parse with units and numbers of seconds") {
  Duration d{};
  CHECK(parse_duration("250ms", d));
  CHECK(d == milliseconds(250));
  CHECK(parse_duration("1.5s", d));
  CHECK(d == milliseconds(1500));
  CHECK(parse_duration("2m", d));
  CHECK(d == seconds(120));
  CHECK(parse_duration("3", d));
  CHECK(d == seconds(3));
  CHECK_FALSE(parse_duration("", d));
  CHECK_FALSE(parse_duration("-1s", d));
  CHECK_FALSE(parse_duration("5 parsecs", d));
  CHECK(format_duration(seconds(5)) == "5s");
  CHECK(format_duration(milliseconds(250)) == "250ms");
  CHECK(format_duration(milliseconds(1500)) == "1.5s");
}

TEST_CASE("a spec carries common fields with defaults") {
  auto r = parse_check_spec(R"({"type":"etcd"})");
  REQUIRE(r.error.empty());
  CHECK(r.spec.name == "etcd");
  CHECK(r.spec.interval == seconds(10));
  CHECK(r.spec.timeout == seconds(5));
  CHECK(r.spec.failure_threshold == 2);
  CHECK(r.spec.success_threshold == 1);
  CHECK(r.spec.severity == Severity::critical);

  r = parse_check_spec(
      R"({"type":"disk","name":"disk-var","interval":"30s","timeout":2.5,"failure_threshold":3,)"
      R"("success_threshold":2,"severity":"warning","paths":["/var"]})");
  REQUIRE(r.error.empty());
  CHECK(r.spec.name == "disk-var");
  CHECK(r.spec.interval == seconds(30));
  CHECK(r.spec.timeout == milliseconds(2500));
  CHECK(r.spec.failure_threshold == 3);
  CHECK(r.spec.severity == Severity::warning);
}

TEST_CASE("bad common fields are one clear error") {
  CHECK(parse_check_spec(R"({"name":"x"})").error ==
        "x: type: required (a string such as \"etcd\")");
  CHECK(parse_check_spec(R"({"type":"tcp","interval":"500ms"})").error ==
        "tcp: interval: must be >= 1s");
  CHECK(parse_check_spec(R"({"type":"tcp","interval":"5s","timeout":"6s"})").error ==
        "tcp: timeout: must be <= interval");
  CHECK(parse_check_spec(R"({"type":"tcp","severity":"fatal"})").error ==
        "tcp: severity: must be \"critical\" or \"warning\"");
  CHECK(parse_check_spec(R"({"type":"tcp","failure_threshold":0})").error ==
        "tcp: failure_threshold: must be an integer in [1, 1000]");
  CHECK(parse_check_spec("[1,2").error == "checker: invalid JSON");
}

TEST_CASE("SpecReader reads typed keys and rejects unknown ones") {
  auto r = parse_check_spec(
      R"({"type":"x","endpoints":["a","b"],"port":80,"tls":true,"wait":"2s","env":{"A":"1"},)"
      R"("typo_key":1})");
  REQUIRE(r.error.empty());
  SpecReader rd(r.spec);
  CHECK(rd.strings("endpoints") == std::vector<std::string>{"a", "b"});
  CHECK(rd.integer("port", 0, 1, 65535) == 80);
  CHECK(rd.boolean("tls", false));
  CHECK(rd.duration("wait", seconds(1)) == seconds(2));
  CHECK(rd.string_map("env").size() == 1);
  CHECK(rd.str("absent", "dflt") == "dflt");
  CHECK(rd.finish() == "x: typo_key: unknown key for type x");

  SpecReader bad(r.spec);
  bad.integer("port", 0, 1000, 2000);
  bad.str("tls");
  bad.has("endpoints"), bad.has("wait"), bad.has("env"), bad.has("typo_key");
  CHECK(bad.finish() == "x: port: must be an integer in [1000, 2000]; tls: must be a string");
}

TEST_CASE("registry builds by type and names the known types on a miss") {
  CheckerRegistry reg;
  auto log = std::make_shared<vigil::test::FakeCheckerLog>();
  reg.add("fake", [log](const CheckSpec& s, CheckerContext&) {
    return MakeResult::ok(std::make_unique<vigil::test::FakeChecker>(s.name, log));
  });
  reg.add("other",
          [](const CheckSpec& s, CheckerContext&) { return MakeResult::fail(s.name + ": nope"); });
  CheckerContext ctx;
  auto ok = reg.make(parse_check_spec(R"({"type":"fake","name":"f1"})").spec, ctx);
  REQUIRE(ok.checker);
  CHECK(ok.checker->name() == "f1");
  CHECK(ok.checker->type() == "fake");
  CHECK(reg.make(parse_check_spec(R"({"type":"other"})").spec, ctx).error == "other: nope");
  CHECK(reg.make(parse_check_spec(R"({"type":"nosuch"})").spec, ctx).error ==
        "nosuch: unknown checker type \"nosuch\" (known: fake, other)");
  CHECK(reg.types() == std::vector<std::string>{"fake", "other"});
}

#include "checkers/http_client.hpp"

TEST_CASE("host:port and URL parsing") {
  using vigil::checkers::net::split_host_port;
  std::string h, p;
  CHECK(split_host_port("127.0.0.1:2379", h, p));
  CHECK((h == "127.0.0.1" && p == "2379"));
  CHECK(split_host_port("[::1]:53", h, p));
  CHECK((h == "::1" && p == "53"));
  CHECK(split_host_port("fd00::3", h, p, "53"));
  CHECK((h == "fd00::3" && p == "53"));
  CHECK(split_host_port("dns.local", h, p, "53"));
  CHECK_FALSE(split_host_port("host:", h, p));
  CHECK_FALSE(split_host_port("host:65536", h, p));
  CHECK_FALSE(split_host_port("host:99999999999999999999999", h, p));
  CHECK_FALSE(split_host_port("host:http", h, p));
  CHECK(vigil::checkers::net::join_host_port("::1", "80") == "[::1]:80");

  vigil::checkers::http::Url u;
  REQUIRE(vigil::checkers::http::parse_url("https://10.96.0.1/readyz?verbose", u));
  CHECK(u.scheme == "https");
  CHECK(u.host == "10.96.0.1");
  CHECK(u.port == "443");
  CHECK(u.target == "/readyz?verbose");
  REQUIRE(vigil::checkers::http::parse_url("http://[::1]:2379", u));
  CHECK((u.host == "::1" && u.port == "2379" && u.target == "/"));
  CHECK_FALSE(vigil::checkers::http::parse_url("ftp://x/", u));
  CHECK_FALSE(vigil::checkers::http::parse_url("http://user@x/", u));
  CHECK(vigil::checkers::http::snippet("  a\nb\n") == "a b");
}
