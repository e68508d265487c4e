// HTTP API security in-process: bearer token (and Basic with the token as password), open
// probe paths, read-only methods, TLS with a certificate made in the test.
#include <doctest/doctest.h>
#include <httplib.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "api/http_auth.hpp"
#include "api/http_server.hpp"
#include "api/http_tls.hpp"
#include "test/e2e/security_test_cert.hpp"

using namespace vigil::api;

namespace {

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/vigil-auth-test-XXXXXX";
    if (!mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

struct Running {
  HttpServer server;
  int port = 0;
  explicit Running(HttpServer::Options o) : server(std::move(o)) {
    server.get("/v1/members", [](const HttpRequest&) { return HttpResponse::json("[]"); });
    server.get("/healthz", [](const HttpRequest&) { return HttpResponse::json("{}"); });
    server.get("/readyz", [](const HttpRequest&) { return HttpResponse::json("{}"); });
  }
  void start() {
    port = server.bind("127.0.0.1", 0);
    server.start();
  }
  ~Running() { server.stop(); }
};

std::string base64(const std::string& s) {
  std::string out(4 * ((s.size() + 2) / 3), '\0');
  EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                  reinterpret_cast<const unsigned char*>(s.data()), static_cast<int>(s.size()));
  return out;
}

}  // namespace

TEST_CASE("token_equal: equal only for the same bytes and length") {
  CHECK(token_equal("s3cret-token", "s3cret-token"));
  CHECK_FALSE(token_equal("s3cret-tokem", "s3cret-token"));
  CHECK_FALSE(token_equal("s3cret-toke", "s3cret-token"));
  CHECK_FALSE(token_equal("s3cret-token-and-more", "s3cret-token"));
  CHECK_FALSE(token_equal("", "s3cret-token"));
  CHECK_FALSE(token_equal(std::string_view("s3cret-token\0", 13), "s3cret-token"));
}

TEST_CASE("check_auth: bearer, basic, open paths, no token configured") {
  const std::vector<std::string> open{"/healthz", "/readyz"};
  const std::string tok = "abc123";
  struct Row {
    const char* path;
    std::string header;
    AuthResult want;
  } rows[] = {
      {"/v1/status", "", AuthResult::missing},
      {"/v1/status", "Bearer abc123", AuthResult::ok},
      {"/v1/status", "bearer   abc123 ", AuthResult::ok},
      {"/v1/status", "Bearer abc124", AuthResult::wrong},
      {"/v1/status", "Bearer", AuthResult::wrong},
      {"/v1/status", "Token abc123", AuthResult::wrong},
      {"/v1/status", "Basic " + base64("admin:abc123"), AuthResult::ok},
      {"/v1/status", "Basic " + base64(":abc123"), AuthResult::ok},
      {"/v1/status", "Basic " + base64("abc123"), AuthResult::wrong},
      {"/v1/status", "Basic " + base64("admin:nope"), AuthResult::wrong},
      {"/v1/status", "Basic !!!!", AuthResult::wrong},
      {"/healthz", "", AuthResult::ok},
      {"/readyz", "Bearer wrong", AuthResult::ok},
      {"/healthz/x", "", AuthResult::missing},
  };
  for (const Row& r : rows) {
    CAPTURE(r.path);
    CAPTURE(r.header);
    CHECK(check_auth(r.path, r.header, tok, open) == r.want);
  }
  CHECK(check_auth("/v1/status", "", "", open) == AuthResult::ok);
}

TEST_CASE("parse_token: trims, rejects empty and inner blanks") {
  std::string err;
  CHECK(parse_token("  tok-EN_123=\n", err) == "tok-EN_123=");
  err.clear();
  CHECK(parse_token(" \n\t", err).empty());
  CHECK(err == "is empty");
  err.clear();
  CHECK(parse_token("two words", err).empty());
  CHECK_FALSE(err.empty());
  err.clear();
  CHECK(parse_token("caf\xC3\xA9", err).empty());
  CHECK_FALSE(err.empty());
}

