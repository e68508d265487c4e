#include "agent/config.hpp"

#include <unistd.h>

#include <climits>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "agent/duration.hpp"
#include "agent/logger.hpp"
#include "api/http_auth.hpp"
#include "api/http_tls.hpp"
#include "gossip/codec.hpp"
#include "gossip/udp/address.hpp"

namespace vigil::agent {
namespace {

using nlohmann::json;

std::string type_name(const json& v) {
  return v.type_name();
}

std::string want_string(const json& v, const std::string& key) {
  if (!v.is_string()) throw ConfigError(key + " must be a string, got " + type_name(v));
  return v.get<std::string>();
}

// A duration string ("5s", "0s" = never); at least 100ms when not 0.
std::chrono::milliseconds want_poll_interval(const json& v, const std::string& key) {
  auto d = parse_duration(want_string(v, key));
  if (!d || *d < std::chrono::nanoseconds::zero() ||
      (*d > std::chrono::nanoseconds::zero() && *d < std::chrono::milliseconds(100))) {
    throw ConfigError(key + " must be a duration of at least 100ms (e.g. \"5s\"), or \"0s\"");
  }
  return std::chrono::duration_cast<std::chrono::milliseconds>(*d);
}

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    while (!item.empty() && item.front() == ' ') item.erase(item.begin());
    while (!item.empty() && item.back() == ' ') item.pop_back();
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

// One GossipConfig field: how to set it from JSON.
using Setter = std::function<void(gossip::GossipConfig&, const json&, const std::string& key)>;

Setter duration_field(gossip::Duration gossip::GossipConfig::*field) {
  return [field](gossip::GossipConfig& c, const json& v, const std::string& key) {
    if (!v.is_string()) {
      throw ConfigError(key + " must be a duration string like \"500ms\" or \"30s\"");
    }
    auto d = parse_duration(v.get<std::string>());
    if (!d) {
      throw ConfigError(key + ": invalid duration \"" + v.get<std::string>() +
                        "\" (use e.g. 500ms, 30s, 1m)");
    }
    c.*field = std::chrono::duration_cast<gossip::Duration>(*d);
  };
}

Setter int_field(int gossip::GossipConfig::*field) {
  return [field](gossip::GossipConfig& c, const json& v, const std::string& key) {
    if (!v.is_number_integer()) throw ConfigError(key + " must be an integer");
    // get<int>() would wrap 4294967300 silently to 4 (test/fuzz/regressions/config/).
    const bool fits = v.is_number_unsigned() ? v.get<std::uint64_t>() <= INT_MAX
                                             : v.get<std::int64_t>() >= INT_MIN;
    if (!fits) throw ConfigError(key + " is out of range (" + v.dump() + ")");
    c.*field = v.get<int>();
  };
}

Setter size_field(std::size_t gossip::GossipConfig::*field) {
  return [field](gossip::GossipConfig& c, const json& v, const std::string& key) {
    if (!v.is_number_unsigned()) throw ConfigError(key + " must be a non-negative integer");
    c.*field = v.get<std::size_t>();
  };
}

Setter bool_field(bool gossip::GossipConfig::*field) {
  return [field](gossip::GossipConfig& c, const json& v, const std::string& key) {
    if (!v.is_boolean()) throw ConfigError(key + " must be true or false");
    c.*field = v.get<bool>();
  };
}

const std::map<std::string, Setter>& gossip_fields() {
  using G = gossip::GossipConfig;
  static const std::map<std::string, Setter> fields = {
      {"probe_interval", duration_field(&G::probe_interval)},
      {"probe_timeout", duration_field(&G::probe_timeout)},
      {"indirect_checks", int_field(&G::indirect_checks)},
      {"tcp_fallback_probe", bool_field(&G::tcp_fallback_probe)},
      {"suspicion_mult", int_field(&G::suspicion_mult)},
      {"suspicion_max_timeout_mult", int_field(&G::suspicion_max_timeout_mult)},
      {"awareness_max_multiplier", int_field(&G::awareness_max_multiplier)},
      {"retransmit_mult", int_field(&G::retransmit_mult)},
      {"gossip_interval", duration_field(&G::gossip_interval)},
      {"gossip_nodes", int_field(&G::gossip_nodes)},
      {"gossip_to_the_dead_time", duration_field(&G::gossip_to_the_dead_time)},
      {"push_pull_interval", duration_field(&G::push_pull_interval)},
      {"reconnect_interval", duration_field(&G::reconnect_interval)},
      {"stream_timeout", duration_field(&G::stream_timeout)},
      {"udp_buffer_size", size_field(&G::udp_buffer_size)},
      {"max_tags_bytes", size_field(&G::max_tags_bytes)},
      {"dead_reap_timeout", duration_field(&G::dead_reap_timeout)},
      {"left_reap_timeout", duration_field(&G::left_reap_timeout)},
      {"doubt_returnee_verdicts", bool_field(&G::doubt_returnee_verdicts)},
  };
  return fields;
}

void add_tag(gossip::Tags& tags, const std::string& kv, const std::string& where) {
  auto eq = kv.find('=');
  if (eq == std::string::npos || eq == 0) {
    throw ConfigError(where + ": tag \"" + kv + "\" must be KEY=VALUE");
  }
  gossip::set_tag(tags, kv.substr(0, eq), kv.substr(eq + 1));
}

std::string read_config_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ConfigError("cannot read config file " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

constexpr std::size_t kMaxMetricsPeers = 100000;

// The "metrics" section: {"max_peers": N, "max_nodes": N}.
void apply_metrics(AgentConfig& c, const json& v, const std::string& at) {
  if (!v.is_object()) throw ConfigError(at + "metrics must be an object");
  for (const auto& [key, mv] : v.items()) {
    if (key != "max_peers" && key != "max_nodes")
      throw ConfigError(at + "unknown key \"metrics." + key + "\"");
    if (!mv.is_number_unsigned() || mv.get<std::uint64_t>() > kMaxMetricsPeers) {
      throw ConfigError(at + "metrics." + key + " must be an integer from 0 to " +
                        std::to_string(kMaxMetricsPeers));
    }
    (key == "max_peers" ? c.metrics_max_peers : c.metrics_max_nodes) = mv.get<std::size_t>();
  }
}

constexpr std::chrono::milliseconds kMinRetention = std::chrono::minutes(1);
constexpr std::int64_t kMaxRetentionDays = 36500;  // 100 years
constexpr std::chrono::milliseconds kMaxRetention = std::chrono::hours(24 * kMaxRetentionDays);

// The "history" section: {"retention": "168h"}.
void apply_history(AgentConfig& c, const json& v, const std::string& at) {
  if (!v.is_object()) throw ConfigError(at + "history must be an object");
  for (const auto& [key, hv] : v.items()) {
    if (key != "retention") throw ConfigError(at + "unknown key \"history." + key + "\"");
    const std::string what = at + "history.retention must be a duration from 1m to " +
                             std::to_string(kMaxRetentionDays) + "d, like \"168h\" or \"7d\"";
    if (!hv.is_string()) throw ConfigError(what + ", got " + hv.dump());
    const auto r = parse_retention(hv.get<std::string>());
    if (!r || *r < kMinRetention || *r > kMaxRetention)
      throw ConfigError(what + ", got " + hv.dump());
    c.history_retention = *r;
  }
}

// The config file's values (its text), applied onto `c`. Keys mirror the flags.
std::string apply_file(AgentConfig& c, std::string_view text, const std::string& path) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) throw ConfigError("config file " + path + " is not valid JSON");
  if (!j.is_object()) throw ConfigError("config file " + path + " must hold a JSON object");
  const std::string at = "config " + path + ": ";
  std::string gossip_overrides;
  for (const auto& [key, v] : j.items()) {
    if (key == "name")
      c.name = want_string(v, at + key);
    else if (key == "bind")
      c.bind = want_string(v, at + key);
    else if (key == "advertise")
      c.advertise = want_string(v, at + key);
    else if (key == "http")
      c.http = want_string(v, at + key);
    else if (key == "data_dir")
      c.data_dir = want_string(v, at + key);
    else if (key == "keyring")
      c.keyring_path = want_string(v, at + key);
    else if (key == "keyring_poll_interval")
      c.keyring_poll_interval = want_poll_interval(v, at + key);
    else if (key == "http_token_file")
      c.http_token_file = want_string(v, at + key);
    else if (key == "http_tls_cert")
      c.http_tls_cert = want_string(v, at + key);
    else if (key == "http_tls_key")
      c.http_tls_key = want_string(v, at + key);
    else if (key == "profile")
      c.profile = want_string(v, at + key);
    else if (key == "log_level")
      c.log_level = want_string(v, at + key);
    else if (key == "log_format")
      c.log_format = want_string(v, at + key);
    else if (key == "join") {
      if (v.is_string()) {
        c.join = split_commas(v.get<std::string>());
      } else if (v.is_array()) {
        c.join.clear();
        for (const auto& e : v) c.join.push_back(want_string(e, at + "join[]"));
      } else {
        throw ConfigError(at + "join must be an array of HOST[:PORT] strings");
      }
    } else if (key == "tags") {
      if (!v.is_object()) throw ConfigError(at + "tags must be an object of strings");
      for (const auto& [k, tv] : v.items()) {
        gossip::set_tag(c.tags, k, want_string(tv, at + "tags." + k));
      }
    } else if (key == "gossip") {
      if (!v.is_object()) throw ConfigError(at + "gossip must be an object");
      gossip_overrides = v.dump();
    } else if (key == "checkers")
      c.checkers_json = v.dump();
    else if (key == "history") {
      c.history_json = v.dump();
      apply_history(c, v, at);
    } else if (key == "metrics") {
      c.metrics_json = v.dump();
      apply_metrics(c, v, at);
    } else
      throw ConfigError(at + "unknown key \"" + key + "\"");
  }
  return gossip_overrides;
}

void check_host_port(const std::string& what, const std::string& value, bool numeric) {
  auto hp = gossip::udp::split_host_port(value, 0);
  if (!hp || value.find(':') == std::string::npos) {
    throw ConfigError(what + " must be HOST:PORT, got \"" + value + "\"");
  }
  if (numeric && !gossip::udp::is_ip_literal(hp->host)) {
    throw ConfigError(what + " must be an IP address and port, got \"" + value + "\"");
  }
}

}  // namespace

