#pragma once
// Logger: one line per event, logfmt (`ts=... level=info msg="..." key=value`) or JSON
// (`{"ts":"...","level":"info","msg":"...","key":"value"}`). Injected into every component
// that logs (never global). Thread-safe: lines from the loop and HTTP threads never interleave.

#include <cstdio>
#include <initializer_list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "gossip/udp/log.hpp"

namespace vigil::agent {

using LogLevel = gossip::udp::LogLevel;
using LogField = gossip::udp::LogField;

enum class LogFormat { text, json };

/// "debug"|"info"|"warn"|"error" -> level; nullopt otherwise.
std::optional<LogLevel> parse_log_level(std::string_view s);
/// "text"|"json" -> format; nullopt otherwise.
std::optional<LogFormat> parse_log_format(std::string_view s);

class Logger {
 public:
  /// Writes lines at `min_level` and above to `out` (not owned; stderr by default).
  explicit Logger(LogLevel min_level = LogLevel::info, LogFormat format = LogFormat::text,
                  std::FILE* out = stderr);

  void log(LogLevel level, std::string_view msg, std::initializer_list<LogField> fields = {});
  void debug(std::string_view msg, std::initializer_list<LogField> f = {}) {
    log(LogLevel::debug, msg, f);
  }
  void info(std::string_view msg, std::initializer_list<LogField> f = {}) {
    log(LogLevel::info, msg, f);
  }
  void warn(std::string_view msg, std::initializer_list<LogField> f = {}) {
    log(LogLevel::warn, msg, f);
  }
  void error(std::string_view msg, std::initializer_list<LogField> f = {}) {
    log(LogLevel::error, msg, f);
  }
  bool enabled(LogLevel level) const { return level >= min_level_; }

  /// The line as it would be written (without the trailing newline); for tests.
  std::string format(LogLevel level, std::string_view msg,
                     std::initializer_list<LogField> fields) const;

  /// Adapter for gossip::udp::Node (and anything else taking a LogFn). The Logger must
  /// outlive the returned function.
  gossip::udp::LogFn as_log_fn();

 private:
  LogLevel min_level_;
  LogFormat format_;
  std::FILE* out_;
  std::mutex mu_;
};

}  // namespace vigil::agent
