// check_checker_config FILE...: builds every entry of each agent config's `checkers` array with
// the real checker registry (parse_check_spec + the type's factory, which rejects unknown and
// invalid keys), without running anything. Exit 0 when all build; 1 with one line per error.
// Used by test/chart/chart_test.sh on the chart's rendered ConfigMaps and on examples/vigil.json,
// so that the chart's values and the examples stay in step with the checkers' own config.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "checkers/check_spec.hpp"
#include "checkers/registry.hpp"

int main(int argc, char** argv) {
  vigil::checkers::CheckerRegistry registry;
  vigil::checkers::register_builtin_checkers(registry);
  int errors = 0, built = 0;
  for (int i = 1; i < argc; ++i) {
    std::ifstream in(argv[i]);
    std::stringstream text;
    text << in.rdbuf();
    const auto config = nlohmann::json::parse(text.str(), nullptr, false);
    if (!in || config.is_discarded() || !config.is_object()) {
      std::cout << argv[i] << ": not a JSON object\n";
      ++errors;
      continue;
    }
    const auto checkers = config.value("checkers", nlohmann::json::array());
    for (std::size_t n = 0; n < checkers.size(); ++n) {
      auto parsed = vigil::checkers::parse_check_spec(checkers[n]);
      if (!parsed.error.empty()) {
        std::cout << argv[i] << ": checkers[" << n << "]: " << parsed.error << "\n";
        ++errors;
        continue;
      }
      vigil::checkers::CheckerContext ctx;
      ctx.node_name = "config-check";
      auto made = registry.make(parsed.spec, ctx);
      if (!made.checker) {
        std::cout << argv[i] << ": checkers[" << n << "]: " << made.error << "\n";
        ++errors;
        continue;
      }
      ++built;
    }
  }
  std::cout << built << " checkers built, " << errors << " errors\n";
  return errors == 0 ? 0 : 1;
}
