#include <CLI/CLI.hpp>
#include <cstdio>

#include "agent/commands.hpp"

#ifndef VIGIL_VERSION
#define VIGIL_VERSION "0.0.0"
#endif

namespace vigil::agent {

int fail(int code, const std::string& message) {
  std::fprintf(stderr, "vigil: %s\n", message.c_str());
  return code;
}

void add_version_command(CLI::App& app, Action& action) {
  auto* sub = app.add_subcommand("version", "Print the version and exit");
  sub->callback([&action] {
    action = [] {
      std::printf("vigil %s\n", VIGIL_VERSION);
      return 0;
    };
  });
}

}  // namespace vigil::agent
