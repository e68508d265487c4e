// End to end, the web view (GET /, api/web/index.html) in headless Chromium; what a person sees is
// asserted in the DOM after the page's scripts ran.
//
// 1. Issue 6: five real agents on 127.0.0.1 with the ping checker, one killed with SIGKILL; once
//    the survivors mark it failed, Chromium loads GET / of a survivor: the verdict "degraded",
//    the killed node first among the problems (failed, its address and zone), the four others
//    counted healthy by zone, the checker grid and the reachability matrix with a loss value
//    between every two survivors (a 5-node cluster shows every node: zones open). A screenshot
//    is saved into the build dir (WEB_VIEW_SCREENSHOT). When the agent stops answering, the page
//    keeps the last data, dimmed, and says "agent unreachable"; saved to a file (no agent behind
//    it) it still renders and says so.
// 2. Issue 15: 500 nodes. The real routes (add_status_routes, add_web_routes) serve a 500-node
//    ClusterView (four zones and nodes without one, a failed node, a suspect one, failing
//    checkers, a lossy node, 24 measured peers per node) through the real serializer and the
//    real diagnosis. A probe script added to the page (ProbeSite) reads element positions at a
//    1280x800 window and writes them into the DOM for --dump-dom: the failed node and the
//    diagnosis are on the first screen, the healthy nodes collapsed into zone counts, names in
//    natural order (n9, n10, n100), a zone cell of the matrix opens to node cells, the name
//    filter reaches every section, one request per refresh. The page's own render time (JSON
//    parse, DOM, style and layout: performance.now() in the page) is printed against the
//    200 ms goal and bounded loosely (2 s) so a loaded machine cannot make it flake; a
//    screenshot is saved (WEB_VIEW_500_SCREENSHOT).
// 3. Opt-in (too slow for the ordinary run): VIGIL_WEB_MESH=<n> (>= 16, scripts/web-64.sh uses
//    64) starts n real agents with the ping checker, kills one with SIGKILL, and probes and
//    screenshots the page of a survivor (WEB_VIEW_MESH_SCREENSHOT), printing the render time.
//
// Render times need real time: under --virtual-time-budget Chromium freezes performance.now()
// while a script runs. The probe page therefore loads without virtual time and holds its load
// event (which --dump-dom and --screenshot wait for) with an image the test server answers only
// once the probe script is done.
//
// Without Chromium (apt: chromium) the test is skipped with the reason (test/skip.hpp).
// $VIGIL_TEST_CHROMIUM names another browser binary (or, when not executable, forces the skip).
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>
#include <fcntl.h>
#include <httplib.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "api/http_server.hpp"
#include "api/snapshot.hpp"
#include "api/status_json.hpp"
#include "api/status_routes.hpp"
#include "api/status_view.hpp"
#include "api/web_routes.hpp"
#include "test/e2e/agent_fixture.hpp"
#include "test/skip.hpp"

using namespace vigil::e2e;

extern char** environ;

