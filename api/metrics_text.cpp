#include "api/metrics_text.hpp"

#include <charconv>
#include <cmath>

namespace vigil::api {

std::string MetricsText::escape_label(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string MetricsText::escape_help(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string MetricsText::format_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    return std::to_string(static_cast<long long>(v));
  }
  char buf[64];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc() ? std::string(buf, p) : "NaN";
}

void MetricsText::family(std::string_view name, std::string_view type, std::string_view help) {
  out_.append("# HELP ").append(name).append(" ").append(escape_help(help)).append("\n");
  out_.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

template <class It>
void MetricsText::write_sample(std::string_view name, It begin, It end, std::string_view value) {
  out_.append(name);
  if (begin != end) {
    out_ += '{';
    bool first = true;
    for (It it = begin; it != end; ++it) {
      if (!first) out_ += ',';
      first = false;
      out_.append(it->first).append("=\"").append(escape_label(it->second)).append("\"");
    }
    out_ += '}';
  }
  out_.append(" ").append(value).append("\n");
}

void MetricsText::sample(std::string_view name, std::initializer_list<Label> labels, double value) {
  write_sample(name, labels.begin(), labels.end(), format_value(value));
}

void MetricsText::sample(std::string_view name, std::initializer_list<Label> labels,
                         std::uint64_t value) {
  write_sample(name, labels.begin(), labels.end(), std::to_string(value));
}

void MetricsText::sample(std::string_view name,
                         const std::vector<std::pair<std::string, std::string>>& labels,
                         double value) {
  write_sample(name, labels.begin(), labels.end(), format_value(value));
}

}  // namespace vigil::api
