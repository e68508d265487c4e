#pragma once
// The client side of `vigil status` and `vigil history`: fetch from an agent's HTTP API and
// render for a person (or pass the JSON through). Rendering is pure (JSON text in, text out)
// so it is unit-tested without an agent; fetching uses cpp-httplib (kept out of this header).
//
// Exit codes (design.md): status 0 running, 1 degraded, 2 agent unreachable or error;
// history 0 ok, 2 unreachable or error (a 400 from the agent included).

#include <chrono>
#include <string>

#include "agent/api_client.hpp"

namespace vigil::agent {

struct StatusCliOptions {
  std::string addr;                         ///< agent URL, e.g. "http://127.0.0.1:7947"
  bool json = false;                        ///< print the agent's JSON (pretty) instead of a table
  bool local = false;                       ///< only this agent's node (/v1/status/local)
  bool color = false;                       ///< ANSI colours (the command sets it from isatty)
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

/// Table of a /v1/status document: verdict, summary and diagnosis on top, one line per node
/// (failed probes `[×]` critical / `[!]` warning with their error, extra ones indented below).
std::string render_status(const std::string& status_json, bool color);
/// A /v1/status/local node object.
std::string render_local_status(const std::string& node_json, bool color);
/// Table of a /v1/history event array.
std::string render_history(const std::string& history_json, bool color);
/// "degraded" -> 1, "running" -> 0, anything else -> 2: the exit code of a status document.
int status_exit_code(const std::string& doc_json);

/// `vigil status`: fetches and renders; never throws.
CliOutcome run_status_client(const StatusCliOptions& o);
/// `vigil history`: fetches and renders; never throws.
CliOutcome run_history_client(const HistoryCliOptions& o);

}  // namespace vigil::agent
