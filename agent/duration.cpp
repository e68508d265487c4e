#include "agent/duration.hpp"

#include <cctype>
#include <cstdint>
#include <limits>

namespace vigil::agent {

std::optional<std::chrono::nanoseconds> parse_duration(std::string_view text) {
  if (text == "0") return std::chrono::nanoseconds(0);
  if (text.empty()) return std::nullopt;
  long double total = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    // number: digits with an optional fraction
    std::size_t start = i;
    long double value = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
      value = value * 10 + (text[i] - '0');
      ++i;
    }
    if (i < text.size() && text[i] == '.') {
      ++i;
      long double scale = 0.1L;
      while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
        value += (text[i] - '0') * scale;
        scale /= 10;
        ++i;
      }
    }
    if (i == start || (i == start + 1 && text[start] == '.')) return std::nullopt;
    // unit
    std::size_t ustart = i;
    while (i < text.size() && !std::isdigit(static_cast<unsigned char>(text[i])) &&
           text[i] != '.') {
      ++i;
    }
    std::string_view unit = text.substr(ustart, i - ustart);
    long double ns;
    if (unit == "ns")
      ns = 1;
    else if (unit == "us" || unit == "\xC2\xB5s")
      ns = 1e3L;
    else if (unit == "ms")
      ns = 1e6L;
    else if (unit == "s")
      ns = 1e9L;
    else if (unit == "m")
      ns = 60e9L;
    else if (unit == "h")
      ns = 3600e9L;
    else
      return std::nullopt;
    total += value * ns;
    if (total > static_cast<long double>(std::numeric_limits<std::int64_t>::max())) {
      return std::nullopt;
    }
  }
  return std::chrono::nanoseconds(static_cast<std::int64_t>(total));
}

std::string format_duration(std::chrono::nanoseconds d) {
  std::int64_t ns = d.count();
  if (ns == 0) return "0s";
  std::string out;
  if (ns < 0) {
    out = "-";
    ns = -ns;
  }
  constexpr std::int64_t kMs = 1'000'000, kS = 1'000 * kMs, kM = 60 * kS, kH = 60 * kM;
  if (ns % kMs != 0) return out + std::to_string(ns) + "ns";
  if (ns < kS) return out + std::to_string(ns / kMs) + "ms";
  if (ns % kS != 0) return out + std::to_string(ns / kMs) + "ms";
  if (ns >= kH) {
    out += std::to_string(ns / kH) + "h";
    ns %= kH;
  }
  if (ns >= kM) {
    out += std::to_string(ns / kM) + "m";
    ns %= kM;
  }
  if (ns > 0) out += std::to_string(ns / kS) + "s";
  return out;
}

}  // namespace vigil::agent
