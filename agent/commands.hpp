#pragma once
// The subcommands of the `vigil` binary. Each lives in its own agent/cmd_<name>.cpp and
// registers itself on the CLI11 app; main() parses and runs the chosen one's Action.
// To add one (status, history, check): write cmd_<name>.cpp with add_<name>_command(), declare
// it here, call it from main.cpp. Exit codes: 0 ok, 1 runtime failure/degraded, 2 usage,
// configuration or unreachable errors (one line on stderr).

#include <functional>
#include <string>

namespace CLI {
class App;
}

namespace vigil::agent {

/// The chosen subcommand's work; returns the process exit code.
using Action = std::function<int()>;

/// `vigil agent [flags]`: runs the agent (cmd_agent.cpp).
void add_agent_command(CLI::App& app, Action& action);
/// `vigil members [--addr URL] [--json]` (cmd_members.cpp).
void add_members_command(CLI::App& app, Action& action);
/// `vigil version` (cmd_version.cpp).
void add_version_command(CLI::App& app, Action& action);
/// `vigil keygen` (cmd_keygen.cpp).
void add_keygen_command(CLI::App& app, Action& action);
// Reserved for other modules: add_status_command (cmd_status.cpp), add_history_command
// (cmd_history.cpp), add_check_command (cmd_check.cpp).

/// Prints "vigil: <message>" as one line on stderr; returns `code` (for `return fail(...)`).
int fail(int code, const std::string& message);

/// Default --addr of the client commands.
inline constexpr const char* kDefaultAgentUrl = "http://127.0.0.1:7947";

}  // namespace vigil::agent
