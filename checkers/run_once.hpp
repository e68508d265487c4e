#pragma once
// run_once: `vigil check` — build checkers from their specs, run each once, concurrently, each
// bounded by its own timeout, and return the probes. No agent, no scheduler, no thresholds.

#include <string>
#include <string_view>
#include <vector>

#include "checkers/check_spec.hpp"
#include "checkers/registry.hpp"

namespace vigil::checkers {

/// The specs of a `checkers` JSON array, or the first error (one line).
struct SpecListResult {
  std::vector<CheckSpec> specs;
  std::string error;
};

/// Parses the agent config's `checkers` array (JSON text of the array). Names must be unique.
SpecListResult parse_check_specs(std::string_view json_array_text);
/// The same from an already parsed JSON array.
SpecListResult parse_check_specs(const nlohmann::json& array);
/// The text form for a std::string or a literal (exact matches; avoids json's implicit ctor).
inline SpecListResult parse_check_specs(const std::string& text) {
  return parse_check_specs(std::string_view(text));
}
inline SpecListResult parse_check_specs(const char* text) {
  return parse_check_specs(std::string_view(text));
}

struct RunOnceOptions {
  /// Run only the checkers with these names (CheckSpec::name); empty: all. An unknown name is
  /// an error.
  std::vector<std::string> only;
  /// The context passed to every run (peers, peer clock: usually empty for `vigil check`).
  CheckContext context;
  /// Extra wait after a run's deadline before it is abandoned and reported as a timeout; a
  /// result within it is kept (as the Scheduler's timeout_grace).
  Duration grace = std::chrono::milliseconds(250);
  /// Cap of each probe's error/detail, bytes. Default 4 KiB (as the Scheduler).
  std::size_t output_cap = 4096;
};

/// Probes in spec order, or a configuration error (then no checker ran).
struct RunOnceResult {
  std::vector<Probe> probes;
  std::string error;
};

/// Builds every spec through `registry` (all config errors are reported together, one per
/// line), then runs the selected checkers concurrently, one thread each, and waits for them
/// (at most the longest timeout plus `grace`). Blocking; call from a plain thread.
RunOnceResult run_checkers_once(const std::vector<CheckSpec>& specs,
                                const CheckerRegistry& registry, CheckerContext& factory_ctx,
                                const RunOnceOptions& options = {});

/// True when no probe is failed with severity critical (the `vigil check` exit code 0).
bool all_ok(const std::vector<Probe>& probes);

}  // namespace vigil::checkers
