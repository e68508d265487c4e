#include "api/metrics_text.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <limits>

using vigil::api::MetricsText;

TEST_CASE("metrics_text: families, labels, escaping") {
  MetricsText m;
  m.family("vigil_members", "gauge", "Members by status.\nSecond \\ line.");
  m.sample("vigil_members", {{"status", "alive"}}, std::uint64_t{3});
  m.sample("vigil_members", {{"status", "we\"ird\\\n"}, {"zone", "a"}}, 1.5);
  m.sample("vigil_up", {}, 1.0);
  CHECK(m.str() ==
        "# HELP vigil_members Members by status.\\nSecond \\\\ line.\n"
        "# TYPE vigil_members gauge\n"
        "vigil_members{status=\"alive\"} 3\n"
        "vigil_members{status=\"we\\\"ird\\\\\\n\",zone=\"a\"} 1.5\n"
        "vigil_up 1\n");
}

TEST_CASE("metrics_text: value formatting") {
  CHECK(MetricsText::format_value(0) == "0");
  CHECK(MetricsText::format_value(-2) == "-2");
  CHECK(MetricsText::format_value(0.25) == "0.25");
  CHECK(MetricsText::format_value(1e20) == "1e+20");
  CHECK(MetricsText::format_value(std::numeric_limits<double>::infinity()) == "+Inf");
  CHECK(MetricsText::format_value(-std::numeric_limits<double>::infinity()) == "-Inf");
  CHECK(MetricsText::format_value(std::nan("")) == "NaN");
  std::vector<std::pair<std::string, std::string>> labels{{"le", "0.5"}};
  MetricsText m;
  m.sample("x_bucket", labels, 7.0);
  CHECK(m.str() == "x_bucket{le=\"0.5\"} 7\n");
}
