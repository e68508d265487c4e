#include "agent/logger.hpp"

#include <doctest/doctest.h>

#include <cstdio>
#include <nlohmann/json.hpp>

using namespace vigil::agent;

TEST_CASE("logger: logfmt line with quoting") {
  Logger log(LogLevel::info, LogFormat::text);
  auto line = log.format(LogLevel::warn, "member suspect",
                         {{"node", "n3"}, {"why", "no ack \"x\""}, {"empty", ""}});
  CHECK(line.rfind("ts=", 0) == 0);
  CHECK(
      line.find(" level=warn msg=\"member suspect\" node=n3 why=\"no ack \\\"x\\\"\" empty=\"\"") !=
      std::string::npos);
  CHECK(line.find('\n') == std::string::npos);
}

TEST_CASE("logger: JSON line and level filter") {
  std::FILE* f = std::tmpfile();
  REQUIRE(f);
  Logger log(LogLevel::info, LogFormat::json, f);
  log.debug("hidden");
  log.info("member joined", {{"node", "n1"}});
  std::rewind(f);
  char buf[512] = {};
  REQUIRE(std::fgets(buf, sizeof buf, f));
  auto j = nlohmann::json::parse(buf);
  CHECK(j["level"] == "info");
  CHECK(j["msg"] == "member joined");
  CHECK(j["node"] == "n1");
  CHECK(std::fgets(buf, sizeof buf, f) == nullptr);  // one line only: debug was filtered
  std::fclose(f);
  CHECK(parse_log_level("warn") == LogLevel::warn);
  CHECK_FALSE(parse_log_level("loud"));
  CHECK(parse_log_format("json") == LogFormat::json);
}
