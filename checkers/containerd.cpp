#include "checkers/containerd.hpp"

#include <algorithm>

#include "checkers/cri_process.hpp"
#include "checkers/spec_reader.hpp"

namespace vigil::checkers {
namespace {

std::string describe(const cri::Condition& c) {
  std::string out = c.type + "=" + (c.status ? "true" : "false");
  if (!c.reason.empty() || !c.message.empty()) {
    out += " (" + c.reason;
    if (!c.reason.empty() && !c.message.empty()) out += ": ";
    out += c.message + ")";
  }
  return out;
}

}  // namespace

ContainerdChecker::ContainerdChecker(std::string name, ContainerdConfig config)
    : Checker("containerd", std::move(name)), config_(std::move(config)) {}

Probe ContainerdChecker::run(const CheckContext& /*ctx*/, Deadline deadline) {
  const std::string where = "CRI unix://" + config_.socket;
  cri::StatusResult st = cri::query_status_via_helper(config_.socket, deadline);
  if (!st.ok) {
    std::string hint;
    if (st.error.find("No such file") != std::string::npos ||
        st.error.find("onnection refused") != std::string::npos)
      hint = " (is containerd running with its cri plugin? set `socket` if it listens elsewhere)";
    return Probe::fail(Severity::critical, where + ": " + st.error + hint);
  }

  std::string detail = st.runtime_name + " " + st.runtime_version + ":";
  for (const auto& c : st.conditions) detail += " " + describe(c);
  std::string failures;
  for (const auto& want : config_.conditions) {
    auto it = std::find_if(st.conditions.begin(), st.conditions.end(),
                           [&](const cri::Condition& c) { return c.type == want; });
    std::string f;
    if (it == st.conditions.end())
      f = want + " not reported by the runtime";
    else if (!it->status)
      f = describe(*it);
    if (!f.empty()) failures += (failures.empty() ? "" : "; ") + f;
  }
  if (!failures.empty()) return Probe::fail(Severity::critical, where + ": " + failures, detail);
  return Probe::ok(detail);
}

MakeResult make_containerd_checker(const CheckSpec& spec, CheckerContext& ctx) {
  SpecReader r(spec);
  ContainerdConfig c;
  c.socket = r.str("socket", ctx.host_root + c.socket);
  c.conditions = r.strings("conditions", c.conditions);
  if (c.socket.empty()) r.error("socket", "must not be empty");
  if (auto err = r.finish(); !err.empty()) return MakeResult::fail(err);
  return MakeResult::ok(std::make_unique<ContainerdChecker>(spec.name, std::move(c)));
}

}  // namespace vigil::checkers