std::optional<std::chrono::milliseconds> parse_retention(std::string_view text) {
  using std::chrono::milliseconds;
  if (text.empty()) return std::nullopt;
  std::int64_t days = 0;
  if (const auto d = text.find('d'); d != std::string_view::npos) {  // no other unit has a 'd'
    if (d == 0 || d > 6) return std::nullopt;  // 1 to 6 digits: no overflow below
    for (char ch : text.substr(0, d)) {
      if (ch < '0' || ch > '9') return std::nullopt;
      days = days * 10 + (ch - '0');
    }
    text.remove_prefix(d + 1);
  }
  milliseconds rest{0};
  if (!text.empty()) {
    const auto r = parse_duration(text);
    if (!r) return std::nullopt;
    rest = std::chrono::duration_cast<milliseconds>(*r);
  }
  return milliseconds(std::chrono::hours(24 * days)) + rest;
}

std::optional<gossip::GossipConfig> profile_config(std::string_view profile) {
  if (profile == "lan") return gossip::GossipConfig::lan();
  if (profile == "wan") return gossip::GossipConfig::wan();
  if (profile == "local") return gossip::GossipConfig::local();
  return std::nullopt;
}

void apply_gossip_overrides(gossip::GossipConfig& cfg, std::string_view json_object_text) {
  json j = json::parse(json_object_text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) throw ConfigError("gossip must be a JSON object");
  for (const auto& [key, v] : j.items()) {
    auto it = gossip_fields().find(key);
    if (it == gossip_fields().end()) throw ConfigError("unknown key \"gossip." + key + "\"");
    it->second(cfg, v, "gossip." + key);
  }
}

