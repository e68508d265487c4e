#include "checkers/probe.hpp"

namespace vigil::checkers {

std::string_view to_string(ProbeStatus s) {
  return s == ProbeStatus::running ? "running" : "failed";
}

std::string_view to_string(Severity s) {
  return s == Severity::critical ? "critical" : "warning";
}

std::optional<ProbeStatus> parse_probe_status(std::string_view s) {
  if (s == "running") return ProbeStatus::running;
  if (s == "failed") return ProbeStatus::failed;
  return std::nullopt;
}

std::optional<Severity> parse_severity(std::string_view s) {
  if (s == "critical") return Severity::critical;
  if (s == "warning") return Severity::warning;
  return std::nullopt;
}

Probe Probe::ok(std::string detail) {
  Probe p;
  p.status = ProbeStatus::running;
  p.detail = std::move(detail);
  return p;
}

Probe Probe::fail(Severity severity, std::string error, std::string detail) {
  Probe p;
  p.status = ProbeStatus::failed;
  p.severity = severity;
  p.error = std::move(error);
  p.detail = std::move(detail);
  return p;
}

}  // namespace vigil::checkers
