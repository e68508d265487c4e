#pragma once
// The client side of `vigil status` and `vigil history`: fetch from an agent's HTTP API and
// render for a person (or pass the JSON through). Rendering is pure (JSON text in, text out)
// so it is unit-tested without an agent; fetching uses cpp-httplib (kept out of this header).
//
// Exit codes (design.md): status 0 running, 1 degraded, 2 agent unreachable or error;
// history 0 ok, 2 unreachable or error (a 400 from the agent included).

#include <chrono>
#include <functional>
#include <string>

#include "agent/api_client.hpp"

namespace vigil::agent {

struct StatusCliOptions {
  std::string addr;    ///< agent URL, e.g. "http://127.0.0.1:7947"
  bool json = false;   ///< print the agent's JSON (pretty) instead of a table
  bool local = false;  ///< only this agent's node (/v1/status/local)
  bool all = false;    ///< every node (render_status); default: zones + problems only
  bool color = false;  ///< ANSI colours (the command sets it from isatty)
  std::chrono::milliseconds timeout{5000};  ///< connect + read timeout
  ApiClientOptions api{};                   ///< token, CA, --insecure
};

struct HistoryCliOptions {
  std::string addr;
  bool json = false;
  std::string since, until, node, checker, type;  ///< passed through; "" = not set
  int limit = 100;                                ///< 0 = not set
  bool color = false;                             ///< ANSI colours (isatty)
  std::chrono::milliseconds timeout{5000};
  ApiClientOptions api{};  ///< token, CA, --insecure
};

/// What a client command prints and returns.
struct CliOutcome {
  int exit_code = 2;
  std::string out;  ///< for stdout
  std::string err;  ///< one line for stderr ("" when none)
};

/// Table of a /v1/status document (`vigil status --all`): verdict, summary and diagnosis on top,
/// one line per node in natural name order (failed probes `[×]` critical / `[!]` warning with
/// their error, extra ones indented below).
std::string render_status(const std::string& status_json, bool color);
/// The default `vigil status`, readable for a cluster of hundreds of nodes: the same verdict,
/// summary and diagnosis, then per zone (tag `zone`, "-" for none) the count of running,
/// degraded and failed nodes, then only the nodes that are not running (degraded, failed,
/// suspect) in natural name order, with their zone. A node counts as failed when its member
/// status is `failed`, as degraded when it is otherwise not running (suspect included).
std::string render_status_problems(const std::string& status_json, bool color);
/// Natural order: runs of digits compare by value ("n2" < "n10"), everything else bytewise;
/// ties (e.g. "n01" and "n1") fall back to plain comparison, so the order is total.
bool natural_less(const std::string& a, const std::string& b);
/// A /v1/status/local node object.
std::string render_local_status(const std::string& node_json, bool color);
/// Table of a /v1/history event array.
std::string render_history(const std::string& history_json, bool color);
/// "degraded" -> 1, "running" -> 0, anything else -> 2: the exit code of a status document.
int status_exit_code(const std::string& doc_json);

/// `vigil status`: fetches and renders; never throws.
CliOutcome run_status_client(const StatusCliOptions& o);
/// `vigil status --watch`: until `stop()` is true, fetches and writes one frame (ANSI clear
/// screen + cursor home, a header line, the output of run_status_client or its error), then waits
/// `interval` (checking `stop` every 50 ms). Returns the exit code of the last fetch (2 when
/// stopped before the first one). The command sets `stop` from SIGINT/SIGTERM.
int run_status_watch(const StatusCliOptions& o, std::chrono::milliseconds interval,
                     const std::function<bool()>& stop,
                     const std::function<void(const std::string&)>& write);
/// `vigil history`: fetches and renders; never throws.
CliOutcome run_history_client(const HistoryCliOptions& o);

}  // namespace vigil::agent
