// `vigil status` / `vigil history`: rendering (pure, JSON -> text) and exit codes against a
// real api::HttpServer on 127.0.0.1 serving synthetic ClusterViews.
#include <doctest/doctest.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "agent/commands_status.hpp"
#include "agent/status_client.hpp"
#include "api/http_server.hpp"
#include "api/status_json.hpp"
#include "api/status_routes.hpp"

using namespace vigil;
using namespace vigil::agent;

namespace {

constexpr std::int64_t kNow = 1'795'442'700'123;  // 2026-11-23T14:05:00.123Z

api::NodeView node(std::string name, std::string status = "alive") {
  api::NodeView n;
  n.member = {name, "10.0.0.1:7946", status, 1, {{"zone", "z1"}}};
  n.updated_ms = kNow - 3000;
  n.probes.push_back({"docker", "docker", "running", "critical", kNow - 60000, "", ""});
  return n;
}

api::ClusterView degraded_view() {
  api::ClusterView v;
  v.observer = "node-2";
  v.timestamp_ms = kNow;
  v.nodes = {node("node-1"), node("node-2"), node("node-3", "failed")};
  v.nodes[0].probes.push_back({"etcd", "etcd", "failed", "critical", kNow - 5000,
                               "GET http://127.0.0.1:2379/health: 503", ""});
  v.nodes[0].probes.push_back(
      {"disk", "disk", "failed", "warning", kNow - 5000, "", "/var: 84% used (warn 80%)"});
  v.nodes[2].updated_ms = kNow - 600'000;
  return v;
}

api::ClusterView healthy_view() {
  api::ClusterView v;
  v.observer = "node-1";
  v.timestamp_ms = kNow;
  v.nodes = {node("node-1"), node("node-2")};
  return v;
}

bool has(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

// A 500-node cluster, nodes in the agent's (plain string) name order: node-1, node-10,
// node-100, ... Zones by i % 4: zone-a, zone-b, zone-c, none. Not running: failed members,
// suspect members and nodes with a failed critical probe; node-5 only has a warning (running).
const std::set<int> kFailed{2, 300, 451};
const std::set<int> kSuspect{10, 100};
const std::set<int> kCritical{7, 42, 123, 250, 499};
constexpr int kBigNodes = 500;

std::string big_zone(int i) {
  const char* zones[] = {"zone-a", "zone-b", "zone-c", ""};
  return zones[i % 4];
}

api::ClusterView big_view() {
  api::ClusterView v;
  v.observer = "node-1";
  v.timestamp_ms = kNow;
  for (int i = 1; i <= kBigNodes; ++i) {
    const std::string name = "node-" + std::to_string(i);
    api::NodeView n = node(name, kFailed.count(i)    ? "failed"
                                 : kSuspect.count(i) ? "suspect"
                                                     : "alive");
    n.member.tags.clear();
    if (!big_zone(i).empty()) n.member.tags.push_back({"zone", big_zone(i)});
    if (kCritical.count(i))
      n.probes.push_back(
          {"etcd", "etcd", "failed", "critical", kNow - 5000, "connection refused", ""});
    if (i == 5)
      n.probes.push_back({"disk", "disk", "failed", "warning", kNow - 5000, "", "/var: 84% used"});
    v.nodes.push_back(std::move(n));
  }
  std::sort(v.nodes.begin(), v.nodes.end(), [](const api::NodeView& a, const api::NodeView& b) {
    return a.member.name < b.member.name;
  });
  return v;
}

std::vector<std::string> words(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// The rows of the table whose header line starts with `header`, up to the next blank line, as
// words; continuation lines (starting with a blank) are left out.
std::vector<std::vector<std::string>> table_rows(const std::string& text,
                                                 const std::string& header) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(text);
  bool inside = false;
  for (std::string line; std::getline(in, line);) {
    if (!inside) {
      inside = line.rfind(header, 0) == 0;
      continue;
    }
    if (line.empty() || line[0] == '(') break;
    if (line[0] != ' ') rows.push_back(words(line));
  }
  return rows;
}

std::vector<std::string> first_words(const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::string> out;
  for (const auto& r : rows) out.push_back(r.empty() ? "" : r[0]);
  return out;
}

// The names the status tables must show, in natural (numeric) order.
std::vector<std::string> expected_names(bool only_not_running) {
  std::vector<std::string> out;
  for (int i = 1; i <= kBigNodes; ++i) {
    if (!only_not_running || kFailed.count(i) || kSuspect.count(i) || kCritical.count(i))
      out.push_back("node-" + std::to_string(i));
  }
  return out;
}

struct Agent {
  api::HttpServer http;
  api::SnapshotCell<api::ClusterView> cell;
  int port = 0;
  Agent() {
    api::add_status_routes(
        http, cell,
        [](const api::HistoryQuery& q) {
          api::HistoryAnswer a;
          a.events.push_back({1, kNow - 5000, "ProbeFailed", "node-1", "etcd", "running", "failed",
                              "critical: GET http://127.0.0.1:2379/health: 503"});
          a.events.push_back({2, kNow - 4000, "ClusterDegraded", "", "", "running", "degraded",
                              "1 of 3 nodes degraded: node-1"});
          if (q.limit == 1) a.events.erase(a.events.begin());
          return a;
        },
        [] { return kNow; });
    port = http.bind("127.0.0.1", 0);
    http.start();
  }
  ~Agent() { http.stop(); }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port); }
};

}  // namespace

