#include "checkers/check_spec.hpp"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include <nlohmann/json.hpp>

namespace vigil::checkers {

using nlohmann::json;

const std::vector<std::string>& common_spec_keys() {
  static const std::vector<std::string> keys = {
      "type", "name", "interval", "timeout", "failure_threshold", "success_threshold", "severity"};
  return keys;
}

bool parse_duration(std::string_view text, Duration& out) {
  if (text.empty()) return false;
  std::size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.'))
    ++i;
  if (i == 0) return false;
  std::string num(text.substr(0, i));
  std::string_view unit = text.substr(i);
  char* end = nullptr;
  double v = std::strtod(num.c_str(), &end);
  if (end != num.c_str() + num.size() || !std::isfinite(v) || v < 0) return false;
  double ns_per_unit = 0;
  if (unit == "ns")
    ns_per_unit = 1;
  else if (unit == "us" || unit == "µs")
    ns_per_unit = 1e3;
  else if (unit == "ms")
    ns_per_unit = 1e6;
  else if (unit == "s" || unit.empty())
    ns_per_unit = 1e9;
  else if (unit == "m")
    ns_per_unit = 60e9;
  else if (unit == "h")
    ns_per_unit = 3600e9;
  else
    return false;
  double ns = v * ns_per_unit;
  if (ns > 1e18) return false;
  out = std::chrono::duration_cast<Duration>(std::chrono::nanoseconds(std::llround(ns)));
  return true;
}

std::string format_duration(Duration d) {
  long long ns = std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
  char buf[48];
  if (ns == 0) return "0s";
  if (ns % 1000000000 == 0)
    std::snprintf(buf, sizeof buf, "%llds", ns / 1000000000);
  else if (ns >= 1000000000)
    std::snprintf(buf, sizeof buf, "%.3gs", ns / 1e9);
  else if (ns % 1000000 == 0)
    std::snprintf(buf, sizeof buf, "%lldms", ns / 1000000);
  else if (ns >= 1000000)
    std::snprintf(buf, sizeof buf, "%.3gms", ns / 1e6);
  else
    std::snprintf(buf, sizeof buf, "%.3gus", ns / 1e3);
  return buf;
}

namespace {

bool read_duration(const json& j, const char* key, Duration& out, std::string& err) {
  auto it = j.find(key);
  if (it == j.end()) return true;
  if (it->is_number()) {
    double s = it->get<double>();
    if (!std::isfinite(s) || s < 0 || s > 1e9) {
      err = std::string(key) + ": must be a non-negative number of seconds";
      return false;
    }
    out = std::chrono::duration_cast<Duration>(std::chrono::duration<double>(s));
    return true;
  }
  if (!it->is_string() || !parse_duration(it->get<std::string>(), out)) {
    err = std::string(key) + ": expected a duration like \"10s\" or \"500ms\"";
    return false;
  }
  return true;
}

bool read_threshold(const json& j, const char* key, int& out, std::string& err) {
  auto it = j.find(key);
  if (it == j.end()) return true;
  if (!it->is_number_integer() || it->get<long long>() < 1 || it->get<long long>() > 1000) {
    err = std::string(key) + ": must be an integer in [1, 1000]";
    return false;
  }
  out = it->get<int>();
  return true;
}

}  // namespace

SpecResult parse_check_spec(const json& j) {
  SpecResult r;
  auto fail = [&](const std::string& what) {
    std::string who = r.spec.name.empty() ? r.spec.type : r.spec.name;
    r.error = (who.empty() ? std::string("checker") : who) + ": " + what;
    return r;
  };
  if (!j.is_object()) return fail("a checker must be a JSON object");
  if (auto n = j.find("name"); n != j.end()) {
    if (!n->is_string() || n->get<std::string>().empty()) return fail("name: must be a string");
    r.spec.name = n->get<std::string>();
  }
  auto t = j.find("type");
  if (t == j.end() || !t->is_string() || t->get<std::string>().empty())
    return fail("type: required (a string such as \"etcd\")");
  r.spec.type = t->get<std::string>();
  if (r.spec.name.empty()) r.spec.name = r.spec.type;
  std::string err;
  if (!read_duration(j, "interval", r.spec.interval, err) ||
      !read_duration(j, "timeout", r.spec.timeout, err) ||
      !read_threshold(j, "failure_threshold", r.spec.failure_threshold, err) ||
      !read_threshold(j, "success_threshold", r.spec.success_threshold, err))
    return fail(err);
  if (r.spec.interval < std::chrono::seconds(1)) return fail("interval: must be >= 1s");
  if (r.spec.timeout <= Duration::zero()) return fail("timeout: must be > 0");
  if (r.spec.timeout > r.spec.interval) return fail("timeout: must be <= interval");
  if (auto s = j.find("severity"); s != j.end()) {
    auto sev = s->is_string() ? parse_severity(s->get<std::string>()) : std::nullopt;
    if (!sev) return fail("severity: must be \"critical\" or \"warning\"");
    r.spec.severity = *sev;
  }
  r.spec.params = std::make_shared<const json>(j);
  return r;
}

SpecResult parse_check_spec(std::string_view json_text) {
  json j = json::parse(json_text, nullptr, false);
  if (j.is_discarded()) {
    SpecResult r;
    r.error = "checker: invalid JSON";
    return r;
  }
  return parse_check_spec(j);
}

}  // namespace vigil::checkers
