#pragma once
// The wire form of cri::StatusResult between the `vigil-cri` helper (which speaks gRPC) and the
// containerd checker in the agent (which does not link gRPC): one JSON object on stdout.

#include <nlohmann/json.hpp>

#include "checkers/cri/cri_client.hpp"

namespace vigil::checkers::cri {

inline nlohmann::json to_json(const StatusResult& r) {
  nlohmann::json conditions = nlohmann::json::array();
  for (const auto& c : r.conditions)
    conditions.push_back(
        {{"type", c.type}, {"status", c.status}, {"reason", c.reason}, {"message", c.message}});
  return {{"ok", r.ok},
          {"error", r.error},
          {"runtime_name", r.runtime_name},
          {"runtime_version", r.runtime_version},
          {"conditions", conditions}};
}

/// Parses the helper's output; a malformed answer becomes a failed result saying so.
inline StatusResult from_json_text(const std::string& text) {
  StatusResult r;
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) {
    r.error = "vigil-cri answered no JSON object";
    return r;
  }
  r.ok = j.value("ok", false);
  r.error = j.value("error", std::string());
  r.runtime_name = j.value("runtime_name", std::string());
  r.runtime_version = j.value("runtime_version", std::string());
  if (auto it = j.find("conditions"); it != j.end() && it->is_array()) {
    for (const auto& c : *it) {
      if (!c.is_object()) continue;
      r.conditions.push_back(Condition{c.value("type", std::string()), c.value("status", false),
                                       c.value("reason", std::string()),
                                       c.value("message", std::string())});
    }
  }
  if (!r.ok && r.error.empty()) r.error = "vigil-cri reported failure without an error";
  return r;
}

}  // namespace vigil::checkers::cri