TEST_CASE("render_status: verdict and diagnosis on top, one line per node, marks") {
  const std::string doc = api::status_json(degraded_view());
  const std::string t = render_status(doc, false);
  MESSAGE("\n" << t);
  CHECK(t.rfind("DEGRADED  2 of 3 nodes degraded  (observer node-2, 2026-11-23T14:05:00.123Z)",
                0) == 0);
  CHECK(has(t, "NODE    MEMBER  STATUS    UPDATED  PROBES"));
  CHECK(has(
      t,
      "node-1  alive   degraded  3s ago   [\xC3\x97] etcd: GET http://127.0.0.1:2379/health: 503"));
  CHECK(has(t, "[!] disk: /var: 84% used (warn 80%)"));
  CHECK(has(t, "node-2  alive   running   3s ago   1 probe ok"));
  CHECK(has(t, "node-3  failed  degraded  10m ago  1 probe ok"));
  CHECK_FALSE(has(t, "\033["));  // no colour unless asked (not a TTY)
  // The critical failure comes before the warning, which sits on a continuation line.
  CHECK(t.find("[\xC3\x97] etcd") < t.find("[!] disk"));
  const std::string c = render_status(doc, true);
  CHECK(has(c, "\033[31m"));
  CHECK(has(c, "\033[33m[!] disk"));
  CHECK(status_exit_code(doc) == 1);
  CHECK(status_exit_code(api::status_json(healthy_view())) == 0);
  CHECK(status_exit_code("{\"status\":\"weird\"}") == 2);
  CHECK(status_exit_code("not json") == 2);
  CHECK(render_status("[1,2]", false) == "unreadable status document\n");
  const std::string h = render_status(api::status_json(healthy_view()), false);
  CHECK(h.rfind("RUNNING  all 2 nodes running", 0) == 0);
  CHECK_FALSE(has(h, "diagnosis"));
}

TEST_CASE("render_history: table of events") {
  const std::string doc = api::history_json(
      {{1, kNow, "ProbeFailed", "node-1", "etcd", "running", "failed", "critical: down"},
       {2, kNow, "NodeAdded", "node-4", "", "", "alive", "addr 10.0.0.4:7946"}});
  const std::string t = render_history(doc, false);
  MESSAGE("\n" << t);
  CHECK(
      has(t, "TIME                      TYPE         NODE    CHECKER  CHANGE             DETAIL"));
  CHECK(has(
      t,
      "2026-11-23T14:05:00.123Z  ProbeFailed  node-1  etcd     running -> failed  critical: down"));
  CHECK(has(t, "NodeAdded    node-4           alive"));
  CHECK(render_history("[]", false) == "no events\n");
  CHECK(has(render_history(doc, true), "\033[31mProbeFailed"));
}