namespace {

std::string g_chromium;  // set by main()

// $VIGIL_TEST_CHROMIUM when set (a path; not executable = missing), else Debian's chromium.
std::string find_chromium() {
  if (const char* env = std::getenv("VIGIL_TEST_CHROMIUM"))
    return access(env, X_OK) == 0 ? env : "";
  for (const char* p : {"/usr/bin/chromium", "/usr/bin/chromium-browser"})
    if (access(p, X_OK) == 0) return p;
  return {};
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct BrowserRun {
  int exit_code = -1;
  std::string out, err;
};

// Runs headless Chromium with `args` (its stdout and stderr kept apart), bounded by `timeout`;
// killed by PID when it overruns. The profile lives under `dir`.
BrowserRun run_chromium(const std::string& dir, const std::vector<std::string>& args,
                        std::chrono::seconds timeout = 90s) {
  std::vector<std::string> argv_s{g_chromium,
                                  "--headless",
                                  "--no-sandbox",
                                  "--disable-gpu",
                                  "--disable-quic",
                                  "--disable-background-networking",
                                  "--disable-component-update",
                                  "--disable-sync",
                                  "--no-first-run",
                                  "--user-data-dir=" + dir + "/chromium-profile"};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : argv_s) argv.push_back(s.data());
  argv.push_back(nullptr);
  const std::string out = dir + "/chromium.out", err = dir + "/chromium.err";
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  BrowserRun r;
  if (rc != 0) return r;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  for (;;) {
    if (waitpid(pid, &status, WNOHANG) == pid) {
      r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      break;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(50ms);
  }
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

// The DOM after the page's scripts ran (virtual time lets the first fetches finish).
std::string dump_dom(const std::string& dir, const std::string& url) {
  auto r = run_chromium(dir, {"--virtual-time-budget=8000", "--dump-dom", url});
  INFO("chromium stderr: " << r.err.substr(0, 2000));
  CHECK(r.exit_code == 0);
  return r.out;
}

// The inner HTML of the first element whose opening tag carries `id="<id>"`, up to `close`.
std::string section(const std::string& dom, const std::string& id, const std::string& close) {
  const auto at = dom.find("id=\"" + id + "\"");
  if (at == std::string::npos) return {};
  const auto start = dom.find('>', at);
  const auto end = dom.find(close, start);
  if (start == std::string::npos || end == std::string::npos) return {};
  return dom.substr(start + 1, end - start - 1);
}

// Opening tags (`<tag ...>`) in `html` that carry every attribute in `attrs` (name="value").
std::vector<std::string> tags_with(const std::string& html, const std::string& tag,
                                   const std::vector<std::string>& attrs) {
  std::vector<std::string> found;
  const std::regex open("<" + tag + "\\b[^>]*>");
  for (auto it = std::sregex_iterator(html.begin(), html.end(), open); it != std::sregex_iterator();
       ++it) {
    const std::string t = it->str();
    bool all = true;
    for (const auto& a : attrs) all = all && t.find(a) != std::string::npos;
    if (all) found.push_back(t);
  }
  return found;
}

std::string attr(const std::string& tag, const std::string& name) {
  std::smatch m;
  if (std::regex_search(tag, m, std::regex(" " + name + "=\"([^\"]*)\""))) return m[1];
  return {};
}

std::string text_of(const std::string& dom, const std::string& id) {
  std::smatch m;
  if (std::regex_search(dom, m, std::regex("id=\"" + id + "\"[^>]*>([^<]*)<"))) return m[1];
  return {};
}

nlohmann::json get_json(const Cluster& c, int i, const std::string& path) {
  auto [status, body] = c.http_get(i, path);
  if (status == 0) return nullptr;
  return nlohmann::json::parse(body, nullptr, false);
}

// Agent i's view has an icmp link with a loss count between every ordered pair of `names`.
bool icmp_links_between(const Cluster& c, int i, const std::vector<std::string>& names) {
  auto r = get_json(c, i, "/v1/reachability");
  if (!r.is_object()) return false;
  std::set<std::pair<std::string, std::string>> have;
  for (const auto& l : r.value("links", nlohmann::json::array()))
    if (l.value("protocol", "") == "icmp" && l.contains("lost"))
      have.insert({l.value("from", ""), l.value("to", "")});
  for (const auto& a : names)
    for (const auto& b : names)
      if (a != b && !have.count({a, b})) return false;
  return true;
}

// Node i's /v1/status holds a result of each of `checkers` from every one of `names`.
bool probes_from_all(const Cluster& c, int i, const std::vector<std::string>& names,
                     const std::vector<std::string>& checkers) {
  auto s = get_json(c, i, "/v1/status");
  if (!s.is_object()) return false;
  std::set<std::string> complete;
  for (const auto& n : s.value("nodes", nlohmann::json::array()))
    if (std::all_of(checkers.begin(), checkers.end(),
                    [&](const std::string& k) { return probe_of(n, k).contains("status"); }))
      complete.insert(n.value("name", ""));
  return std::all_of(names.begin(), names.end(),
                     [&](const std::string& n) { return complete.count(n) > 0; });
}

// "n9" < "n10" < "n100": digit runs compare as numbers (the page's Intl.Collator numeric order
// for names like these).
bool natural_less(const std::string& a, const std::string& b) {
  std::size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (std::isdigit(static_cast<unsigned char>(a[i])) &&
        std::isdigit(static_cast<unsigned char>(b[j]))) {
      std::size_t ie = i, je = j;
      while (ie < a.size() && std::isdigit(static_cast<unsigned char>(a[ie]))) ++ie;
      while (je < b.size() && std::isdigit(static_cast<unsigned char>(b[je]))) ++je;
      const unsigned long x = std::stoul(a.substr(i, ie - i)), y = std::stoul(b.substr(j, je - j));
      if (x != y) return x < y;
      i = ie;
      j = je;
    } else {
      if (a[i] != b[j]) return a[i] < b[j];
      ++i;
      ++j;
    }
  }
  return a.size() - i < b.size() - j;
}

bool naturally_sorted(const std::vector<std::string>& v) {
  return std::is_sorted(v.begin(), v.end(), natural_less);
}

// Added to the page by ProbeSite. Holds the load event with an image ("hold") until it is done;
// waits until the page drew its first data (#timing carries data-load-ms); with ?mode=full it
// records, as JSON in a hidden <pre id="probe-result">: element positions, what each section
// lists, the page's timings; then what the matrix shows after a click on the zone cell
// ?rz -> ?cz (and after a second click that closes it), and every section under the name
// filter ?q typed into the filter box. Then it asks for "probe-done", which releases the image.
const char* const kProbeScript = R"js(
(function () {
  "use strict";
  const args = new URLSearchParams(location.search);
  const hold = document.createElement("img");
  hold.hidden = true;
  hold.alt = "";
  hold.src = "hold";
  document.body.appendChild(hold);
  const $ = (s) => document.querySelector(s);
  const all = (s) => [...document.querySelectorAll(s)];
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  async function until(pred, ms) {
    const end = performance.now() + ms;
    while (performance.now() < end) {
      if (pred()) return true;
      await sleep(20);
    }
    return pred();
  }
  const box = (e) => {
    if (!e) return null;
    const r = e.getBoundingClientRect();
    return {top: Math.round(r.top), bottom: Math.round(r.bottom), height: Math.round(r.height)};
  };
  function snapshot() {
    return {
      problems: all("#problems tbody tr[data-node]").map((tr) => ({
        node: tr.dataset.node, state: tr.dataset.state, rank: +tr.dataset.rank, box: box(tr)})),
      diagnosis: all("#diagnosis li[data-kind]").map((li) => ({
        kind: li.dataset.kind, node: li.dataset.node || "", box: box(li)})),
      healthy: all("#healthy tr[data-zone]").map((tr) => ({
        zone: tr.dataset.zone, healthy: +tr.dataset.healthy, nodes: +tr.dataset.nodes,
        expanded: tr.getAttribute("aria-expanded") === "true"})),
      healthyTotal: +$("#healthy").dataset.healthy,
      healthyNames: all("#healthy [data-node]").map((e) => e.dataset.node),
      checksZones: all("#checks tr[data-zone]").map((tr) => tr.dataset.zone),
      checksNodes: all("#checks tr[data-node]").map((tr) => tr.dataset.node),
      matrixRows: all("#matrix tbody tr").map((tr) => tr.dataset.node !== undefined
                                                      ? "n:" + tr.dataset.node : "z:" + tr.dataset.zone),
      matrixCols: all("#matrix thead th").length - 1,
      aggCells: all("#matrix td.agg").length,
      lossyAggCells: all("#matrix td.agg").filter((td) => +(td.dataset.lossy || 0) > 0).length,
      nodeCells: all("#matrix td[data-from]").length,
      downHeads: all("#matrix th.down").map((th) => th.dataset.node),
      timing: Object.assign({}, $("#timing").dataset)};
  }
  (async () => {
    const loaded = await until(() => $("#timing").dataset.loadMs !== undefined, 20000);
    let result = null;
    if (args.get("mode") === "full") {
      result = {loaded, state: document.body.dataset.state, verdict: $("#verdict").textContent,
                banner: $("#banner").textContent,
                verdictBox: box($("#verdict")), innerWidth, innerHeight,
                scrollHeight: document.documentElement.scrollHeight, first: snapshot()};
      const cell = () => $('#matrix td.agg[data-rz="' + args.get("rz") + '"][data-cz="' +
                           args.get("cz") + '"]');
      result.cellFound = !!cell();
      if (cell()) {
        cell().click();
        result.opened = snapshot();
        if (cell()) cell().click();
        result.closed = snapshot();
      }
      const input = $("#filter");
      input.value = args.get("q") || "";
      input.dispatchEvent(new Event("input"));
      await until(() => $("#problems-count").textContent.includes("matching"), 5000);
      result.filtered = snapshot();
      result.filtered.diagnosisNotes = all("#diagnosis li.note").map((li) => li.textContent);
    }
    if (result) {
      const pre = document.createElement("pre");
      pre.id = "probe-result";
      pre.hidden = true;
      pre.textContent = JSON.stringify(result);
      document.body.appendChild(pre);
    }
    fetch("probe-done", {cache: "no-store"});
  })();
})();
)js";

// A same-origin stand-in in front of an agent (or of the test's own routes) on 127.0.0.1:
// /probe.html is the agent's page with kProbeScript added, /v1/... is passed through (counted:
// the page must ask /v1/overview only), /hold answers once /probe-done was asked (bounded).
class ProbeSite {
 public:
  explicit ProbeSite(int upstream_port) : upstream_(upstream_port) {
    server_.Get("/probe.html", [this](const httplib::Request&, httplib::Response& res) {
      auto [status, page, encoding] = fetch("/");
      const auto at = page.rfind("</body>");
      if (status != 200 || at == std::string::npos) {
        res.status = 502;
        return;
      }
      page.insert(at, std::string("<script>") + kProbeScript + "</script>\n");
      res.set_content(page, "text/html; charset=utf-8");
    });
    // Passed through as the agent answered the browser's Accept-Encoding (the agent's cost of
    // compressing, if it does, shows in the page's request time), never compressed again.
    server_.Get(R"(/v1/(\w+))", [this](const httplib::Request& req, httplib::Response& res) {
      {
        std::lock_guard lock(mu_);
        ++calls_[req.path];
      }
      auto up = fetch(req.path, req.get_header_value("Accept-Encoding"));
      res.status = up.status ? up.status : 502;
      if (!up.encoding.empty()) res.set_header("Content-Encoding", up.encoding);
      auto shared = std::make_shared<const std::string>(std::move(up.body));
      res.set_content_provider(
          shared->size(), "application/json",
          [shared](std::size_t offset, std::size_t length, httplib::DataSink& sink) {
            return sink.write(shared->data() + offset, std::min(length, shared->size() - offset));
          });
    });
    server_.Get("/hold", [this](const httplib::Request&, httplib::Response& res) {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, 30s, [this] { return done_; });
      res.status = 404;  // the image fails: the load event fires either way
    });
    server_.Get("/probe-done", [this](const httplib::Request&, httplib::Response& res) {
      {
        std::lock_guard lock(mu_);
        done_ = true;
      }
      cv_.notify_all();
      res.set_content("{}", "application/json");
    });
    server_.set_tcp_nodelay(true);  // as api::HttpServer
    port_ = free_port();
    REQUIRE(server_.bind_to_port("127.0.0.1", port_));
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~ProbeSite() {
    {
      std::lock_guard lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    server_.stop();
    thread_.join();
  }
  ProbeSite(const ProbeSite&) = delete;
  ProbeSite& operator=(const ProbeSite&) = delete;

  std::string url(const std::string& query) const {
    return "http://127.0.0.1:" + std::to_string(port_) + "/probe.html" + query;
  }
  int calls(const std::string& path) const {
    std::lock_guard lock(mu_);
    auto it = calls_.find(path);
    return it == calls_.end() ? 0 : it->second;
  }
  // The probe of the next browser run waits for its own probe-done.
  void rearm() {
    std::lock_guard lock(mu_);
    done_ = false;
  }

 private:
  struct Upstream {
    int status = 0;
    std::string body, encoding;
  };
  Upstream fetch(const std::string& path, const std::string& accept_encoding = {}) const {
    httplib::Client c("127.0.0.1", upstream_);
    c.set_connection_timeout(2s);
    c.set_read_timeout(10s);
    c.set_decompress(false);
    httplib::Headers h;
    if (!accept_encoding.empty()) h.emplace("Accept-Encoding", accept_encoding);
    auto res = c.Get(path.c_str(), h);
    if (!res) return {0, R"({"error": "upstream unreachable"})", ""};
    return {res->status, res->body, res->get_header_value("Content-Encoding")};
  }

  int upstream_, port_ = 0;
  httplib::Server server_;
  std::thread thread_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::map<std::string, int> calls_;
};

std::string unescape_html(std::string s) {
  for (const auto& [from, to] :
       std::vector<std::pair<std::string, std::string>>{{"&lt;", "<"},
                                                        {"&gt;", ">"},
                                                        {"&quot;", "\""},
                                                        {"&nbsp;", "\xC2\xA0"},
                                                        {"&amp;", "&"}}) {
    for (auto at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
      s.replace(at, from.size(), to);
  }
  return s;
}

// Loads site.url(query) in real time at 1280x800 and returns what the probe wrote (null when
// it wrote nothing).
nlohmann::json probe(ProbeSite& site, const std::string& dir, const std::string& query) {
  site.rearm();
  auto r = run_chromium(dir, {"--window-size=1280,800", "--dump-dom", site.url(query)});
  INFO("chromium stderr: " << r.err.substr(0, 2000));
  CHECK(r.exit_code == 0);
  const std::string open = "id=\"probe-result\"";
  auto at = r.out.find(open);
  if (at == std::string::npos) return nullptr;
  at = r.out.find('>', at);
  const auto end = r.out.find("</pre>", at);
  if (at == std::string::npos || end == std::string::npos) return nullptr;
  return nlohmann::json::parse(unescape_html(r.out.substr(at + 1, end - at - 1)), nullptr, false);
}

// A 1280x800 screenshot of the probe page once it drew its data; checks it is a rendered page.
void screenshot(ProbeSite& site, const std::string& dir, const std::string& png,
                const std::string& size = "1280,800") {
  site.rearm();
  std::remove(png.c_str());
  auto r = run_chromium(dir, {"--window-size=" + size, "--hide-scrollbars", "--screenshot=" + png,
                              site.url("?mode=shot")});
  INFO("chromium stderr: " << r.err.substr(0, 2000));
  CHECK(r.exit_code == 0);
  struct stat st {};
  CHECK(stat(png.c_str(), &st) == 0);
  CHECK(st.st_size > 20000);  // a rendered page, not a blank one
  std::cout << "web_view_test: screenshot saved as " << png << "\n";
}

double ms_of(const nlohmann::json& timing, const char* key) {
  const std::string v = timing.value(key, "");
  return v.empty() ? -1.0 : std::stod(v);
}

std::vector<std::string> names_of(const nlohmann::json& rows) {
  std::vector<std::string> out;
  for (const auto& r : rows)
    out.push_back(r.is_string() ? r.get<std::string>() : r.value("node", ""));
  return out;
}

std::vector<std::string> strings(const nlohmann::json& a) {
  std::vector<std::string> out;
  for (const auto& s : a) out.push_back(s.get<std::string>());
  return out;
}

// What every probe of a page must see whatever the cluster: the data drawn, the worst problem
// first and on the first screen with the diagnosis, problems worst first and natural within a
// rank, the zones in natural order (no-zone last). Prints the render time.
void check_first_screen(const nlohmann::json& r, const std::string& what,
                        const std::string& failed) {
  REQUIRE_MESSAGE(r.is_object(), "the probe wrote no result");
  INFO("probe result: " << r.dump().substr(0, 6000));
  CHECK(r.value("loaded", false));
  CHECK(r.value("state", "") == "ok");
  CHECK(r.value("verdict", "") == "degraded");
  const auto& first = r["first"];
  const int screen = std::min(r.value("innerHeight", 0), 800);
  CHECK(screen >= 500);
  const auto& problems = first["problems"];
  REQUIRE(!problems.empty());
  CHECK(problems[0].value("node", "") == failed);
  CHECK(problems[0].value("state", "") == "failed");
  CHECK(problems[0]["box"].value("bottom", 100000) <= screen);
  for (std::size_t i = 1; i < problems.size(); ++i) {
    const auto &a = problems[i - 1], &b = problems[i];
    CHECK(a.value("rank", 9) <= b.value("rank", 9));
    if (a.value("rank", 9) == b.value("rank", 9))
      CHECK_MESSAGE(natural_less(a.value("node", ""), b.value("node", "")), a << " then " << b);
  }
  for (const auto& d : first["diagnosis"])
    CHECK_MESSAGE(d["box"].value("bottom", 100000) <= screen, d.dump());
  std::vector<std::string> zones;
  for (const auto& z : first["healthy"]) zones.push_back(z.value("zone", ""));
  CHECK(zones.size() >= 2);
  std::vector<std::string> named(zones.begin(), zones.end());
  if (!named.empty() && named.back().empty()) named.pop_back();
  CHECK(naturally_sorted(named));
  CHECK(strings(first["checksZones"]) == zones);
  const double load = ms_of(first["timing"], "loadMs"), render = ms_of(first["timing"], "renderMs");
  std::cout << "web_view_test: " << what << ": " << first["timing"].value("nodes", "?")
            << " nodes drawn in " << render << " ms + JSON parse "
            << ms_of(first["timing"], "parseMs") << " ms = " << load
            << " ms in headless Chromium (goal < 200 ms); the request took "
            << ms_of(first["timing"], "fetchMs") << " ms; page height "
            << r.value("scrollHeight", 0) << " px for a " << screen << " px screen\n";
  CHECK(load > 0.0);
  CHECK(load < 2000.0);  // loose: the goal is printed above, a loaded machine must not flake
  // Loose too: what it catches is an agent compressing the document with httplib's brotli
  // (~3.4 s for 2 MB), which the page's 4 s request timeout barely survives.
  CHECK(ms_of(first["timing"], "fetchMs") < 3000.0);
}

// The 500-node ClusterView: n1..n500, zones zone-1/2/3/10 for n1..n480 and none for the last 20;
// n137 failed (its last report 150 s old), n42 suspect, n250's kubelet check failing critical,
// disk warnings on n9, n10 and n100, n77 losing 20-40% of the probes to and from it. Every node
// measures 24 peers (ICMP, 30 probes, and gossip RTT); 0.3% of the other links lose one probe.
vigil::api::ClusterView big_view(std::int64_t now_ms) {
  using namespace vigil::api;
  const std::vector<std::string> zones{"zone-10", "zone-1", "zone-2", "zone-3"};
  ClusterView v;
  v.observer = "n1";
  v.timestamp_ms = now_ms;
  v.reach_window = std::chrono::seconds(60);
  std::mt19937 rng(15);
  const int n = 500;
  std::vector<std::string> names;
  for (int i = 1; i <= n; ++i) names.push_back("n" + std::to_string(i));
  for (int i = 1; i <= n; ++i) {
    const std::string& name = names[i - 1];
    NodeView node;
    node.member.name = name;
    node.member.addr = "10.0." + std::to_string(i / 250) + "." + std::to_string(i % 250) + ":7946";
    node.member.status = name == "n137" ? "failed" : name == "n42" ? "suspect" : "alive";
    node.member.incarnation = name == "n42" ? 3 : 1;
    if (i <= 480) node.member.tags = {{"zone", zones[i % 4]}};
    node.updated_ms = now_ms - (name == "n137" ? 150'000 : 1'500);
    ProbeView disk{
        "disk", "disk", "running", "", now_ms - 3'600'000, "", "/: 41% used (warn 80%, crit 90%)"};
    if (name == "n9" || name == "n10" || name == "n100") {
      disk.status = "failed";
      disk.severity = "warning";
      disk.detail = "/var: 84% used (warn 80%, crit 90%)";
    }
    ProbeView kubelet{"kubelet", "http", "running", "", now_ms - 3'600'000, "", "200 OK"};
    if (name == "n250") {
      kubelet.status = "failed";
      kubelet.severity = "critical";
      kubelet.error = "GET http://127.0.0.1:10248/healthz: connection refused";
      kubelet.detail = "";
    }
    ProbeView ping{"ping", "ping", "running", "", now_ms - 3'600'000, "", "8 peers, 0% lost"};
    node.probes = {disk, kubelet, ping};
    std::vector<int> peers;
    while (peers.size() < 24) {
      const int p = static_cast<int>(rng() % n) + 1;
      if (p != i && std::find(peers.begin(), peers.end(), p) == peers.end()) peers.push_back(p);
    }
    for (int p : peers) {
      const std::string& peer = names[p - 1];
      std::uint32_t lost = 0;
      if (peer == "n137" && name != "n137")
        lost = 30;
      else if (peer == "n77" || name == "n77")
        lost = 6 + rng() % 7;
      else if (rng() % 1000 < 3)
        lost = 1;
      const double rtt = 0.3 + (rng() % 100) / 100.0;
      node.reach.push_back({peer, "icmp", 30, lost, lost == 30 ? 0.0 : rtt, true});
      node.reach.push_back({peer, "gossip", 12, 0, rtt + 0.2, false});
    }
    v.nodes.push_back(std::move(node));
  }
  std::sort(v.nodes.begin(), v.nodes.end(),
            [](const NodeView& a, const NodeView& b) { return a.member.name < b.member.name; });
  return v;
}

}  // namespace

TEST_CASE("web view: five agents, one killed: the page shows it failed, the matrix, degraded") {
  if (auto r = icmp_unavailable(); !r.empty()) return vigil::test::skip(r);
  Cluster c;
  // ping: ICMP to every peer each run (root here: raw sockets), fills the matrix with loss.
  const std::string cfg = c.write_config("web.json", R"([
    {"type": "ping", "interval": "2s", "timeout": "1900ms", "count": 3,
     "packet_interval": "50ms", "reply_timeout": "300ms"},
    {"type": "disk", "paths": ["/"], "interval": "2s", "timeout": "1s"}])");
  const std::vector<std::string> zones{"zone-a", "zone-a", "zone-b", "zone-b", "zone-c"};
  const int p0 = free_port();
  std::vector<int> all;
  std::vector<std::string> names;
  for (int k = 0; k < 5; ++k) {
    names.push_back("n" + std::to_string(k));
    AgentSpec s{.name = names.back(), .config = cfg};
    if (k == 0)
      s.gossip_port = p0;
    else
      s.join = {"127.0.0.1:" + std::to_string(p0)};
    s.extra = {"--tag", "zone=" + zones[k]};
    all.push_back(c.start(s));
  }
  const int observer = all[0], victim = all[2];
  const std::vector<int> rest{all[0], all[1], all[3], all[4]};
  const std::vector<std::string> survivors{"n0", "n1", "n3", "n4"};

