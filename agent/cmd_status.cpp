// `vigil status`: the cluster verdict from any agent, for a person during an outage.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <memory>

#include "agent/commands_status.hpp"
#include "agent/duration.hpp"
#include "agent/status_client.hpp"

namespace vigil::agent {
namespace {

constexpr std::chrono::milliseconds kMinWatchInterval{100};

struct StatusCli {
  std::string addr = kDefaultAgentUrl;
  bool json = false;
  bool local = false;
  bool all = false;
  bool watch = false;           // --watch given
  std::string interval = "2s";  // its value
  std::string timeout = "5s";
  ApiClientOptions api;
};

volatile std::sig_atomic_t g_stop = 0;
void on_stop_signal(int) {
  g_stop = 1;
}

// --watch: redraws until SIGINT or SIGTERM, then restores their previous handlers.
int watch_status(const StatusCliOptions& o, std::chrono::milliseconds interval) {
  struct sigaction sa {
  }, old_int{}, old_term{};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: a sleep or a fetch in progress is cut short
  g_stop = 0;
  ::sigaction(SIGINT, &sa, &old_int);
  ::sigaction(SIGTERM, &sa, &old_term);
  const int code = run_status_watch(
      o, interval, [] { return g_stop != 0; },
      [](const std::string& frame) {
        std::fputs(frame.c_str(), stdout);
        std::fflush(stdout);
      });
  ::sigaction(SIGINT, &old_int, nullptr);
  ::sigaction(SIGTERM, &old_term, nullptr);
  std::fputs("\n", stdout);
  return code;
}

int run_status(const StatusCli& c) {
  auto t = parse_duration(c.timeout);
  if (!t || *t <= std::chrono::nanoseconds::zero()) {
    return fail(2, "invalid --timeout " + c.timeout + " (want a duration like 5s)");
  }
  std::chrono::milliseconds interval{0};
  if (c.watch) {
    auto w = parse_duration(c.interval);
    if (!w || *w < kMinWatchInterval) {
      return fail(2, "invalid --watch interval '" + c.interval +
                         "' (want a duration of at least 100ms, like 2s)");
    }
    interval = std::chrono::duration_cast<std::chrono::milliseconds>(*w);
  }
  StatusCliOptions o;
  o.addr = c.addr;
  o.json = c.json;
  o.local = c.local;
  o.all = c.all;
  o.api = c.api;
  o.color = ::isatty(STDOUT_FILENO) == 1;
  o.timeout = std::max(std::chrono::milliseconds(1),
                       std::chrono::duration_cast<std::chrono::milliseconds>(*t));
  if (c.watch) return watch_status(o, interval);
  CliOutcome r = run_status_client(o);
  std::fputs(r.out.c_str(), stdout);
  if (!r.err.empty()) return fail(r.exit_code, r.err);
  return r.exit_code;
}

}  // namespace

void add_status_command(CLI::App& app, Action& action) {
  auto c = std::make_shared<StatusCli>();
  auto* sub = app.add_subcommand(
      "status",
      "Cluster status from an agent: verdict, diagnosis, node counts per zone and the nodes that "
      "are not running (exit 0 running, 1 degraded, 2 unreachable)");
  sub->add_option("--addr", c->addr, "Agent HTTP URL")
      ->envname("VIGIL_ADDR")
      ->capture_default_str();
  sub->add_flag("--json", c->json, "Print the agent's full JSON instead of a table")
      ->envname("VIGIL_JSON");
  sub->add_flag("--all", c->all, "List every node, not only those that are not running");
  sub->add_flag("--local", c->local, "Only the agent's own node")->envname("VIGIL_LOCAL");
  // --watch alone takes its default_str ("2s"); --watch 5s / --watch=5s set the interval.
  auto* watch = sub->add_option("--watch", c->interval,
                                "Redraw every INTERVAL (default 2s) until Ctrl-C or SIGTERM")
                    ->expected(0, 1)
                    ->default_str("2s")
                    ->type_name("[INTERVAL]");
  sub->add_option("--timeout", c->timeout, "Connect/read timeout")
      ->envname("VIGIL_TIMEOUT")
      ->capture_default_str();
  add_api_client_options(*sub, c->api);
  sub->callback([c, watch, &action] {
    StatusCli copy = *c;
    copy.watch = watch->count() > 0;
    action = [copy] { return run_status(copy); };
  });
}

}  // namespace vigil::agent
