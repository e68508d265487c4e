// libFuzzer target: the agent's configuration (agent::parse_config: the JSON config file and
// the flags, as `vigil agent` resolves them) and each element of its "checkers" array
// (checkers::parse_check_spec). Whatever the bytes, the result is a valid AgentConfig or a
// ConfigError with one line; any other exception, crash or sanitizer report is a finding.
//
// Input: segments separated by NUL bytes. The first is the config file's text (empty: no
// file); each further one is a flag "<name>=<value>" (name, bind, advertise, http, data_dir,
// keyring, profile, log_level, log_format, join, tag; join and tag repeat).
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "agent/config.hpp"
#include "agent/logger.hpp"
#include "checkers/check_spec.hpp"

using namespace vigil;

namespace {

void set_flag(agent::AgentFlags& f, std::string_view seg) {
  const auto eq = seg.find('=');
  if (eq == std::string_view::npos) return;
  const std::string_view key = seg.substr(0, eq);
  std::string v(seg.substr(eq + 1));
  if (key == "name") f.name = v;
  if (key == "bind") f.bind = v;
  if (key == "advertise") f.advertise = v;
  if (key == "http") f.http = v;
  if (key == "data_dir") f.data_dir = v;
  if (key == "keyring") f.keyring = v;
  if (key == "profile") f.profile = v;
  if (key == "log_level") f.log_level = v;
  if (key == "log_format") f.log_format = v;
  if (key == "join") {
    if (!f.join) f.join.emplace();
    f.join->push_back(v);
  }
  if (key == "tag") {
    if (!f.tags) f.tags.emplace();
    f.tags->push_back(v);
  }
}

// What parse_config promises about a config it returns.
void check(const agent::AgentConfig& c) {
  if (c.name.empty() || c.bind.empty() || c.http.empty()) std::abort();
  if (!c.gossip.validate().empty()) std::abort();
  if (!agent::parse_log_level(c.log_level) || !agent::parse_log_format(c.log_format)) std::abort();
  if (!agent::profile_config(c.profile)) std::abort();
  if (c.keyring || !c.http_token.empty()) std::abort();  // parse_config reads no file
  std::size_t tag_bytes = 0;
  for (const auto& [k, v] : c.tags) tag_bytes += k.size() + v.size();
  if (tag_bytes > c.gossip.max_tags_bytes) std::abort();
  for (const std::string* section : {&c.checkers_json, &c.history_json, &c.metrics_json}) {
    if (!section->empty() && nlohmann::json::parse(*section, nullptr, false).is_discarded()) {
      std::abort();  // raw sections are re-serialized JSON
    }
  }
}

// Integer gossip settings keep the value the file gave (no silent wrap-around into range).
void check_gossip_integers(const agent::AgentConfig& c, std::string_view file) {
  auto j = nlohmann::json::parse(file, nullptr, false);
  if (!j.is_object() || !j.contains("gossip") || !j["gossip"].is_object()) return;
  const auto& g = j["gossip"];
  const std::pair<const char*, int> ints[] = {
      {"indirect_checks", c.gossip.indirect_checks},
      {"suspicion_mult", c.gossip.suspicion_mult},
      {"suspicion_max_timeout_mult", c.gossip.suspicion_max_timeout_mult},
      {"awareness_max_multiplier", c.gossip.awareness_max_multiplier},
      {"retransmit_mult", c.gossip.retransmit_mult},
      {"gossip_nodes", c.gossip.gossip_nodes}};
  for (const auto& [key, got] : ints) {
    auto it = g.find(key);
    if (it == g.end() || !it->is_number_integer()) continue;
    if (it->is_number_unsigned() ? it->get<std::uint64_t>() != std::uint64_t(got)
                                 : it->get<std::int64_t>() != got) {
      std::abort();
    }
  }
}

// The checkers section as the agent hands it to the checkers module: one spec per element.
void check_specs(const std::string& checkers_json) {
  if (checkers_json.empty()) return;
  auto arr = nlohmann::json::parse(checkers_json, nullptr, false);
  if (!arr.is_array()) return;
  for (const auto& j : arr) {
    auto r = checkers::parse_check_spec(j);
    if (!r.error.empty()) continue;
    if (r.spec.type.empty() || r.spec.name.empty() || !r.spec.params) std::abort();
    if (r.spec.timeout <= checkers::Duration::zero() || r.spec.timeout > r.spec.interval) {
      std::abort();
    }
    if (r.spec.failure_threshold < 1 || r.spec.success_threshold < 1) std::abort();
  }
}

}  // namespace

// The default node name comes from $NODE_NAME: fixed, so runs do not depend on the host.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  setenv("NODE_NAME", "fuzz", 1);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  agent::AgentFlags flags;
  std::size_t pos = in.find('\0');
  const std::string_view file = in.substr(0, pos);
  while (pos != std::string_view::npos) {
    const std::size_t next = in.find('\0', pos + 1);
    set_flag(flags, in.substr(pos + 1, next == std::string_view::npos ? next : next - pos - 1));
    pos = next;
  }
  std::optional<std::string_view> text;
  if (!file.empty()) {
    flags.config = "fuzz.json";
    text = file;
  }
  try {
    auto c = agent::parse_config(flags, text);
    check(c);
    if (text) check_gossip_integers(c, *text);
    check_specs(c.checkers_json);
  } catch (const agent::ConfigError& e) {
    if (std::string_view(e.what()).empty()) std::abort();
  }
  return 0;
}
