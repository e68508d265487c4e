#include "api/query_params.hpp"

namespace vigil::api {
namespace {

// Length of the valid UTF-8 sequence at s[i] (1..4), or 0 when it is not one (RFC 3629: no
// overlong forms, no surrogates, nothing above U+10FFFF).
std::size_t utf8_length(std::string_view s, std::size_t i) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const unsigned char c = b(0);
  std::size_t n = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // bounds of the second byte
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) n = 2;
  if (c >= 0xE0 && c <= 0xEF) n = 3;
  if (c >= 0xF0 && c <= 0xF4) n = 4;
  if (c == 0xE0) lo = 0xA0;
  if (c == 0xED) hi = 0x9F;
  if (c == 0xF0) lo = 0x90;
  if (c == 0xF4) hi = 0x8F;
  if (n == 0 || i + n > s.size()) return 0;
  if (b(1) < lo || b(1) > hi) return 0;
  for (std::size_t k = 2; k < n; ++k) {
    if (b(k) < 0x80 || b(k) > 0xBF) return 0;
  }
  return n;
}

}  // namespace

std::string quote_param(std::string_view name) {
  constexpr std::size_t kMax = 64;
  std::string out = "'";
  std::size_t i = 0;
  while (i < name.size() && i < kMax) {
    const std::size_t n = utf8_length(name, i);
    const auto c = static_cast<unsigned char>(name[i]);
    if (n == 0 || c < 0x20 || c == 0x7F) {
      out += '?';
      ++i;
    } else {
      out.append(name.substr(i, n));
      i += n;
    }
  }
  if (i < name.size()) out += "...";
  return out + "'";
}

std::string reject_query_params(const QueryParams& params) {
  if (params.empty()) return {};
  return "unknown parameter " + quote_param(params.begin()->first) + " (this endpoint takes none)";
}

}  // namespace vigil::api
