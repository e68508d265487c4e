// `vigil status`: the cluster verdict from any agent, for a person during an outage.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>

#include "agent/commands_status.hpp"
#include "agent/duration.hpp"
#include "agent/status_client.hpp"

namespace vigil::agent {
namespace {

struct StatusCli {
  std::string addr = kDefaultAgentUrl;
  bool json = false;
  bool local = false;
  std::string timeout = "5s";
  ApiClientOptions api;
};

int run_status(const StatusCli& c) {
  auto t = parse_duration(c.timeout);
  if (!t || *t <= std::chrono::nanoseconds::zero()) {
    return fail(2, "invalid --timeout " + c.timeout + " (want a duration like 5s)");
  }
  StatusCliOptions o;
  o.addr = c.addr;
  o.json = c.json;
  o.local = c.local;
  o.api = c.api;
  o.color = ::isatty(STDOUT_FILENO) == 1;
  o.timeout = std::max(std::chrono::milliseconds(1),
                       std::chrono::duration_cast<std::chrono::milliseconds>(*t));
  CliOutcome r = run_status_client(o);
  std::fputs(r.out.c_str(), stdout);
  if (!r.err.empty()) return fail(r.exit_code, r.err);
  return r.exit_code;
}

}  // namespace

void add_status_command(CLI::App& app, Action& action) {
  auto c = std::make_shared<StatusCli>();
  auto* sub = app.add_subcommand(
      "status", "Cluster status from an agent (exit 0 running, 1 degraded, 2 unreachable)");
  sub->add_option("--addr", c->addr, "Agent HTTP URL")
      ->envname("VIGIL_ADDR")
      ->capture_default_str();
  sub->add_flag("--json", c->json, "Print the agent's JSON instead of a table")
      ->envname("VIGIL_JSON");
  sub->add_flag("--local", c->local, "Only the agent's own node")->envname("VIGIL_LOCAL");
  sub->add_option("--timeout", c->timeout, "Connect/read timeout")
      ->envname("VIGIL_TIMEOUT")
      ->capture_default_str();
  add_api_client_options(*sub, c->api);
  sub->callback([c, &action] {
    StatusCli copy = *c;
    action = [copy] { return run_status(copy); };
  });
}

}  // namespace vigil::agent