  // Converged, n0 holds every node's ICMP measurements of every other node (a summary is
  // issued when its first ICMP results arrive: HealthState::refresh_reach) and every node's
  // ping and disk results (n2's must be there before it is killed: they are what n0 keeps).
  auto diag = [&] {
    return "n0 members: " + get_json(c, observer, "/v1/members").dump() +
           "\nn0 reachability: " + get_json(c, observer, "/v1/reachability").dump() +
           "\nn0 log tail: " +
           c.log(observer).substr(c.log(observer).size() > 3000 ? c.log(observer).size() - 3000
                                                                : 0);
  };
  const bool converged = eventually(
      [&] {
        for (int i : all)
          for (const auto& n : names)
            if (c.status_of(i, n) != "alive") return false;
        return icmp_links_between(c, observer, names) &&
               probes_from_all(c, observer, names, {"ping", "disk"});
      },
      120s);
  REQUIRE_MESSAGE(converged, diag());

  // The page itself: HTML, not cached, self-contained (no external resource).
  {
    httplib::Client http("127.0.0.1", c.spec(observer).http_port);
    auto res = http.Get("/");
    REQUIRE(res);
    CHECK(res->status == 200);
    CHECK(res->get_header_value("Content-Type") == "text/html; charset=utf-8");
    CHECK(res->get_header_value("Cache-Control") == "no-cache");
    CHECK(res->body.find("<!DOCTYPE html>") == 0);
    CHECK(res->body.find("src=\"http") == std::string::npos);
    CHECK(res->body.find("href=\"http") == std::string::npos);
    CHECK(res->body.find("@import") == std::string::npos);
    std::ofstream(c.dir() + "/offline.html") << res->body;
    // Its data, one document: /v1/status and /v1/reachability of one snapshot, the status code
    // of /v1/status.
    res = http.Get("/v1/overview");
    REQUIRE(res);
    auto o = nlohmann::json::parse(res->body, nullptr, false);
    REQUIRE(o.is_object());
    CHECK(o["status"]["nodes"].size() == 5);
    CHECK(o["status"].contains("diagnosis"));
    CHECK(res->status == (o["status"].value("status", "") == "running" ? 200 : 503));
    CHECK(o["reachability"]["links"].size() >= 20);
    CHECK(http.Get("/v1/overview?x=1")->status == 400);
  }

