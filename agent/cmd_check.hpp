#pragma once
// `vigil check [--config FILE] [--checker NAME]... [--json]`: runs the configured checkers once,
// locally, with no agent (checkers/run_once.hpp). Without a config file, or with one that has
// no `checkers` section, it runs the detected default set (checkers/default_set.hpp) and prints
// its decisions on stderr. Exit 0: no critical failure; 1: a critical probe failed; 2: a bad
// flag, config or checker name (one line on stderr).
//
// Wiring (main.cpp): add_check_command(app, action); agent/CMakeLists.txt: cmd_check.cpp in
// agent_lib and `checkers` in its link libraries.

#include <string>
#include <vector>

#include "agent/commands.hpp"

namespace vigil::agent {

/// Runs the check command; prints a table (or JSON with `json`) on stdout. `config_path` ""
/// means no file. `names` selects checkers by name (empty: all). Returns the exit code.
int run_check_command(const std::string& config_path, const std::vector<std::string>& names,
                      bool json);

/// Registers `vigil check` on the CLI.
void add_check_command(CLI::App& app, Action& action);

}  // namespace vigil::agent
