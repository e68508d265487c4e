// vigil: one binary, several subcommands (see agent/commands.hpp).
#include <CLI/CLI.hpp>
#include <cstdio>

#include "agent/cmd_check.hpp"
#include "agent/commands.hpp"
#include "agent/commands_status.hpp"

int main(int argc, char** argv) {
  using namespace vigil::agent;
  CLI::App app{"vigil: a peer-to-peer health mesh for Kubernetes nodes", "vigil"};
  app.require_subcommand(1);
  app.fallthrough(false);
  Action action;
  add_agent_command(app, action);
  add_members_command(app, action);
  add_status_command(app, action);
  add_history_command(app, action);
  add_check_command(app, action);
  add_version_command(app, action);
  add_keygen_command(app, action);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help
    return fail(2, e.what());
  }
  if (!action) return fail(2, "no command given (try --help)");
  return action();
}