  // kill -9 n2; wait until every survivor marks it failed and n0 has fresh survivor links.
  c.signal(victim, SIGKILL);
  c.wait_exit(victim);
  const bool marked = eventually(
      [&] {
        for (int i : rest)
          if (c.status_of(i, "n2") != "failed") return false;
        auto s = get_json(c, observer, "/v1/status");
        return s.is_object() && s.value("status", "") == "degraded" &&
               icmp_links_between(c, observer, survivors);
      },
      120s);
  REQUIRE_MESSAGE(marked, diag());

  const std::string url = "http://127.0.0.1:" + std::to_string(c.spec(observer).http_port) + "/";
  const std::string dom = dump_dom(c.dir(), url);
  INFO("DOM: " << dom.substr(0, 6000));
  REQUIRE(!dom.empty());
  CHECK(dom.find("data-state=\"ok\"") != std::string::npos);  // <body>: the fetch worked
  CHECK(text_of(dom, "verdict") == "degraded");
  CHECK(text_of(dom, "summary").find("1 of 5 nodes degraded") != std::string::npos);

  // Problems: n2 first, failed, with its address and zone; any other row is an alive node
  // (a survivor listed for loss, say). The healthy ones are counted by zone: together, 5.
  const std::string problems = section(dom, "problems", "</table>");
  const auto rows = tags_with(problems, "tr", {"data-node="});
  REQUIRE(!rows.empty());
  CHECK(attr(rows[0], "data-node") == "n2");
  CHECK(attr(rows[0], "data-state") == "failed");
  for (std::size_t i = 1; i < rows.size(); ++i) CHECK(attr(rows[i], "data-state") == "alive");
  CHECK(problems.find("<td class=\"state-failed\">failed</td>") != std::string::npos);
  CHECK(problems.find("zone-b") != std::string::npos);
  CHECK(problems.find("127.0.0.1:" + std::to_string(c.spec(victim).gossip_port)) !=
        std::string::npos);
  const auto healthy_table = tags_with(dom, "table", {"id=\"healthy\""});
  REQUIRE(healthy_table.size() == 1);
  CHECK(std::stoi(attr(healthy_table[0], "data-healthy")) + rows.size() == 5);
  CHECK(attr(healthy_table[0], "data-nodes") == "5");
  std::vector<std::string> zone_rows;
  for (const auto& t : tags_with(section(dom, "healthy", "</table>"), "tr", {"data-zone="}))
    zone_rows.push_back(attr(t, "data-zone"));
  CHECK(zone_rows == std::vector<std::string>{"zone-a", "zone-b", "zone-c"});

