#pragma once
// MetricsText: writer of the Prometheus text exposition format 0.0.4 (there is no Prometheus
// client library for C++ in Debian 12). One family at a time: family() writes the HELP and
// TYPE lines, then sample() the series. Label values and HELP text are escaped.
//
//   MetricsText m;
//   m.family("vigil_members", "gauge", "Members by status.");
//   m.sample("vigil_members", {{"status", "alive"}}, 3);
//   return m.str();
//
// Not thread-safe: build one per scrape.

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vigil::api {

/// Content-Type of the text exposition format.
inline constexpr const char* kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

using Label = std::pair<std::string_view, std::string_view>;

class MetricsText {
 public:
  /// Starts a family: "# HELP name help" and "# TYPE name type" (counter, gauge, histogram,
  /// summary, untyped). Each family must be written once per exposition.
  void family(std::string_view name, std::string_view type, std::string_view help);
  /// One sample line: name{labels} value. For counters, `name` ends in _total; for
  /// histograms, pass name_bucket/name_sum/name_count with "le" labels.
  void sample(std::string_view name, std::initializer_list<Label> labels, double value);
  void sample(std::string_view name, std::initializer_list<Label> labels, std::uint64_t value);
  /// Same, with labels built at run time.
  void sample(std::string_view name, const std::vector<std::pair<std::string, std::string>>& labels,
              double value);

  const std::string& str() const { return out_; }
  std::string take() { return std::move(out_); }

  /// Label value escaping: backslash, double quote and newline.
  static std::string escape_label(std::string_view v);
  /// HELP text escaping: backslash and newline.
  static std::string escape_help(std::string_view v);
  /// A sample value: integers exactly, "+Inf", "-Inf", "NaN", otherwise shortest round-trip.
  static std::string format_value(double v);

 private:
  template <class It>
  void write_sample(std::string_view name, It begin, It end, std::string_view value);
  std::string out_;
};

}  // namespace vigil::api
