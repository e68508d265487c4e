#include "checkers/cri_process.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <string_view>

#include "checkers/cri/cri_result_json.hpp"
#include "checkers/exec.hpp"

namespace vigil::checkers::cri {

std::string helper_path() {
  if (const char* env = std::getenv("VIGIL_CRI_HELPER"); env && *env) return env;
  std::error_code ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "vigil-cri";  // searched in $PATH
  return (self.parent_path() / "vigil-cri").string();
}

StatusResult query_status_via_helper(const std::string& socket_path, Deadline deadline) {
  ExecConfig cfg;
  // The helper's own gRPC deadline comes first (3/4 of the time left), so it can still print
  // DEADLINE_EXCEEDED and exit before run_exec kills it near our deadline.
  int budget_ms = std::max(1, deadline.remaining_ms() * 3 / 4);
  cfg.argv = {helper_path(), socket_path, std::to_string(budget_ms)};
  cfg.output_limit = 64 * 1024;
  ExecResult run = run_exec(cfg, deadline);
  StatusResult r;
  if (!run.error.empty()) {
    r.error = run.error + " (the containerd checker needs the vigil-cri helper next to vigil)";
    return r;
  }
  if (run.timed_out) {
    r.error = "no answer before the deadline";
    return r;
  }
  if (run.exit_code != 0) {
    std::string out = run.output.substr(0, 200);
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
    r.error = "vigil-cri exited with " +
              (run.signal ? "signal " + std::to_string(run.signal)
                          : "code " + std::to_string(run.exit_code)) +
              (out.empty() ? "" : ": " + out);
    return r;
  }
  // stdout and stderr arrive together; gRPC may log on stderr, the answer is the last JSON line.
  std::string_view out = run.output;
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.remove_suffix(1);
  auto nl = out.rfind('\n');
  return from_json_text(std::string(nl == std::string_view::npos ? out : out.substr(nl + 1)));
}

}  // namespace vigil::checkers::cri
