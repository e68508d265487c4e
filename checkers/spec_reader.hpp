#pragma once
// SpecReader: typed access to a CheckSpec's type-specific keys, collecting errors instead of
// throwing, and rejecting unknown keys (design.md: unknown config keys are an error). Keeps
// nlohmann::json out of the checker sources.
//
//   SpecReader r(spec);
//   auto endpoints = r.strings("endpoints", {"http://127.0.0.1:2379"});
//   auto ca = r.str("ca_file", "");
//   if (auto err = r.finish(); !err.empty()) return MakeResult::fail(err);

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "checkers/check_spec.hpp"
#include "checkers/net.hpp"

namespace vigil::checkers {

class SpecReader {
 public:
  /// Does not copy `spec`; it must outlive the reader.
  explicit SpecReader(const CheckSpec& spec);

  /// True when `key` is present (and marks it as known).
  bool has(const std::string& key);
  /// A string value, `def` when absent.
  std::string str(const std::string& key, std::string def = {});
  /// True when `key` is present and is a JSON array.
  bool is_array(const std::string& key);
  /// A string or an array of strings, `def` when absent.
  std::vector<std::string> strings(const std::string& key, std::vector<std::string> def = {});
  /// An integer value in [min, max], `def` when absent.
  std::int64_t integer(const std::string& key, std::int64_t def, std::int64_t min = INT64_MIN,
                       std::int64_t max = INT64_MAX);
  /// A number (integer or floating point) in [min, max], `def` when absent.
  double number(const std::string& key, double def, double min = -1e300, double max = 1e300);
  /// A boolean, `def` when absent.
  bool boolean(const std::string& key, bool def);
  /// A duration (see parse_duration), `def` when absent.
  Duration duration(const std::string& key, Duration def);
  /// A flat object of string values (e.g. environment variables), empty when absent.
  std::vector<std::pair<std::string, std::string>> string_map(const std::string& key);

  /// Records a custom validation error for `key`.
  void error(const std::string& key, const std::string& message);
  /// All errors so far plus one per unknown key, as one line prefixed with the checker's name;
  /// empty when the spec is valid.
  std::string finish();

 private:
  const CheckSpec& spec_;
  std::set<std::string> known_;
  std::vector<std::string> errors_;
};

/// Reads the TLS client keys shared by the HTTP-based checkers: `ca_file` (PEM CA bundle,
/// default: system trust store), `cert_file` + `key_file` (client certificate, optional),
/// `server_name` (name to verify, default: the URL host), `insecure_skip_verify` (default false).
net::TlsOptions read_tls_options(SpecReader& r, const std::string& default_ca = {});

}  // namespace vigil::checkers
