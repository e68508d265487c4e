#include "agent/duration.hpp"

#include <doctest/doctest.h>

using namespace std::chrono;
using vigil::agent::format_duration;
using vigil::agent::parse_duration;

TEST_CASE("parse_duration table") {
  struct Row {
    const char* in;
    bool ok;
    nanoseconds want;
  } rows[] = {
      {"0", true, 0ns},  {"500ms", true, 500ms}, {"30s", true, 30s},           {"1m30s", true, 90s},
      {"2h", true, 2h},  {"1.5s", true, 1500ms}, {"250us", true, 250us},       {"10ns", true, 10ns},
      {"", false, 0ns},  {"5", false, 0ns},      {"5x", false, 0ns},           {"-1s", false, 0ns},
      {"s", false, 0ns}, {"1s2", false, 0ns},    {"99999999999h", false, 0ns},
  };
  for (const Row& r : rows) {
    CAPTURE(r.in);
    auto d = parse_duration(r.in);
    REQUIRE(d.has_value() == r.ok);
    if (r.ok) CHECK(*d == r.want);
  }
}

TEST_CASE("format_duration round-trips") {
  for (nanoseconds d : {nanoseconds(0), nanoseconds(500ms), nanoseconds(90s), nanoseconds(2h),
                        nanoseconds(1500ms), nanoseconds(7ns), nanoseconds(3h + 1s)}) {
    auto text = format_duration(d);
    CAPTURE(text);
    CHECK(parse_duration(text) == d);
  }
  CHECK(format_duration(90s) == "1m30s");
  CHECK(format_duration(500ms) == "500ms");
}
