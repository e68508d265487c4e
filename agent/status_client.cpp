#include "agent/status_client.hpp"

#include <httplib.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "agent/duration.hpp"
#include "api/time_format.hpp"

namespace vigil::agent {
namespace {

using nlohmann::json;

constexpr const char* kRed = "\033[31m";
constexpr const char* kYellow = "\033[33m";
constexpr const char* kGreen = "\033[32m";
constexpr const char* kBold = "\033[1m";
constexpr const char* kReset = "\033[0m";
constexpr std::size_t kMaxErrorColumn = 120;  // longer errors are cut in the table

std::string paint(const std::string& s, const char* code, bool color) {
  return color ? std::string(code) + s + kReset : s;
}

// Display width of UTF-8 text (one column per code point; good enough for names and "×").
std::size_t width(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

std::string cut(const std::string& s, std::size_t max) {
  if (width(s) <= max) return s;
  std::string out;
  std::size_t n = 0;
  for (unsigned char c : s) {
    if ((c & 0xC0) != 0x80 && ++n > max - 1) break;
    out.push_back(static_cast<char>(c));
  }
  return out + "\xE2\x80\xA6";
}

std::string str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// "12s ago", "5m ago", "3h ago", "2d ago" between two RFC 3339 times ("" when unknown).
std::string age(const std::string& then, const std::string& now) {
  auto a = api::parse_rfc3339_ms(then), b = api::parse_rfc3339_ms(now);
  if (!a || !b) return "";
  const std::int64_t s = std::max<std::int64_t>(0, (*b - *a) / 1000);
  if (s < 120) return std::to_string(s) + "s ago";
  if (s < 7200) return std::to_string(s / 60) + "m ago";
  if (s < 172800) return std::to_string(s / 3600) + "h ago";
  return std::to_string(s / 86400) + "d ago";
}

// Rows of cells -> aligned text; `paint_cell` colours a cell after padding.
using Row = std::vector<std::string>;
std::string table(
    const std::vector<Row>& rows,
    const std::function<std::string(std::size_t, std::size_t, std::string)>& paint_cell) {
  std::vector<std::size_t> w;
  for (const Row& r : rows) {
    if (r.size() > w.size()) w.resize(r.size(), 0);
    for (std::size_t i = 0; i + 1 < r.size(); ++i) w[i] = std::max(w[i], width(r[i]));
  }
  std::string out;
  for (std::size_t ri = 0; ri < rows.size(); ++ri) {
    std::string line;
    for (std::size_t i = 0; i < rows[ri].size(); ++i) {
      std::string cell = rows[ri][i];
      const bool last = i + 1 == rows[ri].size();
      const std::size_t pad = last ? 0 : w[i] - width(cell) + 2;
      line += paint_cell(ri, i, cell) + std::string(pad, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

struct ProbeLine {
  std::string text;
  bool critical;
};

// Failed probes of a node as "[×] etcd: error" lines, critical first.
std::vector<ProbeLine> failed_probes(const json& node) {
  std::vector<ProbeLine> out;
  auto probes = node.find("probes");
  if (probes == node.end() || !probes->is_array()) return out;
  for (const json& p : *probes) {
    if (!p.is_object() || str(p, "status") != "failed") continue;
    const bool critical = str(p, "severity") != "warning";
    std::string why = str(p, "error");
    if (why.empty()) why = str(p, "detail");
    std::string text = std::string(critical ? "[\xC3\x97] " : "[!] ") + str(p, "checker");
    if (!why.empty()) text += ": " + cut(why, kMaxErrorColumn);
    out.push_back({std::move(text), critical});
  }
  std::stable_partition(out.begin(), out.end(), [](const ProbeLine& l) { return l.critical; });
  return out;
}

std::size_t probe_count(const json& node) {
  auto probes = node.find("probes");
  return probes != node.end() && probes->is_array() ? probes->size() : 0;
}

const json& member_of(const json& n) {
  static const json empty = json::object();
  auto it = n.find("member_status");
  return it != n.end() && it->is_object() ? *it : empty;
}

// The zone tag of a node, "-" when it has none.
std::string zone_of(const json& n) {
  const json& m = member_of(n);
  auto tags = m.find("tags");
  std::string z = tags != m.end() && tags->is_object() ? str(*tags, "zone") : std::string();
  return z.empty() ? "-" : z;
}

// One node as a main row plus continuation rows for its further failed probes; with_zone puts
// the zone in a column after the name.
void node_rows(const json& n, const std::string& now, std::vector<Row>& rows,
               std::vector<int>& kinds, bool with_zone = false) {
  const json& member = member_of(n);
  const std::string updated = str(n, "updated");
  std::string when = updated.empty() ? "never" : age(updated, now);
  if (when.empty()) when = updated;
  const auto failed = failed_probes(n);
  const std::size_t total = probe_count(n);
  std::string first = !failed.empty() ? failed[0].text
                      : total == 0    ? "no probes reported"
                      : total == 1    ? "1 probe ok"
                                      : "all " + std::to_string(total) + " probes ok";
  Row row{str(n, "name"), str(member, "status"), str(n, "status"), when, first};
  if (with_zone) row.insert(row.begin() + 1, zone_of(n));
  rows.push_back(std::move(row));
  kinds.push_back(failed.empty() ? 0 : failed[0].critical ? 2 : 1);
  for (std::size_t i = 1; i < failed.size(); ++i) {
    rows.push_back(Row(with_zone ? 5 : 4, std::string()));
    rows.back().push_back(failed[i].text);
    kinds.push_back(failed[i].critical ? 2 : 1);
  }
}

Row node_header(bool with_zone) {
  if (with_zone) return {"NODE", "ZONE", "MEMBER", "STATUS", "UPDATED", "PROBES"};
  return {"NODE", "MEMBER", "STATUS", "UPDATED", "PROBES"};
}

std::string painted_node_table(const std::vector<Row>& rows, const std::vector<int>& kinds,
                               bool color, bool with_zone = false) {
  const std::size_t shift = with_zone ? 1 : 0;
  return table(rows, [&](std::size_t r, std::size_t c, std::string cell) {
    if (!color || r == 0 || cell.empty() || c < shift) return cell;
    c -= shift;
    if (c == 1 && cell != "alive") return paint(cell, kRed, true);
    if (c == 2) return paint(cell, cell == "running" ? kGreen : kRed, true);
    if (c == 4 && kinds[r] == 2) return paint(cell, kRed, true);
    if (c == 4 && kinds[r] == 1) return paint(cell, kYellow, true);
    return cell;
  });
}

// The node objects of a status document in natural name order.
std::vector<const json*> sorted_nodes(const json& doc) {
  std::vector<const json*> out;
  auto nodes = doc.find("nodes");
  if (nodes == doc.end() || !nodes->is_array()) return out;
  for (const json& n : *nodes) {
    if (n.is_object()) out.push_back(&n);
  }
  std::stable_sort(out.begin(), out.end(), [](const json* a, const json* b) {
    return natural_less(str(*a, "name"), str(*b, "name"));
  });
  return out;
}

// Verdict, summary and diagnosis, then a blank line.
std::string status_header(const json& j, bool color) {
  const std::string status = str(j, "status");
  std::string out;
  const std::string verdict = status == "running"    ? "RUNNING"
                              : status == "degraded" ? "DEGRADED"
                                                     : status;
  out += paint(verdict, status == "running" ? kGreen : kRed, color);
  if (color) out = std::string(kBold) + out;
  out += "  " + str(j, "summary") + "  (observer " + str(j, "observer") + ", " +
         str(j, "timestamp") + ")\n";
  if (j.contains("diagnosis") && j["diagnosis"].is_array() && !j["diagnosis"].empty()) {
    out += "diagnosis:\n";
    for (const json& d : j["diagnosis"]) {
      if (!d.is_object()) continue;
      std::string line = "  " + str(d, "kind");
      if (!str(d, "node").empty()) line += " " + str(d, "node");
      line += ": " + str(d, "evidence");
      out += paint(line, kYellow, color) + "\n";
    }
  }
  return out + "\n";
}

enum class NodeClass { running, degraded, failed };

// failed: the member is failed; degraded: otherwise not running (suspect, a critical probe).
NodeClass classify(const json& n) {
  if (str(member_of(n), "status") == "failed") return NodeClass::failed;
  return str(n, "status") == "running" ? NodeClass::running : NodeClass::degraded;
}

std::string http_error(const httplib::Result& res, const std::string& url,
                       const std::string& path) {
  return api_error(res, url, path);
}

}  // namespace

int status_exit_code(const std::string& doc_json) {
  auto j = json::parse(doc_json, nullptr, false);
  if (!j.is_object()) return 2;
  const std::string s = str(j, "status");
  return s == "running" ? 0 : s == "degraded" ? 1 : 2;
}

bool natural_less(const std::string& a, const std::string& b) {
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  std::size_t i = 0, k = 0;
  while (i < a.size() && k < b.size()) {
    if (digit(a[i]) && digit(b[k])) {
      while (i < a.size() && a[i] == '0') ++i;  // leading zeros do not count
      while (k < b.size() && b[k] == '0') ++k;
      const std::size_t i0 = i, k0 = k;
      while (i < a.size() && digit(a[i])) ++i;
      while (k < b.size() && digit(b[k])) ++k;
      if (i - i0 != k - k0) return i - i0 < k - k0;  // fewer digits: smaller number
      const int c = a.compare(i0, i - i0, b, k0, k - k0);
      if (c != 0) return c < 0;
      continue;
    }
    if (a[i] != b[k]) return static_cast<unsigned char>(a[i]) < static_cast<unsigned char>(b[k]);
    ++i, ++k;
  }
  if (i < a.size() || k < b.size()) return k < b.size();  // a prefix comes first
  return a < b;
}

std::string render_status(const std::string& status_json, bool color) {
  auto j = json::parse(status_json, nullptr, false);
  if (!j.is_object()) return "unreadable status document\n";
  const std::string now = str(j, "timestamp");
  std::vector<Row> rows{node_header(false)};
  std::vector<int> kinds{0};
  for (const json* n : sorted_nodes(j)) node_rows(*n, now, rows, kinds);
  return status_header(j, color) + painted_node_table(rows, kinds, color);
}

std::string render_status_problems(const std::string& status_json, bool color) {
  auto j = json::parse(status_json, nullptr, false);
  if (!j.is_object()) return "unreadable status document\n";
  const std::string now = str(j, "timestamp");
  const auto nodes = sorted_nodes(j);
  std::string out = status_header(j, color);
  if (nodes.empty()) return out + "no nodes known\n";

  // Counts per zone, zones in natural order with "-" (no zone tag) last.
  struct Counts {
    std::size_t running = 0, degraded = 0, failed = 0;
  };
  std::map<std::string, Counts> zones;
  std::vector<Row> rows{node_header(true)};
  std::vector<int> kinds{0};
  std::size_t running = 0;
  for (const json* n : nodes) {
    Counts& z = zones[zone_of(*n)];
    switch (classify(*n)) {
      case NodeClass::running:
        ++z.running, ++running;
        continue;  // not listed
      case NodeClass::degraded:
        ++z.degraded;
        break;
      case NodeClass::failed:
        ++z.failed;
        break;
    }
    node_rows(*n, now, rows, kinds, true);
  }
  std::vector<std::string> names;
  for (const auto& [name, counts] : zones) names.push_back(name);
  std::sort(names.begin(), names.end(), [](const std::string& a, const std::string& b) {
    if ((a == "-") != (b == "-")) return b == "-";
    return natural_less(a, b);
  });
  std::vector<Row> zone_rows{{"ZONE", "NODES", "RUNNING", "DEGRADED", "FAILED"}};
  for (const std::string& name : names) {
    const Counts& c = zones[name];
    zone_rows.push_back({name, std::to_string(c.running + c.degraded + c.failed),
                         std::to_string(c.running), std::to_string(c.degraded),
                         std::to_string(c.failed)});
  }
  out += table(zone_rows, [color](std::size_t r, std::size_t c, std::string cell) {
    if (!color || r == 0 || c < 3 || cell == "0") return cell;
    return paint(cell, c == 3 ? kYellow : kRed, true);
  });
  out += "\n";
  if (rows.size() == 1) {
    return out + "every node is running (--all lists them)\n";
  }
  out += painted_node_table(rows, kinds, color, true);
  if (running > 0) {
    out += "(" + std::to_string(running) + (running == 1 ? " running node" : " running nodes") +
           " not listed; --all lists every node)\n";
  }
  return out;
}

std::string render_local_status(const std::string& node_json, bool color) {
  auto n = json::parse(node_json, nullptr, false);
  if (!n.is_object()) return "unreadable status document\n";
  std::vector<Row> rows{{"NODE", "MEMBER", "STATUS", "UPDATED", "PROBES"}};
  std::vector<int> kinds{0};
  node_rows(n, "", rows, kinds);
  std::string out = painted_node_table(rows, kinds, color);
  // Every probe, not only the failed ones: the local view is for looking closer.
  if (n.contains("probes") && n["probes"].is_array() && !n["probes"].empty()) {
    std::vector<Row> probes{{"CHECKER", "STATUS", "SEVERITY", "SINCE", "ERROR / DETAIL"}};
    for (const json& p : n["probes"]) {
      if (!p.is_object()) continue;
      const bool failed = str(p, "status") == "failed";
      std::string why = str(p, "error");
      if (why.empty()) why = str(p, "detail");
      probes.push_back({str(p, "checker"), str(p, "status"), failed ? str(p, "severity") : "",
                        str(p, "since"), cut(why, kMaxErrorColumn)});
    }
    out += "\n" + table(probes, [color](std::size_t r, std::size_t c, std::string cell) {
             if (!color || r == 0 || c != 1) return cell;
             return paint(cell, cell == "running" ? kGreen : kRed, true);
           });
  }
  return out;
}

std::string render_history(const std::string& history_json, bool color) {
  auto j = json::parse(history_json, nullptr, false);
  if (!j.is_array()) return "unreadable history document\n";
  if (j.empty()) return "no events\n";
  std::vector<Row> rows{{"TIME", "TYPE", "NODE", "CHECKER", "CHANGE", "DETAIL"}};
  for (const json& e : j) {
    if (!e.is_object()) continue;
    std::string change = str(e, "old_state").empty()
                             ? str(e, "new_state")
                             : str(e, "old_state") + " -> " + str(e, "new_state");
    rows.push_back({str(e, "timestamp"), str(e, "type"), str(e, "node"), str(e, "checker"), change,
                    cut(str(e, "detail"), kMaxErrorColumn)});
  }
  return table(rows, [color](std::size_t r, std::size_t c, std::string cell) {
    if (!color || r == 0 || c != 1) return cell;
    const bool bad = cell.find("Failed") != std::string::npos ||
                     cell.find("Degraded") != std::string::npos || cell == "NodeRemoved";
    const bool good = cell.find("Healthy") != std::string::npos ||
                      cell.find("Succeeded") != std::string::npos ||
                      cell.find("Recovered") != std::string::npos;
    return bad ? paint(cell, kRed, true) : good ? paint(cell, kGreen, true) : cell;
  });
}

CliOutcome run_status_client(const StatusCliOptions& o) {
  CliOutcome r;
  const std::string url = normalize_agent_url(o.addr);
  auto client = make_api_client(url, o.api, o.timeout, r.err);
  if (!client) return r;
  const std::string path = o.local ? "/v1/status/local" : "/v1/status";
  auto res = client->Get(path);
  // 503 is the agent's answer for "degraded": a status document, not an error.
  auto body = res ? json::parse(res->body, nullptr, false) : json();
  if (!res || (res->status != 200 && res->status != 503) || !body.is_object() ||
      !body.contains("status") || body.contains("error")) {
    r.err = res && res->status == 200 ? url + path + ": unexpected answer (not a status document)"
                                      : http_error(res, url, path);
    return r;
  }
  r.exit_code = status_exit_code(res->body);
  if (r.exit_code == 2) return r.err = url + path + ": unknown status in the answer", r;
  if (o.json) {
    r.out = body.dump(2) + "\n";
  } else if (o.local) {
    r.out = render_local_status(res->body, o.color);
  } else {
    r.out = o.all ? render_status(res->body, o.color) : render_status_problems(res->body, o.color);
  }
  return r;
}

int run_status_watch(const StatusCliOptions& o, std::chrono::milliseconds interval,
                     const std::function<bool()>& stop,
                     const std::function<void(const std::string&)>& write) {
  int code = 2;
  while (!stop()) {
    CliOutcome r = run_status_client(o);
    code = r.exit_code;
    // Cursor home + clear screen, then the whole frame in one write.
    std::string frame = "\033[H\033[2J";
    frame += "vigil status: " + normalize_agent_url(o.addr) + " every " +
             format_duration(interval) + " (Ctrl-C stops)\n\n";
    frame += r.out;
    if (!r.err.empty()) frame += "vigil: " + r.err + "\n";
    write(frame);
    const auto until = std::chrono::steady_clock::now() + interval;
    while (!stop() && std::chrono::steady_clock::now() < until) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          until - std::chrono::steady_clock::now());
      std::this_thread::sleep_for(std::min(left, std::chrono::milliseconds(50)));
    }
  }
  return code;
}

CliOutcome run_history_client(const HistoryCliOptions& o) {
  CliOutcome r;
  const std::string url = normalize_agent_url(o.addr);
  auto client = make_api_client(url, o.api, o.timeout, r.err);
  if (!client) return r;
  httplib::Params params;
  auto add = [&params](const char* k, const std::string& v) {
    if (!v.empty()) params.emplace(k, v);
  };
  add("since", o.since);
  add("until", o.until);
  add("node", o.node);
  add("checker", o.checker);
  add("type", o.type);
  if (o.limit > 0) params.emplace("limit", std::to_string(o.limit));
  auto res = client->Get("/v1/history", params, httplib::Headers{});
  if (!res || res->status != 200) return r.err = http_error(res, url, "/v1/history"), r;
  auto body = json::parse(res->body, nullptr, false);
  if (!body.is_array()) return r.err = url + "/v1/history: unexpected answer (not an array)", r;
  r.exit_code = 0;
  r.out = o.json ? body.dump(2) + "\n" : render_history(res->body, o.color);
  return r;
}

}  // namespace vigil::agent
