// Regression: a request path or error text with bytes that are not UTF-8 (GET /v1/%FF) made
// nlohmann::json::dump() throw inside httplib's error handler, and the agent aborted
// (found by test/e2e/api_badinput_test.cpp). The error body now carries U+FFFD instead.
#include <doctest/doctest.h>
#include <httplib.h>

#include <nlohmann/json.hpp>

#include "api/http_server.hpp"

using namespace vigil::api;

TEST_CASE("http_server: invalid UTF-8 in a path or an error message gives a JSON error") {
  HttpServer server;
  server.get("/v1/members", [](const HttpRequest&) { return HttpResponse::json("[]"); });
  server.get("/quote", [](const HttpRequest& req) {
    return HttpResponse::error(400, "unknown parameter " + req.param("p"));
  });
  const int port = server.bind("127.0.0.1", 0);
  server.start();
  httplib::Client c("127.0.0.1", port);

  for (const char* path : {"/v1/%FF", "/%C3", "/v1/%ED%A0%80/x"}) {
    CAPTURE(path);
    auto res = c.Get(path);
    REQUIRE(res);
    CHECK(res->status == 404);
    auto j = nlohmann::json::parse(res->body, nullptr, false);
    REQUIRE(j.is_object());
    CHECK(j["error"].get<std::string>().find("\xEF\xBF\xBD") != std::string::npos);  // U+FFFD
  }
  auto res = c.Get("/quote?p=%FF%FE");
  REQUIRE(res);
  CHECK(res->status == 400);
  CHECK(nlohmann::json::parse(res->body)["error"] == "unknown parameter \xEF\xBF\xBD\xEF\xBF\xBD");
  res = c.Get("/v1/members");  // still serving
  REQUIRE(res);
  CHECK(res->status == 200);
  server.stop();
}
