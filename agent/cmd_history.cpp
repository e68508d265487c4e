// `vigil history`: the change-only event history an agent recorded for the whole cluster.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>

#include "agent/commands_status.hpp"
#include "agent/status_client.hpp"

namespace vigil::agent {

void add_history_command(CLI::App& app, Action& action) {
  auto o = std::make_shared<HistoryCliOptions>();
  o->addr = kDefaultAgentUrl;
  auto* sub = app.add_subcommand("history", "Cluster history (events, oldest first) from an agent");
  sub->add_option("--addr", o->addr, "Agent HTTP URL")
      ->envname("VIGIL_ADDR")
      ->capture_default_str();
  sub->add_flag("--json", o->json, "Print JSON instead of a table")->envname("VIGIL_JSON");
  sub->add_option("--since", o->since, "Events since an age (1h, 30m, 7d) or an RFC 3339 time")
      ->envname("VIGIL_SINCE");
  sub->add_option("--until", o->until, "Events before an age or an RFC 3339 time")
      ->envname("VIGIL_UNTIL");
  sub->add_option("--node", o->node, "Only events about this node")->envname("VIGIL_NODE");
  sub->add_option("--checker", o->checker, "Only events of this checker")->envname("VIGIL_CHECKER");
  sub->add_option("--type", o->type, "Only events of this type (ProbeFailed, NodeFailed, ...)")
      ->envname("VIGIL_TYPE");
  sub->add_option("--limit", o->limit, "At most this many (the newest) events, 1..10000")
      ->envname("VIGIL_LIMIT")
      ->check(CLI::Range(1, 10000))
      ->capture_default_str();
  add_api_client_options(*sub, o->api);
  sub->callback([o, &action] {
    HistoryCliOptions copy = *o;
    copy.color = ::isatty(STDOUT_FILENO) == 1;
    action = [copy] {
      CliOutcome r = run_history_client(copy);
      std::fputs(r.out.c_str(), stdout);
      if (!r.err.empty()) return fail(r.exit_code, r.err);
      return r.exit_code;
    };
  });
}

}  // namespace vigil::agent
