#include "agent/cmd_check.hpp"
#include "agent/table.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "agent/config.hpp"
#include "checkers/default_set.hpp"
#include "checkers/registry.hpp"
#include "checkers/run_once.hpp"

namespace vigil::agent {
namespace {

using nlohmann::json;

std::string one_line(std::string s, std::size_t max) {
  for (auto& c : s)
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  while (!s.empty() && s.back() == ' ') s.pop_back();
  if (s.size() > max) s = s.substr(0, max - 3) + "...";
  return s;
}

void print_table(const std::vector<checkers::Probe>& probes) {
  std::vector<std::array<std::string, 5>> rows;
  rows.push_back({"CHECKER", "TYPE", "STATUS", "DURATION", "ERROR / DETAIL"});
  for (const auto& p : probes) {
    std::string status = std::string(to_string(p.status));
    if (p.failed()) status += " (" + std::string(to_string(p.severity)) + ")";
    rows.push_back({p.checker, p.type, status, checkers::format_duration(p.duration),
                    one_line(p.failed() ? p.error : p.detail, 100)});
  }
  print_aligned(rows);
}

json to_json(const std::vector<checkers::Probe>& probes) {
  json arr = json::array();
  for (const auto& p : probes) {
    json j = {{"checker", p.checker}, {"type", p.type}, {"status", to_string(p.status)}};
    if (p.failed()) j["severity"] = to_string(p.severity);
    if (!p.error.empty()) j["error"] = p.error;
    if (!p.detail.empty()) j["detail"] = p.detail;
    j["duration_seconds"] = std::chrono::duration<double>(p.duration).count();
    arr.push_back(std::move(j));
  }
  return {{"status", checkers::all_ok(probes) ? "running" : "degraded"}, {"probes", arr}};
}

}  // namespace

int run_check_command(const std::string& config_path, const std::vector<std::string>& names,
                      bool as_json) {
  std::string checkers_json, node_name;
  if (!config_path.empty()) {
    try {
      AgentFlags flags;
      flags.config = config_path;
      AgentConfig cfg = resolve_config(flags);
      checkers_json = cfg.checkers_json;
      node_name = cfg.name;
    } catch (const std::exception& e) {
      return fail(2, e.what());
    }
  }
  std::vector<checkers::CheckSpec> specs;
  if (checkers_json.empty()) {
    checkers::DefaultSetOptions o;
    o.mesh = false;
    auto defaults = checkers::default_checkers(o);
    for (const auto& why : defaults.reasons) std::fprintf(stderr, "default set: %s\n", why.c_str());
    specs = std::move(defaults.specs);
  } else {
    auto parsed = checkers::parse_check_specs(checkers_json);
    if (!parsed.error.empty()) return fail(2, parsed.error);
    specs = std::move(parsed.specs);
  }
  checkers::CheckerRegistry registry;
  checkers::register_builtin_checkers(registry);
  checkers::CheckerContext ctx;
  ctx.node_name = node_name;
  checkers::RunOnceOptions options;
  options.only = names;
  options.context.node_name = node_name;
  auto result = checkers::run_checkers_once(specs, registry, ctx, options);
  if (!result.error.empty()) {
    // Several config errors come one per line; the contract is one line on stderr.
    std::string e = result.error;
    std::replace(e.begin(), e.end(), '\n', ';');
    return fail(2, e);
  }
  if (as_json)
    std::printf("%s\n", to_json(result.probes).dump(2).c_str());
  else
    print_table(result.probes);
  std::fflush(stdout);
  return checkers::all_ok(result.probes) ? 0 : 1;
}

void add_check_command(CLI::App& app, Action& action) {
  struct CheckCli {
    std::string config;
    std::vector<std::string> names;
    bool json = false;
  };
  auto o = std::make_shared<CheckCli>();
  auto* sub = app.add_subcommand("check", "Run the configured checkers once, locally (no agent)");
  sub->add_option("--config", o->config, "JSON config file (its `checkers` section)")
      ->envname("VIGIL_CONFIG");
  sub->add_option("--checker", o->names, "Run only this checker (by name; repeatable)");
  sub->add_flag("--json", o->json, "Print JSON instead of a table");
  sub->callback(
      [o, &action] { action = [o] { return run_check_command(o->config, o->names, o->json); }; });
}

}  // namespace vigil::agent
