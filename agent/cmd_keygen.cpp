#include <CLI/CLI.hpp>
#include <cstdio>

#include "agent/commands.hpp"
#include "gossip/udp/keyring.hpp"

namespace vigil::agent {

void add_keygen_command(CLI::App& app, Action& action) {
  auto* sub = app.add_subcommand(
      "keygen",
      "Print a new random base64 32-byte gossip key (put it in a keyring file: [\"KEY\"])");
  sub->callback([&action] {
    action = [] {
      try {
        std::printf("%s\n",
                    gossip::udp::base64_encode(gossip::udp::Keyring::generate_key()).c_str());
      } catch (const std::exception& e) {
        return fail(1, e.what());
      }
      return 0;
    };
  });
}

}  // namespace vigil::agent
