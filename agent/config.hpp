#pragma once
// AgentConfig: everything `vigil agent` runs with, from defaults < config file < flags/env.
// resolve_config() validates all of it up front: any problem is a ConfigError with one
// readable line, reported before anything starts (exit code 2).

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "gossip/config.hpp"
#include "gossip/types.hpp"
#include "gossip/udp/keyring.hpp"

namespace vigil::agent {

/// A bad flag, config key or value, or an unreadable keyring. what() is one line.
struct ConfigError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Values given on the command line or in VIGIL_* environment variables (nullopt: not given).
struct AgentFlags {
  std::optional<std::string> config, name, bind, advertise, http, data_dir, keyring, profile,
      log_level, log_format, http_token_file, http_tls_cert, http_tls_key;
  std::optional<std::vector<std::string>> join;  ///< HOST[:PORT] each; replaces the file's
  std::optional<std::vector<std::string>> tags;  ///< KEY=VALUE each; merged over the file's
  std::optional<std::size_t> metrics_max_peers;  ///< --metrics-max-peers
};

struct AgentConfig {
  /// Node name, unique in the mesh. Default: $NODE_NAME, then the hostname.
  std::string name;
  /// Gossip bind address (UDP and TCP), IP:PORT. Default 0.0.0.0:7946.
  std::string bind = "0.0.0.0:7946";
  /// Address peers use, IP[:PORT]. Default: the bind address, or when that is a wildcard
  /// the first private address of the host (in Kubernetes set it to $POD_IP).
  std::string advertise;
  /// Seeds to join, HOST[:PORT] or DNS names (a headless Service). Empty: start alone.
  std::vector<std::string> join;
  /// HTTP API bind address, HOST:PORT. Default 0.0.0.0:7947.
  std::string http = "0.0.0.0:7947";
  /// Directory for the history database and state. Default /var/lib/vigil.
  std::string data_dir = "/var/lib/vigil";
  /// Node metadata spread with membership (role, zone...).
  gossip::Tags tags;
  /// Keyring file (JSON array of base64 AES-256 keys). Empty: plaintext gossip.
  std::string keyring_path;
  /// The loaded keyring (when keyring_path is set).
  std::optional<gossip::udp::Keyring> keyring;
  /// How often the agent re-reads keyring_path to pick up a rotated keyring (a Kubernetes
  /// Secret volume changes in place); SIGHUP re-reads at once. 0: on SIGHUP only. Default 5s.
  std::chrono::milliseconds keyring_poll_interval{5000};
  /// File holding the HTTP API's bearer token (one word). Empty: the API is open to anyone
  /// who can reach it. /healthz and /readyz stay open for the kubelet's probes.
  std::string http_token_file;
  /// The token read from http_token_file.
  std::string http_token;
  /// PEM certificate chain and key files: serve the HTTP API over TLS. Both or neither.
  std::string http_tls_cert, http_tls_key;
  /// Timing profile: "lan" (default), "wan" or "local"; `gossip` overrides apply on top.
  std::string profile = "lan";
  /// "debug", "info" (default), "warn", "error".
  std::string log_level = "info";
  /// "text" (logfmt, default) or "json".
  std::string log_format = "text";
  /// The final gossip timings: the profile plus the config file's "gossip" overrides.
  gossip::GossipConfig gossip = gossip::GossipConfig::lan();
  /// Peers with per-peer metric series (vigil_peer_*{source_node,destination_node,...}):
  /// those with a lost packet in the last 10 minutes first, then the most recently probed
  /// (sticky, agent/peer_metrics.hpp). Per-zone aggregates (vigil_zone_*) always count every
  /// peer. Bound: per-peer series per agent <= max_peers x protocols (icmp, gossip) x 16
  /// (2 counters, 12 RTT buckets, sum, count): 2,048 with the default, for any mesh size.
  /// Default 64; 0 exports the zone aggregates only. Config file "metrics": {"max_peers": N},
  /// flag --metrics-max-peers.
  std::size_t metrics_max_peers = 64;
  /// Other nodes for which this agent exports vigil_node_up{node} and vigil_probe_up{node,...}
  /// (itself always): nodes that are not running first (degraded, failed), then by name. Every
  /// agent reports its own node, so Prometheus still sees every node, and each fault is still
  /// reported by every observer while at most max_nodes nodes are down at once. Bound per agent:
  /// (1 + max_nodes) x (1 + checkers) series, not nodes x checkers; cluster-wide N x 65 x (1 +
  /// checkers) at the default instead of N^2 x (1 + checkers). Default 64; config file
  /// "metrics": {"max_nodes": N}.
  std::size_t metrics_max_nodes = 64;
  /// History retention: events older than this are deleted from <data-dir>/history.db
  /// (checked at start, then every minute). Config file "history": {"retention": "168h"}: a
  /// duration like the others ("72h", "90m") or whole days, alone or first ("7d", "1d12h").
  /// From 1m to 36500d (100 years). Default 7 days (design.md).
  std::chrono::milliseconds history_retention = std::chrono::hours(24 * 7);
  /// Sections owned by other modules, kept as raw JSON text ("" when absent); "history" and
  /// "metrics" are also applied above (history_retention, metrics_max_*).
  std::string checkers_json, history_json, metrics_json;
};

/// Builds and validates the configuration. Throws ConfigError.
AgentConfig resolve_config(const AgentFlags& flags);

/// resolve_config without reading files: `file_text` is the config file's content (nullopt:
/// none; flags.config only names it in messages). Validates the same, but reads no keyring,
/// token or TLS file (`keyring` and `http_token` stay empty; the paths are kept). Throws
/// ConfigError only, whatever the bytes (test/fuzz/fuzz_config.cpp).
AgentConfig parse_config(const AgentFlags& flags, std::optional<std::string_view> file_text);

/// Applies a JSON object of GossipConfig overrides (durations as strings) to `cfg`.
/// Throws ConfigError naming the bad key. Exposed for tests.
void apply_gossip_overrides(gossip::GossipConfig& cfg, std::string_view json_object_text);

/// A history retention as the config file writes it: a duration ("168h", "90m") or whole days
/// first ("7d", "1d12h"). nullopt on a syntax error or overflow; the range is not checked here.
std::optional<std::chrono::milliseconds> parse_retention(std::string_view text);

/// The profile's GossipConfig; nullopt for an unknown profile name.
std::optional<gossip::GossipConfig> profile_config(std::string_view profile);

/// The default node name: $NODE_NAME, else the hostname.
std::string default_node_name();

}  // namespace vigil::agent
