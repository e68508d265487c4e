#pragma once
// Registration of the status-layer client commands (kept out of commands.hpp so the status
// layer adds files only). main.cpp calls both next to add_members_command.

#include "agent/commands.hpp"

namespace vigil::agent {

/// `vigil status [--addr URL] [--all | --json | --local] [--watch [2s]] [--timeout 5s]`
/// (cmd_status.cpp): by default the verdict, diagnosis, counts per zone and the nodes that are
/// not running; --all every node; --watch redraws until SIGINT/SIGTERM.
/// Exit 0 running, 1 degraded, 2 agent unreachable or error.
void add_status_command(CLI::App& app, Action& action);
/// `vigil history [--addr URL] [--json] [--since 1h] [--until T] [--node N] [--checker C]
/// [--type T] [--limit N]` (cmd_history.cpp). Exit 0, or 2 unreachable/error.
void add_history_command(CLI::App& app, Action& action);

}  // namespace vigil::agent
