#include "checkers/spec_reader.hpp"

#include <algorithm>
#include <cmath>

#include <nlohmann/json.hpp>

namespace vigil::checkers {

using nlohmann::json;

namespace {
const json& params_of(const CheckSpec& spec) {
  static const json empty = json::object();
  return spec.params ? *spec.params : empty;
}
}  // namespace

SpecReader::SpecReader(const CheckSpec& spec) : spec_(spec) {
  for (const auto& k : common_spec_keys()) known_.insert(k);
}

bool SpecReader::has(const std::string& key) {
  known_.insert(key);
  return params_of(spec_).contains(key);
}

void SpecReader::error(const std::string& key, const std::string& message) {
  errors_.push_back(key + ": " + message);
}

std::string SpecReader::str(const std::string& key, std::string def) {
  if (!has(key)) return def;
  const json& v = params_of(spec_)[key];
  if (!v.is_string()) {
    error(key, "must be a string");
    return def;
  }
  return v.get<std::string>();
}

bool SpecReader::is_array(const std::string& key) {
  return has(key) && params_of(spec_)[key].is_array();
}

std::vector<std::string> SpecReader::strings(const std::string& key, std::vector<std::string> def) {
  if (!has(key)) return def;
  const json& v = params_of(spec_)[key];
  if (v.is_string()) return {v.get<std::string>()};
  std::vector<std::string> out;
  if (v.is_array()) {
    for (const auto& e : v) {
      if (!e.is_string()) {
        error(key, "must be a string or an array of strings");
        return def;
      }
      out.push_back(e.get<std::string>());
    }
    return out;
  }
  error(key, "must be a string or an array of strings");
  return def;
}

std::int64_t SpecReader::integer(const std::string& key, std::int64_t def, std::int64_t min,
                                 std::int64_t max) {
  if (!has(key)) return def;
  const json& v = params_of(spec_)[key];
  if (!v.is_number_integer() || v.get<std::int64_t>() < min || v.get<std::int64_t>() > max) {
    error(key, "must be an integer in [" + std::to_string(min) + ", " + std::to_string(max) + "]");
    return def;
  }
  return v.get<std::int64_t>();
}

double SpecReader::number(const std::string& key, double def, double min, double max) {
  if (!has(key)) return def;
  const json& v = params_of(spec_)[key];
  if (!v.is_number() || !std::isfinite(v.get<double>()) || v.get<double>() < min ||
      v.get<double>() > max) {
    error(key, "must be a number in [" + std::to_string(min) + ", " + std::to_string(max) + "]");
    return def;
  }
  return v.get<double>();
}

bool SpecReader::boolean(const std::string& key, bool def) {
  if (!has(key)) return def;
  const json& v = params_of(spec_)[key];
  if (!v.is_boolean()) {
    error(key, "must be true or false");
    return def;
  }
  return v.get<bool>();
}

Duration SpecReader::duration(const std::string& key, Duration def) {
  if (!has(key)) return def;
  const json& v = params_of(spec_)[key];
  Duration out{};
  if (v.is_number() && std::isfinite(v.get<double>()) && v.get<double>() >= 0 &&
      v.get<double>() < 1e9)
    return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(v.get<double>()));
  if (v.is_string() && parse_duration(v.get<std::string>(), out)) return out;
  error(key, "expected a duration like \"10s\" or \"500ms\"");
  return def;
}

std::vector<std::pair<std::string, std::string>> SpecReader::string_map(const std::string& key) {
  std::vector<std::pair<std::string, std::string>> out;
  if (!has(key)) return out;
  const json& v = params_of(spec_)[key];
  if (!v.is_object()) {
    error(key, "must be an object of strings");
    return out;
  }
  for (const auto& [k, e] : v.items()) {
    if (!e.is_string()) {
      error(key, "must be an object of strings");
      return {};
    }
    out.emplace_back(k, e.get<std::string>());
  }
  return out;
}

std::string SpecReader::finish() {
  for (const auto& [k, v] : params_of(spec_).items()) {
    (void)v;
    if (!known_.count(k)) errors_.push_back(k + ": unknown key for type " + spec_.type);
  }
  if (errors_.empty()) return {};
  std::string out = spec_.name + ": ";
  for (std::size_t i = 0; i < errors_.size(); ++i) out += (i ? "; " : "") + errors_[i];
  return out;
}

net::TlsOptions read_tls_options(SpecReader& r, const std::string& default_ca) {
  net::TlsOptions t;
  t.ca_file = r.str("ca_file", default_ca);
  t.cert_file = r.str("cert_file");
  t.key_file = r.str("key_file");
  t.server_name = r.str("server_name");
  t.insecure_skip_verify = r.boolean("insecure_skip_verify", false);
  if (!t.key_file.empty() && t.cert_file.empty()) r.error("key_file", "needs cert_file");
  return t;
}

}  // namespace vigil::checkers