  // Checks grid (5 nodes: every zone open): a ping and a disk cell for each node.
  const std::string checks = section(dom, "checks", "</table>");
  CHECK(tags_with(checks, "td", {"data-checker=\"ping\"", "data-status="}).size() == 5);
  CHECK(tags_with(checks, "td", {"data-checker=\"disk\"", "data-status="}).size() == 5);
  CHECK(tags_with(checks, "tr", {"data-zone="}).size() == 3);

  // Matrix (every zone open): a loss value in every survivor -> survivor cell; n2's row and
  // column heads are marked down; each zone has its aggregate row.
  const std::string matrix = section(dom, "matrix", "</table>");
  for (const auto& a : survivors) {
    for (const auto& b : survivors) {
      if (a == b) continue;
      auto cells = tags_with(matrix, "td", {"data-from=\"" + a + "\"", "data-to=\"" + b + "\""});
      REQUIRE_MESSAGE(cells.size() == 1, a << " -> " << b << " has no loss cell");
      const std::string loss = attr(cells[0], "data-loss");
      CHECK_MESSAGE(!loss.empty(), a << " -> " << b);
      CHECK(std::stod(loss) >= 0.0);
      CHECK(std::stod(loss) <= 1.0);
    }
  }
  CHECK(tags_with(matrix, "th", {"class=\"down\""}).size() == 2);  // n2 as row and column
  CHECK(tags_with(matrix, "tr", {"data-zone="}).size() == 3);

