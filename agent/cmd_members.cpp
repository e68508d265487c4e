#include <httplib.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "agent/api_client.hpp"
#include "agent/commands.hpp"
#include "agent/table.hpp"

namespace vigil::agent {
namespace {

struct MembersCli {
  std::string addr = kDefaultAgentUrl;
  bool json = false;
  ApiClientOptions api;
};

int run_members(const MembersCli& o) {
  const std::string url = normalize_agent_url(o.addr);
  std::string error;
  auto client = make_api_client(url, o.api, std::chrono::seconds(5), error);
  if (!client) return fail(2, error);
  auto res = client->Get("/v1/members");
  if (!res || res->status != 200) return fail(2, api_error(res, url, "/v1/members"));
  auto body = nlohmann::json::parse(res->body, nullptr, false);
  if (!body.is_array()) return fail(2, url + "/v1/members: unexpected answer (not a JSON array)");
  if (o.json) {
    std::printf("%s\n", body.dump(2).c_str());
    return 0;
  }
  std::vector<std::array<std::string, 5>> rows;
  rows.push_back({"NAME", "ADDRESS", "STATUS", "INCARNATION", "TAGS"});
  for (const auto& m : body) {
    std::string tags;
    if (m.contains("tags") && m["tags"].is_object()) {
      for (const auto& [k, v] : m["tags"].items()) {
        if (!tags.empty()) tags += ",";
        tags += k + "=" + (v.is_string() ? v.get<std::string>() : v.dump());
      }
    }
    rows.push_back({m.value("name", "?"), m.value("addr", "?"), m.value("status", "?"),
                    std::to_string(m.value("incarnation", 0u)), tags});
  }
  print_aligned(rows);
  return 0;
}

}  // namespace

void add_members_command(CLI::App& app, Action& action) {
  auto o = std::make_shared<MembersCli>();
  auto* sub = app.add_subcommand("members", "List the gossip members as an agent sees them");
  sub->add_option("--addr", o->addr, "Agent HTTP URL")
      ->envname("VIGIL_ADDR")
      ->capture_default_str();
  sub->add_flag("--json", o->json, "Print JSON instead of a table");
  add_api_client_options(*sub, o->api);
  sub->callback([o, &action] {
    MembersCli copy = *o;
    action = [copy] { return run_members(copy); };
  });
}

}  // namespace vigil::agent