TEST_CASE("vigil status exit codes: 0 running, 1 degraded, 2 unreachable or error") {
  Agent a;
  StatusCliOptions o;
  o.addr = a.url();
  o.timeout = std::chrono::seconds(10);
  CliOutcome r = run_status_client(o);  // nothing published yet: the agent answers an error
  CHECK(r.exit_code == 2);
  CHECK(has(r.err, "status not available yet"));

  a.cell.publish(std::make_shared<api::ClusterView>(healthy_view()));
  r = run_status_client(o);
  CHECK(r.exit_code == 0);
  CHECK(r.err.empty());
  CHECK(has(r.out, "RUNNING"));

  a.cell.publish(std::make_shared<api::ClusterView>(degraded_view()));
  r = run_status_client(o);  // HTTP 503 with a status document is "degraded", not an error
  CHECK(r.exit_code == 1);
  CHECK(has(r.out, "node-1"));
  o.json = true;
  r = run_status_client(o);
  CHECK(r.exit_code == 1);
  CHECK(has(r.out, "\"summary\": \"2 of 3 nodes degraded\""));
  o.json = false;
  o.local = true;  // node-2 itself is fine
  r = run_status_client(o);
  CHECK(r.exit_code == 0);
  CHECK(has(r.out, "node-2"));
  CHECK(has(r.out, "CHECKER"));

  // Unreachable: a port nobody listens on any more.
  int dead_port = 0;
  {
    api::HttpServer s;
    dead_port = s.bind("127.0.0.1", 0);
  }
  o.addr = "127.0.0.1:" + std::to_string(dead_port);
  o.timeout = std::chrono::seconds(5);
  r = run_status_client(o);
  CHECK(r.exit_code == 2);
  CHECK(has(r.err, "cannot reach the agent"));
  o.addr = "http://[not a url";
  CHECK(run_status_client(o).exit_code == 2);
}

TEST_CASE("vigil history: table, JSON, and a 400 from the agent is exit 2 with its message") {
  Agent a;
  HistoryCliOptions o;
  o.addr = a.url();
  o.since = "1h";
  o.node = "node-1";
  CliOutcome r = run_history_client(o);
  CHECK(r.exit_code == 0);
  CHECK(has(r.out, "ProbeFailed"));
  CHECK(has(r.out, "ClusterDegraded"));
  o.limit = 1;
  o.json = true;
  r = run_history_client(o);
  CHECK(r.exit_code == 0);
  CHECK_FALSE(has(r.out, "ProbeFailed"));
  CHECK(has(r.out, "\"type\": \"ClusterDegraded\""));
  o.since = "yesterday";
  r = run_history_client(o);
  CHECK(r.exit_code == 2);
  CHECK(has(r.err, "HTTP 400"));
  CHECK(has(r.err, "invalid 'since'"));
}

TEST_CASE("natural_less: digit runs compare by value") {
  CHECK(natural_less("n2", "n10"));
  CHECK_FALSE(natural_less("n10", "n2"));
  CHECK(natural_less("node-9", "node-10"));
  CHECK(natural_less("node-99", "node-100"));
  CHECK(natural_less("rack2-n10", "rack10-n1"));
  CHECK(natural_less("a", "b"));
  CHECK(natural_less("n", "n0"));
  CHECK(natural_less("n1", "n1a"));
  CHECK_FALSE(natural_less("n1", "n1"));
  // Equal values with different zeros are still ordered (a total order for sorting).
  CHECK(natural_less("n01", "n1") != natural_less("n1", "n01"));
  std::vector<std::string> v{"n10", "n2", "n1", "m3", "n02", "n100", "n9"};
  std::sort(v.begin(), v.end(), natural_less);
  CHECK(v == std::vector<std::string>{"m3", "n1", "n02", "n2", "n9", "n10", "n100"});
}

