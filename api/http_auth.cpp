#include "api/http_auth.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <optional>

namespace vigil::api {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// Standard base64 with padding; nullopt on any invalid character or length.
std::optional<std::string> base64_decode(std::string_view in) {
  static constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  if (in.empty() || in.size() % 4 != 0) return std::nullopt;
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  std::size_t pad = 0;
  for (std::size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '=') {
      if (i + 2 < in.size()) return std::nullopt;  // '=' only in the last two places
      ++pad;
      continue;
    }
    if (pad > 0) return std::nullopt;  // data after padding
    const auto v = kAlphabet.find(c);
    if (v == std::string_view::npos) return std::nullopt;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return out;
}

}  // namespace

bool token_equal(std::string_view given, std::string_view expected) {
  // Walk `expected` whole; a `given` of another length still costs the same and fails.
  unsigned diff = given.size() == expected.size() ? 0u : 1u;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const unsigned char g = i < given.size() ? static_cast<unsigned char>(given[i]) : 0;
    diff |= g ^ static_cast<unsigned char>(expected[i]);
  }
  // Keep the compiler from turning the loop into an early-exit comparison.
  volatile unsigned sink = diff;
  return sink == 0;
}

AuthResult check_auth(std::string_view path, std::string_view authorization,
                      const std::string& token, const std::vector<std::string>& open_paths) {
  if (token.empty()) return AuthResult::ok;
  if (std::find(open_paths.begin(), open_paths.end(), path) != open_paths.end()) {
    return AuthResult::ok;
  }
  authorization = trim(authorization);
  if (authorization.empty()) return AuthResult::missing;
  const auto space = authorization.find(' ');
  if (space == std::string_view::npos) return AuthResult::wrong;
  const std::string_view scheme = authorization.substr(0, space);
  const std::string_view cred = trim(authorization.substr(space + 1));
  if (iequals(scheme, "Bearer")) {
    return token_equal(cred, token) ? AuthResult::ok : AuthResult::wrong;
  }
  if (iequals(scheme, "Basic")) {
    auto plain = base64_decode(cred);
    if (!plain) return AuthResult::wrong;
    const auto colon = plain->find(':');
    if (colon == std::string::npos) return AuthResult::wrong;
    return token_equal(std::string_view(*plain).substr(colon + 1), token) ? AuthResult::ok
                                                                          : AuthResult::wrong;
  }
  return AuthResult::wrong;
}

std::string parse_token(std::string_view file_text, std::string& error) {
  const std::string_view t = trim(file_text);
  if (t.empty()) {
    error = "is empty";
    return {};
  }
  for (char c : t) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x21 || u > 0x7e) {
      error = "holds a space, control or non-ASCII character (a token must be one word)";
      return {};
    }
  }
  return std::string(t);
}

}  // namespace vigil::api