  // Screenshot: a person looks at it (str_replace_based_edit_tool view on the PNG).
  const std::string png = WEB_VIEW_SCREENSHOT;
  std::remove(png.c_str());
  auto shot = run_chromium(c.dir(), {"--virtual-time-budget=8000", "--window-size=1280,1000",
                                     "--hide-scrollbars", "--screenshot=" + png, url});
  INFO("chromium stderr: " << shot.err.substr(0, 2000));
  CHECK(shot.exit_code == 0);
  struct stat st {};
  CHECK(stat(png.c_str(), &st) == 0);
  CHECK(st.st_size > 20000);  // a rendered page, not a blank one
  std::cout << "web_view_test: screenshot saved as " << png << "\n";

  // The agent goes away after the page loaded: a stand-in server answers the first
  // /v1/overview with the agent's real document, then fails. The page keeps the last data,
  // dimmed, and says the agent is unreachable (virtual time runs the 5 s refresh). It asks for
  // nothing else: one request per refresh.
  {
    const std::string page = c.http_get(observer, "/").second;
    const std::string overview = c.http_get(observer, "/v1/overview").second;
    REQUIRE(!overview.empty());
    std::atomic<int> overview_calls{0}, other_calls{0};
    httplib::Server stand_in;
    stand_in.Get("/", [&](const httplib::Request&, httplib::Response& res) {
      res.set_content(page, "text/html; charset=utf-8");
    });
    stand_in.Get("/v1/overview", [&](const httplib::Request&, httplib::Response& res) {
      if (overview_calls++ == 0) return res.set_content(overview, "application/json");
      res.status = 502;
      res.set_content("bad gateway", "text/plain");
    });
    stand_in.Get(R"(/v1/(status|reachability|members))",
                 [&](const httplib::Request&, httplib::Response& res) {
                   ++other_calls;
                   res.status = 500;
                 });
    const int port = free_port();
    REQUIRE(stand_in.bind_to_port("127.0.0.1", port));
    std::thread serve([&] { stand_in.listen_after_bind(); });
    const std::string later = dump_dom(c.dir(), "http://127.0.0.1:" + std::to_string(port) + "/");
    stand_in.stop();
    serve.join();
    CHECK(overview_calls >= 2);
    CHECK(other_calls == 0);
    CHECK(text_of(later, "verdict") == "agent unreachable");
    CHECK(later.find("class=\"stale\"") != std::string::npos);
    CHECK(later.find("Showing the data of") != std::string::npos);
    const auto kept = tags_with(section(later, "problems", "</table>"), "tr", {"data-node="});
    REQUIRE(!kept.empty());
    CHECK(attr(kept[0], "data-node") == "n2");
    const auto kept_healthy = tags_with(later, "table", {"id=\"healthy\""});
    REQUIRE(kept_healthy.size() == 1);
    CHECK(attr(kept_healthy[0], "data-nodes") == "5");
  }