TEST_CASE("vigil status default: 500 nodes -> zone counts and only the nodes not running") {
  const std::string doc = api::status_json(big_view());
  const std::string t = render_status_problems(doc, false);
  MESSAGE("\n" << t);
  CHECK(t.rfind("DEGRADED  10 of 500 nodes degraded  (observer node-1, 2026-11-23T14:05:00.123Z)",
                0) == 0);
  CHECK_FALSE(has(t, "\033["));

  // Zones in natural order, "-" (no zone tag) last; counts recomputed from the fixture.
  std::map<std::string, std::vector<int>> want;  // zone -> {nodes, running, degraded, failed}
  for (int i = 1; i <= kBigNodes; ++i) {
    auto& c = want[big_zone(i).empty() ? "-" : big_zone(i)];
    c.resize(4, 0);
    ++c[0];
    ++c[kFailed.count(i) ? 3 : kSuspect.count(i) || kCritical.count(i) ? 2 : 1];
  }
  const auto zones = table_rows(t, "ZONE ");
  REQUIRE(zones.size() == 4);
  CHECK(first_words(zones) == std::vector<std::string>{"zone-a", "zone-b", "zone-c", "-"});
  for (const auto& row : zones) {
    REQUIRE(row.size() == 5);
    const auto& c = want[row[0]];
    CAPTURE(row[0]);
    CHECK(row[1] == std::to_string(c[0]));
    CHECK(row[2] == std::to_string(c[1]));
    CHECK(row[3] == std::to_string(c[2]));
    CHECK(row[4] == std::to_string(c[3]));
  }
  // zone-c is i % 4 == 2: node-2 (failed); node-10 (suspect), node-42 and node-250 (probe).
  CHECK(words(t.substr(t.find("\nzone-c"))).at(3) == "3");
  CHECK(words(t.substr(t.find("\nzone-c"))).at(4) == "1");

  // Only the 10 nodes that are not running, in natural order (node-2 before node-10).
  const auto nodes = table_rows(t, "NODE ");
  CHECK(first_words(nodes) == expected_names(true));
  for (const auto& row : nodes) {
    REQUIRE(row.size() >= 6);
    const int i = std::stoi(row[0].substr(5));
    CAPTURE(row[0]);
    CHECK(row[1] == (big_zone(i).empty() ? "-" : big_zone(i)));
    CHECK(row[2] == (kFailed.count(i) ? "failed" : kSuspect.count(i) ? "suspect" : "alive"));
    CHECK(row[3] == "degraded");
  }
  CHECK(
      has(t, "node-7    -       alive    degraded  3s ago   [\xC3\x97] etcd: connection refused"));
  CHECK_FALSE(has(t, "node-5 "));  // a warning only: running, not listed
  CHECK(has(t, "\n(490 running nodes not listed; --all lists every node)\n"));

  // --all: every node, in natural order.
  const std::string all = render_status(doc, false);
  const auto all_rows = table_rows(all, "NODE ");
  CHECK(all_rows.size() == 500);
  CHECK(first_words(all_rows) == expected_names(false));
  CHECK_FALSE(has(all, "ZONE"));

  // A cluster where every node runs: counts, and no node table.
  const std::string ok = render_status_problems(api::status_json(healthy_view()), false);
  MESSAGE("\n" << ok);
  CHECK(ok.rfind("RUNNING  all 2 nodes running", 0) == 0);
  CHECK(words(ok.substr(ok.find("\nz1"))) ==
        std::vector<std::string>{"z1", "2", "2", "0", "0", "every", "node", "is", "running",
                                 "(--all", "lists", "them)"});
  CHECK_FALSE(has(ok, "\nNODE "));
  // Colour: degraded counts yellow, failed counts red.
  const std::string c = render_status_problems(doc, true);
  CHECK(has(c, "\033[33m"));
  CHECK(has(c, "\033[31m"));
  CHECK(render_status_problems("[]", false) == "unreadable status document\n");
}