std::string default_node_name() {
  if (const char* n = std::getenv("NODE_NAME"); n && *n) return n;
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) == 0 && host[0]) return host;
  return "vigil";
}

AgentConfig resolve_config(const AgentFlags& f) {
  std::optional<std::string> text;
  if (f.config) text = read_config_file(*f.config);
  AgentConfig c = parse_config(f, text ? std::optional<std::string_view>(*text) : std::nullopt);
  if (!c.keyring_path.empty()) {
    try {
      c.keyring = gossip::udp::Keyring::load_file(c.keyring_path);
    } catch (const std::exception& e) {
      throw ConfigError(e.what());
    }
  }
  if (!c.http_token_file.empty()) {
    std::ifstream in(c.http_token_file);
    if (!in) throw ConfigError("cannot read HTTP token file " + c.http_token_file);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string why;
    c.http_token = api::parse_token(ss.str(), why);
    if (c.http_token.empty()) throw ConfigError("HTTP token file " + c.http_token_file + " " + why);
  }
  if (!c.http_tls_cert.empty()) {
    try {
      api::check_tls_files(c.http_tls_cert, c.http_tls_key);
    } catch (const std::exception& e) {
      throw ConfigError(e.what());
    }
  }
  return c;
}

AgentConfig parse_config(const AgentFlags& f, std::optional<std::string_view> file_text) {
  AgentConfig c;
  std::string gossip_overrides;
  if (file_text) gossip_overrides = apply_file(c, *file_text, f.config.value_or("(text)"));

  if (f.name) c.name = *f.name;
  if (f.bind) c.bind = *f.bind;
  if (f.advertise) c.advertise = *f.advertise;
  if (f.http) c.http = *f.http;
  if (f.data_dir) c.data_dir = *f.data_dir;
  if (f.keyring) c.keyring_path = *f.keyring;
  if (f.http_token_file) c.http_token_file = *f.http_token_file;
  if (f.http_tls_cert) c.http_tls_cert = *f.http_tls_cert;
  if (f.http_tls_key) c.http_tls_key = *f.http_tls_key;
  if (f.profile) c.profile = *f.profile;
  if (f.log_level) c.log_level = *f.log_level;
  if (f.log_format) c.log_format = *f.log_format;
  if (f.join) {
    c.join.clear();
    for (const auto& j : *f.join) {
      for (auto& s : split_commas(j)) c.join.push_back(s);
    }
  }
  if (f.tags) {
    for (const auto& t : *f.tags) add_tag(c.tags, t, "--tag");
  }
  if (f.metrics_max_peers) {
    if (*f.metrics_max_peers > kMaxMetricsPeers) {
      throw ConfigError("--metrics-max-peers must be from 0 to " +
                        std::to_string(kMaxMetricsPeers));
    }
    c.metrics_max_peers = *f.metrics_max_peers;
  }

  if (c.name.empty()) c.name = default_node_name();
  auto prof = profile_config(c.profile);
  if (!prof) {
    throw ConfigError("profile must be lan, wan or local, got \"" + c.profile + "\"");
  }
  c.gossip = *prof;
  if (!gossip_overrides.empty()) apply_gossip_overrides(c.gossip, gossip_overrides);
  if (auto errs = c.gossip.validate(); !errs.empty()) {
    throw ConfigError("invalid gossip settings: " + errs.front());
  }
  if (!parse_log_level(c.log_level)) {
    throw ConfigError("log level must be debug, info, warn or error, got \"" + c.log_level + "\"");
  }
  if (!parse_log_format(c.log_format)) {
    throw ConfigError("log format must be text or json, got \"" + c.log_format + "\"");
  }
  check_host_port("bind", c.bind, true);
  check_host_port("http", c.http, false);
  if (c.http_tls_cert.empty() != c.http_tls_key.empty()) {
    throw ConfigError("HTTP TLS needs both --http-tls-cert and --http-tls-key");
  }
  if (!c.advertise.empty()) {
    auto hp = gossip::udp::split_host_port(c.advertise, 0);
    if (!hp || !gossip::udp::is_ip_literal(hp->host)) {
      throw ConfigError("advertise must be IP[:PORT], got \"" + c.advertise + "\"");
    }
  }
  for (const auto& seed : c.join) {
    if (!gossip::udp::split_host_port(seed, 7946)) {
      throw ConfigError("join address must be HOST[:PORT], got \"" + seed + "\"");
    }
  }
  std::size_t tag_bytes = 0;
  for (const auto& [k, v] : c.tags) tag_bytes += k.size() + v.size();
  if (tag_bytes > c.gossip.max_tags_bytes) {
    throw ConfigError("tags take " + std::to_string(tag_bytes) + " bytes, more than " +
                      "gossip.max_tags_bytes (" + std::to_string(c.gossip.max_tags_bytes) + ")");
  }
  // Per entry too: a tag the peers' decoders refuse would get every message of ours dropped.
  if (const std::string why = gossip::codec::tags_problem(c.tags, c.gossip.max_tags_bytes);
      !why.empty())
    throw ConfigError(why);
  return c;
}

}  // namespace vigil::agent