  // Without an agent behind it (the saved page from file://) it still renders and says so.
  const std::string offline = dump_dom(c.dir(), "file://" + c.dir() + "/offline.html");
  CHECK(text_of(offline, "verdict") == "agent unreachable");
  CHECK(offline.find("data-state=\"unreachable\"") != std::string::npos);
  CHECK(offline.find("Agent unreachable (") != std::string::npos);
}

TEST_CASE("web view: 500 nodes: problems on the first screen, healthy collapsed by zone, fast") {
  using namespace vigil::api;
  const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  auto view = std::make_shared<const ClusterView>(big_view(now_ms));
  // The real diagnosis names the failed node (and the lossy one) in this view.
  const auto status = nlohmann::json::parse(status_json(*view));
  INFO("diagnosis: " << status["diagnosis"].dump());
  bool unreachable = false, lossy = false;
  for (const auto& d : status["diagnosis"]) {
    unreachable =
        unreachable || (d.value("kind", "") == "node-unreachable" && d.value("node", "") == "n137");
    lossy = lossy || (d.value("kind", "") == "lossy-node" && d.value("node", "") == "n77");
  }
  REQUIRE(unreachable);
  CHECK(lossy);

  // The agent's routes over the view, as an agent serves them.
  SnapshotCell<ClusterView> cell;
  cell.publish(view);
  HttpServer agent;
  add_status_routes(agent, cell, {});
  add_web_routes(agent, cell);
  agent.bind("127.0.0.1", free_port());
  agent.start();
  ProbeSite site(agent.port());
  Cluster scratch;  // a temp dir for the browser profile (no agent started)
  const std::string dir = scratch.dir();

  std::string failed_zone;
  for (const auto& node : view->nodes)
    if (node.member.name == "n137") failed_zone = node.member.tags.at(0).second;
  const auto r = probe(site, dir, "?mode=full&rz=" + failed_zone + "&cz=" + failed_zone + "&q=n49");
  check_first_screen(r, "500 nodes (canned, real serializer)", "n137");
  INFO("probe result: " << r.dump().substr(0, 8000));
  const auto& first = r["first"];

  // The problem list holds the failed, suspect, degraded, warning and lossy nodes only, in
  // that order (natural within a rank: n9, n10, n100).
  std::vector<std::string> listed = names_of(first["problems"]);
  CHECK(std::vector<std::string>(listed.begin(),
                                 listed.begin() + std::min<std::size_t>(6, listed.size())) ==
        std::vector<std::string>{"n137", "n42", "n250", "n9", "n10", "n100"});
  CHECK(std::find(listed.begin(), listed.end(), "n77") != listed.end());
  CHECK(listed.size() <= 12);  // not every peer of the lossy node
  bool diag_n137 = false;
  for (const auto& d : first["diagnosis"])
    diag_n137 =
        diag_n137 || (d.value("kind", "") == "node-unreachable" && d.value("node", "") == "n137");
  CHECK(diag_n137);

  // Healthy nodes: counted by zone (natural zone order, no-zone last), collapsed, no name shown.
  std::vector<std::string> zones;
  int healthy = 0, total = 0;
  for (const auto& z : first["healthy"]) {
    zones.push_back(z.value("zone", ""));
    healthy += z.value("healthy", 0);
    total += z.value("nodes", 0);
    CHECK_FALSE(z.value("expanded", true));
  }
  CHECK(zones == std::vector<std::string>{"zone-1", "zone-2", "zone-3", "zone-10", ""});
  CHECK(total == 500);
  CHECK(healthy == 500 - static_cast<int>(listed.size()));
  CHECK(first.value("healthyTotal", 0) == healthy);
  CHECK(first["healthyNames"].empty());
  // The grid and the matrix: one row per zone, no node row; 5 x 5 zone cells.
  CHECK(first["checksNodes"].empty());
  CHECK(strings(first["matrixRows"]) ==
        std::vector<std::string>{"z:zone-1", "z:zone-2", "z:zone-3", "z:zone-10", "z:"});
  CHECK(first.value("aggCells", 0) == 25);
  CHECK(first.value("nodeCells", -1) == 0);
  CHECK(first.value("lossyAggCells", 0) >= 5);       // n77's zone row and column at least
  CHECK(r.value("scrollHeight", 100000) < 3 * 800);  // not a long scroll

  // A click on the cell of n137's zone to itself opens that zone's nodes (too many for every
  // cell: those with loss or not alive) as rows and columns with node cells; n137 is among
  // them, marked down; a second click closes it.
  REQUIRE(r.value("cellFound", false));
  const auto& opened = r["opened"];
  const auto rows = strings(opened["matrixRows"]);
  CHECK(std::find(rows.begin(), rows.end(), "n:n137") != rows.end());
  CHECK(opened.value("nodeCells", 0) > 0);
  CHECK(std::count(opened["downHeads"].begin(), opened["downHeads"].end(), "n137") == 2);
  std::vector<std::string> zone_nodes;
  for (const auto& row : rows)
    if (row.rfind("n:", 0) == 0) zone_nodes.push_back(row.substr(2));
  CHECK(naturally_sorted(zone_nodes));
  std::cout << "web_view_test: 500 nodes: opening a zone cell (" << zone_nodes.size()
            << " node rows and columns) redrew in " << ms_of(opened["timing"], "renderMs")
            << " ms\n";
  CHECK(strings(r["closed"]["matrixRows"]) == strings(first["matrixRows"]));

  // The filter "n49": every section lists n49 and n490..n499 only, in natural order; few
  // matches open their zones.
  const auto& filtered = r["filtered"];
  std::vector<std::string> expect{"n49"};
  for (int i = 490; i <= 499; ++i) expect.push_back("n" + std::to_string(i));
  CHECK(strings(filtered["healthyNames"]) == expect);
  CHECK(strings(filtered["checksNodes"]) == expect);
  std::vector<std::string> matrix_nodes;
  for (const auto& row : strings(filtered["matrixRows"]))
    if (row.rfind("n:", 0) == 0) matrix_nodes.push_back(row.substr(2));
  CHECK(matrix_nodes == expect);
  CHECK(filtered["problems"].empty());
  CHECK(filtered["diagnosis"].empty());  // both entries name other nodes
  CHECK(filtered["diagnosisNotes"].size() == 1);

  // One request per refresh: the page asked /v1/overview, never /v1/status or /v1/reachability.
  CHECK(site.calls("/v1/overview") >= 1);
  CHECK(site.calls("/v1/status") == 0);
  CHECK(site.calls("/v1/reachability") == 0);

  screenshot(site, dir, WEB_VIEW_500_SCREENSHOT);
  agent.stop();
}

// Opt-in: VIGIL_WEB_MESH=<agents> (scripts/web-64.sh). doctest::skip here means "not asked
// for", not "cannot run": the ordinary run leaves it out on purpose (its time budget).
TEST_CASE("web view: a real mesh (VIGIL_WEB_MESH agents), one killed" *
          doctest::skip(std::getenv("VIGIL_WEB_MESH") == nullptr)) {
  if (auto r = icmp_unavailable(); !r.empty()) return vigil::test::skip(r);
  const int n = std::max(16, std::atoi(std::getenv("VIGIL_WEB_MESH")));
  Cluster c;
  // ping only, every 5 s, 8 peers a round; gossip a little slower than the fixture's so that
  // 64 agents on 2 busy cores do not suspect each other.
  const std::string cfg = c.dir() + "/mesh.json";
  std::ofstream(cfg) << R"({
  "profile": "local",
  "checkers": [{"type": "ping", "interval": "5s", "timeout": "4s", "count": 3,
                "packet_interval": "100ms", "reply_timeout": "500ms", "max_peers_per_round": 8}],
  "gossip": {"probe_interval": "1s", "probe_timeout": "400ms", "gossip_interval": "200ms",
             "suspicion_mult": 4, "push_pull_interval": "10s"}
})";
  const std::vector<std::string> zones{"zone-1", "zone-2", "zone-3", "zone-10"};
  const int p0 = free_port();
  std::vector<std::string> names;
  const auto t0 = std::chrono::steady_clock::now();
  for (int k = 1; k <= n; ++k) {
    names.push_back("n" + std::to_string(k));
    AgentSpec s{.name = names.back(), .config = cfg};
    if (k == 1)
      s.gossip_port = p0;
    else
      s.join = {"127.0.0.1:" + std::to_string(p0)};
    if (k % 16 != 0) s.extra = {"--tag", "zone=" + zones[k % 4]};  // every 16th: no zone
    c.start(s);
  }
  const int observer = 0, victim = 22;  // n1 observes, n23 is killed
  const auto secs = [&] {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - t0)
        .count();
  };
  auto alive_count = [&] {
    int k = 0;
    if (auto m = c.members(observer))
      for (const auto& e : *m) k += e.value("status", "") == "alive";
    return k;
  };
  REQUIRE_MESSAGE(eventually([&] { return alive_count() == n; }, 180s),
                  alive_count() << " of " << n << " alive in n1's view");
  REQUIRE_MESSAGE(eventually([&] { return probes_from_all(c, observer, names, {"ping"}); }, 180s),
                  "n1 lacks ping results");
  std::cout << "web_view_test: " << n << " agents converged in " << secs() << " s\n";

  c.signal(victim, SIGKILL);
  c.wait_exit(victim);
  const auto killed = std::chrono::steady_clock::now();
  REQUIRE(eventually([&] { return c.status_of(observer, "n23") == "failed"; }, 120s));
  std::cout << "web_view_test: n23 failed in n1's view "
            << std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::steady_clock::now() - killed)
                       .count() /
                   1000.0
            << " s after kill -9\n";
  // The diagnosis needs the peers' pings to n23 to fail for a while (bounded; looked at, not
  // required: the page is the subject).
  const bool named = eventually(
      [&] {
        auto s = get_json(c, observer, "/v1/status");
        for (const auto& d : s.value("diagnosis", nlohmann::json::array()))
          if (d.value("node", "") == "n23") return true;
        return false;
      },
      60s);
  std::cout << "web_view_test: diagnosis names n23: " << (named ? "yes" : "no") << "\n";

  ProbeSite site(c.spec(observer).http_port);
  const auto r =
      probe(site, c.dir(), "?mode=full&rz=" + zones[23 % 4] + "&cz=" + zones[23 % 4] + "&q=n2");
  check_first_screen(r, std::to_string(n) + " real agents", "n23");
  std::cout << "web_view_test: probe result: " << r.dump().substr(0, 3000) << "\n";
  CHECK(site.calls("/v1/status") == 0);
  screenshot(site, c.dir(), WEB_VIEW_MESH_SCREENSHOT);
  screenshot(site, c.dir(), std::string(WEB_VIEW_MESH_SCREENSHOT) + ".full.png", "1280,1600");
}

int main(int argc, char** argv) {
  g_chromium = find_chromium();
  if (g_chromium.empty()) {
    vigil::test::skip("chromium not installed (apt install chromium)");
    return vigil::test::exit_code(0);
  }
  doctest::Context ctx(argc, argv);
  return vigil::test::exit_code(ctx.run());
}