TEST_CASE("HttpServer with a token: 401 JSON without it, probes open, read-only") {
  HttpServer::Options o;
  o.bearer_token = "t0ken";
  Running r(o);
  r.start();
  httplib::Client c("127.0.0.1", r.port);

  auto res = c.Get("/v1/members");
  REQUIRE(res);
  CHECK(res->status == 401);
  CHECK(res->get_header_value("Content-Type") == "application/json");
  CHECK(res->get_header_value("WWW-Authenticate").find("Bearer") != std::string::npos);
  CHECK(nlohmann::json::parse(res->body)["error"] == "authentication required");

  res = c.Get("/v1/members", {{"Authorization", "Bearer nope"}});
  REQUIRE(res);
  CHECK(res->status == 401);
  CHECK(nlohmann::json::parse(res->body)["error"] == "wrong credentials");

  res = c.Get("/nope");  // unknown paths do not tell an unauthenticated client anything
  REQUIRE(res);
  CHECK(res->status == 401);

  for (const char* p : {"/healthz", "/readyz"}) {
    res = c.Get(p);
    REQUIRE(res);
    CHECK(res->status == 200);
  }

  c.set_bearer_token_auth("t0ken");
  res = c.Get("/v1/members");
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(res->body == "[]");

  // Read-only: no other method reaches a handler.
  for (auto* call : {+[](httplib::Client& k) { return k.Post("/v1/members", "{}", "x/y"); },
                     +[](httplib::Client& k) { return k.Put("/v1/members", "{}", "x/y"); },
                     +[](httplib::Client& k) { return k.Delete("/v1/members"); },
                     +[](httplib::Client& k) { return k.Patch("/v1/members", "{}", "x/y"); }}) {
    auto w = call(c);
    REQUIRE(w);
    CHECK(w->status == 405);
    CHECK(w->get_header_value("Allow") == "GET, HEAD");
    CHECK(nlohmann::json::parse(w->body, nullptr, false).contains("error"));
  }
}

TEST_CASE("HttpServer over TLS: verified with the CA, plain HTTP refused cleanly") {
  TempDir dir;
  auto cert = vigil::testcert::make_self_signed(dir.path + "/server");
  auto other = vigil::testcert::make_self_signed(dir.path + "/other");
  HttpServer::Options o;
  o.tls_cert_file = cert.cert;
  o.tls_key_file = cert.key;
  Running r(o);
  r.start();
  const std::string url = "https://127.0.0.1:" + std::to_string(r.port);

  httplib::Client good(url);
  good.set_ca_cert_path(cert.cert);
  good.enable_server_certificate_verification(true);
  auto res = good.Get("/v1/members");
  REQUIRE(res);
  CHECK(res->status == 200);

  httplib::Client wrong_ca(url);
  wrong_ca.set_ca_cert_path(other.cert);
  wrong_ca.enable_server_certificate_verification(true);
  res = wrong_ca.Get("/v1/members");
  CHECK_FALSE(res);
  CHECK(res.error() == httplib::Error::SSLServerVerification);

  httplib::Client plain("127.0.0.1", r.port);
  plain.set_read_timeout(std::chrono::seconds(5));
  res = plain.Get("/v1/members");
  CHECK_FALSE(res);  // no HTTP answer from a TLS port, and no hang

  // The server still serves after the garbage.
  res = good.Get("/healthz");
  REQUIRE(res);
  CHECK(res->status == 200);
}

TEST_CASE("TLS files: one-line errors for missing, non-PEM, mismatched, half-given") {
  TempDir dir;
  auto a = vigil::testcert::make_self_signed(dir.path + "/a");
  auto b = vigil::testcert::make_self_signed(dir.path + "/b");
  CHECK_NOTHROW(check_tls_files(a.cert, a.key));
  const std::string junk = dir.path + "/junk.pem";
  std::ofstream(junk) << "not a certificate\n";

  auto message = [](const std::string& cert, const std::string& key) {
    try {
      check_tls_files(cert, key);
    } catch (const std::runtime_error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(message(dir.path + "/missing.crt", a.key).find("cannot read TLS certificate file") == 0);
  CHECK(message(a.cert, dir.path + "/missing.key").find("cannot read TLS key file") == 0);
  CHECK(message(junk, a.key).find("is not a PEM certificate") != std::string::npos);
  CHECK(message(a.cert, junk).find("is not an unencrypted PEM private key") != std::string::npos);
  CHECK(message(a.cert, b.key).find("does not match the certificate") != std::string::npos);
  for (const auto& m : {message(junk, a.key), message(a.cert, b.key)}) {
    CHECK(m.find('\n') == std::string::npos);
  }

  HttpServer::Options half;
  half.tls_cert_file = a.cert;
  CHECK_THROWS_AS(HttpServer{half}, std::runtime_error);
  HttpServer::Options bad;
  bad.tls_cert_file = a.cert;
  bad.tls_key_file = b.key;
  CHECK_THROWS_WITH_AS(HttpServer{bad}, doctest::Contains("does not match"), std::runtime_error);
}
