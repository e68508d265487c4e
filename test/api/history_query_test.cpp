// api/history_query + api/query_params: the pure parameter checks of the HTTP API, including
// the inputs the fuzzers found (test/fuzz/regressions/http_query/).
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "api/history_query.hpp"

using namespace vigil::api;

namespace {
constexpr std::int64_t kNow = 1'800'000'000'000;  // 2027-01-15T08:00:00Z

ParsedHistoryQuery parse(std::initializer_list<std::pair<const std::string, std::string>> p) {
  return parse_history_query(QueryParams(p), kNow);
}
}  // namespace

TEST_CASE("history query: valid parameters") {
  auto r = parse({{"since", "1h"},
                  {"until", "30m"},
                  {"node", "n1"},
                  {"checker", "etcd"},
                  {"type", "ProbeFailed"},
                  {"limit", "10000"}});
  REQUIRE(r.query);
  CHECK(r.error.empty());
  CHECK(*r.query->since_ms == kNow - 3'600'000);
  CHECK(*r.query->until_ms == kNow - 1'800'000);
  CHECK(*r.query->node == "n1");
  CHECK(*r.query->checker == "etcd");
  CHECK(*r.query->type == "ProbeFailed");
  CHECK(r.query->limit == 10000);
  auto d = parse({});
  REQUIRE(d.query);
  CHECK(d.query->limit == 1000);
  CHECK(!d.query->since_ms);
}

TEST_CASE("history query: every malformed value is an error") {
  const std::vector<QueryParams> bad = {
      {{"since", "yesterday"}},
      {{"since", ""}},
      {{"until", "2026-13-01T00:00:00Z"}},
      {{"since", "99999999999999999999d"}},
      {{"since", "-1h"}},
      {{"since", "30m"}, {"until", "1h"}},  // since after until
      {{"since", "1h"}, {"until", "1h"}},   // empty range
      {{"limit", "0"}},
      {{"limit", "10001"}},
      {{"limit", "-1"}},
      {{"limit", "1.5"}},
      {{"limit", "1e3"}},
      {{"limit", " 1"}},
      {{"limit", ""}},
      {{"limit", "184467440737095516160"}},
      {{"type", "nodeadded"}},
      {{"type", ""}},
      {{"node", ""}},
      {{"node", std::string(257, 'x')}},
      {{"checker", std::string(1 << 16, 'x')}},
      {{"limit", "1"}, {"limit", "2"}},
      {{"foo", "1"}},
      {{"", ""}},
  };
  for (const auto& p : bad) {
    auto r = parse_history_query(p, kNow);
    CAPTURE(p.begin()->first);
    CAPTURE(p.begin()->second.substr(0, 40));
    CHECK(!r.query);
    CHECK(!r.error.empty());
  }
  CHECK(parse({{"node", std::string(256, 'x')}}).query);
}

TEST_CASE("query params: error texts quote client bytes as valid, bounded UTF-8") {
  // Found by fuzz_http_query: a parameter name with a byte that is not UTF-8 ("node\xbd...")
  // went into the error text verbatim, and nlohmann::json::dump() of the error body threw
  // (-> 500 instead of 400).
  const std::vector<std::string> names = {"node\xbdnode-1",
                                          "\xff\xfe",
                                          "\xc3",
                                          "\xe2\x82",
                                          "\xed\xa0\x80",
                                          "\xf4\x90\x80\x80",
                                          "a\x01\x7f"
                                          "b",
                                          "\xc0\xaf",
                                          std::string(300, 'k'),
                                          std::string(70, 'x') + "\xe2\x9c\x93"};
  for (const std::string& n : names) {
    auto r = parse_history_query(QueryParams{{n, "1"}}, kNow);
    REQUIRE(!r.query);
    std::string body;
    REQUIRE_NOTHROW(body = nlohmann::json{{"error", r.error}}.dump());
    CHECK(r.error.size() < 200);
    auto none = reject_query_params(QueryParams{{n, "1"}});
    REQUIRE_NOTHROW(body = nlohmann::json{{"error", none}}.dump());
  }
  CHECK(quote_param("node") == "'node'");
  CHECK(quote_param("\xe2\x9c\x93") == "'\xe2\x9c\x93'");  // valid UTF-8 is kept
  CHECK(quote_param("a\xffz") == "'a?z'");
  CHECK(quote_param(std::string(65, 'x')) == "'" + std::string(64, 'x') + "...'");
  CHECK(reject_query_params({}).empty());
  CHECK(reject_query_params({{"x", "1"}}).find("'x'") != std::string::npos);
}