TEST_CASE("vigil status against an agent: default, --all, --json on 500 nodes") {
  Agent a;
  a.cell.publish(std::make_shared<api::ClusterView>(big_view()));
  StatusCliOptions o;
  o.addr = a.url();
  o.timeout = std::chrono::seconds(10);
  CliOutcome r = run_status_client(o);
  CHECK(r.exit_code == 1);
  CHECK(first_words(table_rows(r.out, "NODE ")) == expected_names(true));
  CHECK(table_rows(r.out, "ZONE ").size() == 4);
  o.all = true;
  r = run_status_client(o);
  CHECK(r.exit_code == 1);
  CHECK(first_words(table_rows(r.out, "NODE ")) == expected_names(false));
  o.all = false;
  o.json = true;  // the full document, unchanged
  r = run_status_client(o);
  CHECK(r.exit_code == 1);
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  REQUIRE(j.is_object());
  CHECK(j["nodes"].size() == 500);
  // The agent's order (plain name order), not the table's.
  CHECK(j["nodes"][0]["name"] == "node-1");
  CHECK(j["nodes"][1]["name"] == "node-10");
  CHECK(j["summary"] == "10 of 500 nodes degraded");
}

TEST_CASE("vigil status --watch: frames with ANSI clear until stopped") {
  Agent a;
  a.cell.publish(std::make_shared<api::ClusterView>(degraded_view()));
  StatusCliOptions o;
  o.addr = a.url();
  o.timeout = std::chrono::seconds(10);
  std::vector<std::string> frames;
  const auto start = std::chrono::steady_clock::now();
  int code = run_status_watch(
      o, std::chrono::milliseconds(200), [&] { return frames.size() >= 3; },
      [&](const std::string& f) { frames.push_back(f); });
  const auto took = std::chrono::steady_clock::now() - start;
  CHECK(code == 1);
  REQUIRE(frames.size() == 3);
  for (const auto& f : frames) {
    CHECK(f.rfind("\033[H\033[2J", 0) == 0);
    CHECK(has(f, "every 200ms (Ctrl-C stops)"));
    CHECK(has(f, "DEGRADED  2 of 3 nodes degraded"));
  }
  CHECK(took >= std::chrono::milliseconds(400));  // two waits between three frames
  // Stopped before the first frame: nothing written.
  frames.clear();
  CHECK(run_status_watch(
            o, std::chrono::seconds(2), [] { return true; },
            [&](const std::string& f) { frames.push_back(f); }) == 2);
  CHECK(frames.empty());
  // The agent going away is shown in the frame; the last exit code is returned.
  int dead_port = 0;
  {
    api::HttpServer s;
    dead_port = s.bind("127.0.0.1", 0);
  }
  o.addr = "127.0.0.1:" + std::to_string(dead_port);
  CHECK(run_status_watch(
            o, std::chrono::milliseconds(100), [&] { return !frames.empty(); },
            [&](const std::string& f) { frames.push_back(f); }) == 2);
  REQUIRE(frames.size() == 1);
  CHECK(has(frames[0], "vigil: "));
  CHECK(has(frames[0], "cannot reach the agent"));
}

TEST_CASE("vigil status flags: --watch interval, bad values and unknown flags") {
  auto parse = [](std::vector<std::string> args, Action& action) {
    CLI::App app{"test", "vigil"};
    app.require_subcommand(1);
    add_status_command(app, action);
    std::vector<const char*> argv{"vigil"};
    for (const auto& a : args) argv.push_back(a.c_str());
    app.parse(static_cast<int>(argv.size()), argv.data());
    return app.get_subcommand("status")->get_option("--watch")->results();
  };
  Action action;
  CHECK(parse({"status", "--watch"}, action) == std::vector<std::string>{"2s"});
  CHECK(parse({"status", "--watch", "5s"}, action) == std::vector<std::string>{"5s"});
  CHECK(parse({"status", "--watch=500ms", "--all"}, action) == std::vector<std::string>{"500ms"});
  CHECK(parse({"status", "--all"}, action).empty());
  // Bad intervals: exit 2 before any connection (the address is never tried).
  for (const char* bad : {"0s", "50ms", "soon", "5"}) {
    CAPTURE(bad);
    action = nullptr;
    parse({"status", "--addr", "http://192.0.2.1:1", "--watch", bad}, action);
    REQUIRE(action);
    CHECK(action() == 2);
  }
  CHECK_THROWS_AS(parse({"status", "--bogus"}, action), CLI::ParseError);
  CHECK_THROWS_AS(parse({"status", "--all=yes-please"}, action), CLI::ParseError);
}
