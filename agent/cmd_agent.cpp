#include <CLI/CLI.hpp>
#include <memory>

#include "agent/agent.hpp"
#include "agent/checkers_extension.hpp"
#include "agent/commands.hpp"
#include "agent/config.hpp"
#include "agent/kube_node_zone.hpp"
#include "agent/logger.hpp"
#include "agent/status_extension.hpp"

namespace vigil::agent {
namespace {

// Raw CLI values; `given` via CLI11's count() (a flag or its VIGIL_* environment variable).
struct AgentCli {
  std::string config, name, bind, advertise, http, data_dir, keyring, profile, log_level,
      log_format, http_token_file, http_tls_cert, http_tls_key;
  std::vector<std::string> join, tags;
  std::vector<std::pair<CLI::Option*, std::string*>> strings;
  CLI::Option* join_opt = nullptr;
  CLI::Option* tag_opt = nullptr;
  std::size_t metrics_max_peers = 0;
  CLI::Option* metrics_peers_opt = nullptr;

  AgentFlags flags() const {
    AgentFlags f;
    std::optional<std::string>* slots[] = {
        &f.config,          &f.name,          &f.bind,        &f.advertise, &f.http,
        &f.data_dir,        &f.keyring,       &f.profile,     &f.log_level, &f.log_format,
        &f.http_token_file, &f.http_tls_cert, &f.http_tls_key};
    for (std::size_t i = 0; i < strings.size(); ++i) {
      if (strings[i].first->count() > 0) *slots[i] = *strings[i].second;
    }
    if (join_opt->count() > 0) f.join = join;
    if (tag_opt->count() > 0) f.tags = tags;
    if (metrics_peers_opt->count() > 0) f.metrics_max_peers = metrics_max_peers;
    return f;
  }
};

int run_agent(const AgentFlags& flags) {
  AgentConfig cfg;
  try {
    cfg = resolve_config(flags);
  } catch (const ConfigError& e) {
    return fail(2, e.what());
  }
  Logger log(*parse_log_level(cfg.log_level), *parse_log_format(cfg.log_format));
  // The status layer (gossiped health, history, /v1/status) and the checkers feeding it.
  std::unique_ptr<StatusExtension> status;
  std::unique_ptr<AgentExtension> checks;
  try {
    status = std::make_unique<StatusExtension>(cfg.name, cfg.data_dir, status_options(cfg));
    checks = make_checkers_extension(cfg, *status, log);
  } catch (const ConfigError& e) {
    return fail(2, e.what());
  } catch (const std::invalid_argument& e) {
    return fail(2, e.what());
  }
  // In a pod without a zone tag: the zone from the Node's labels (off the loop, never fatal).
  std::unique_ptr<AgentExtension> zone = make_kube_node_zone(cfg, log);
  try {
    Agent agent(std::move(cfg), log);
    if (zone) agent.add_extension(std::move(zone));
    agent.add_extension(std::move(status));
    agent.add_extension(std::move(checks));
    return agent.run();
  } catch (const std::exception& e) {
    log.error("agent failed", {{"error", e.what()}});
    return fail(1, e.what());
  }
}

}  // namespace

void add_agent_command(CLI::App& app, Action& action) {
  auto cli = std::make_shared<AgentCli>();
  auto* sub = app.add_subcommand("agent", "Run the agent: join the mesh, serve the HTTP API");
  // Order matches AgentCli::flags() slots.
  struct Spec {
    const char* flag;
    std::string* dest;
    const char* env;
    const char* help;
  } specs[] = {
      {"--config", &cli->config, "VIGIL_CONFIG", "JSON config file (flags override it)"},
      {"--name", &cli->name, "VIGIL_NAME", "Node name (default: $NODE_NAME, then hostname)"},
      {"--bind", &cli->bind, "VIGIL_BIND", "Gossip bind IP:PORT, UDP and TCP (0.0.0.0:7946)"},
      {"--advertise", &cli->advertise, "VIGIL_ADVERTISE",
       "Address peers use, IP[:PORT] (default: bind, or a private address)"},
      {"--http", &cli->http, "VIGIL_HTTP", "HTTP API HOST:PORT (0.0.0.0:7947)"},
      {"--data-dir", &cli->data_dir, "VIGIL_DATA_DIR", "State directory (/var/lib/vigil)"},
      {"--keyring", &cli->keyring, "VIGIL_KEYRING",
       "Keyring file: JSON array of base64 keys, first is primary (none: plaintext)"},
      {"--profile", &cli->profile, "VIGIL_PROFILE", "Gossip timings: lan, wan or local (lan)"},
      {"--log-level", &cli->log_level, "VIGIL_LOG_LEVEL", "debug, info, warn or error (info)"},
      {"--log-format", &cli->log_format, "VIGIL_LOG_FORMAT", "text or json (text)"},
      {"--http-token-file", &cli->http_token_file, "VIGIL_HTTP_TOKEN_FILE",
       "File with a bearer token the HTTP API requires (all but /healthz, /readyz)"},
      {"--http-tls-cert", &cli->http_tls_cert, "VIGIL_HTTP_TLS_CERT",
       "PEM certificate chain: serve the HTTP API over TLS (with --http-tls-key)"},
      {"--http-tls-key", &cli->http_tls_key, "VIGIL_HTTP_TLS_KEY", "PEM private key for TLS"},
  };
  for (const Spec& s : specs) {
    CLI::Option* o = sub->add_option(s.flag, *s.dest, s.help)->envname(s.env);
    cli->strings.emplace_back(o, s.dest);
  }
  cli->join_opt = sub->add_option("--join", cli->join,
                                  "Seed HOST[:PORT] or DNS name to join (repeatable; env "
                                  "VIGIL_JOIN is comma-separated)")
                      ->envname("VIGIL_JOIN")
                      ->delimiter(',');
  cli->tag_opt = sub->add_option("--tag", cli->tags, "Node tag KEY=VALUE (repeatable)")
                     ->envname("VIGIL_TAG")
                     ->delimiter(',');
  cli->metrics_peers_opt =
      sub->add_option("--metrics-max-peers", cli->metrics_max_peers,
                      "Peers with per-peer metric series, lossy first (64; 0: zone totals only)")
          ->envname("VIGIL_METRICS_MAX_PEERS");
  sub->callback([cli, &action] {
    AgentFlags flags = cli->flags();
    action = [flags] { return run_agent(flags); };
  });
}

}  // namespace vigil::agent
