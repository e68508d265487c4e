#include "agent/logger.hpp"

#include <chrono>
#include <ctime>
#include <nlohmann/json.hpp>

namespace vigil::agent {
namespace {

std::string_view level_name(LogLevel l) {
  switch (l) {
    case LogLevel::debug:
      return "debug";
    case LogLevel::info:
      return "info";
    case LogLevel::warn:
      return "warn";
    case LogLevel::error:
      return "error";
  }
  return "info";
}

std::string now_rfc3339() {
  using namespace std::chrono;
  const auto now = system_clock::now();
  const std::time_t t = system_clock::to_time_t(now);
  const auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

// logfmt value: bare when simple, otherwise double-quoted with \" \\ \n escaped.
void append_value(std::string& out, std::string_view v) {
  bool plain = !v.empty();
  for (char c : v) {
    if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c == 0x7f) plain = false;
  }
  if (plain) {
    out.append(v);
    return;
  }
  out += '"';
  for (char c : v) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  out += '"';
}

}  // namespace

std::optional<LogLevel> parse_log_level(std::string_view s) {
  if (s == "debug") return LogLevel::debug;
  if (s == "info") return LogLevel::info;
  if (s == "warn") return LogLevel::warn;
  if (s == "error") return LogLevel::error;
  return std::nullopt;
}

std::optional<LogFormat> parse_log_format(std::string_view s) {
  if (s == "text") return LogFormat::text;
  if (s == "json") return LogFormat::json;
  return std::nullopt;
}

Logger::Logger(LogLevel min_level, LogFormat format, std::FILE* out)
    : min_level_(min_level), format_(format), out_(out) {}

std::string Logger::format(LogLevel level, std::string_view msg,
                           std::initializer_list<LogField> fields) const {
  if (format_ == LogFormat::json) {
    nlohmann::ordered_json j;
    j["ts"] = now_rfc3339();
    j["level"] = level_name(level);
    j["msg"] = msg;
    for (const auto& [k, v] : fields) j[std::string(k)] = v;
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  std::string line = "ts=" + now_rfc3339();
  line.append(" level=").append(level_name(level)).append(" msg=");
  append_value(line, msg);
  for (const auto& [k, v] : fields) {
    line.append(" ").append(k).append("=");
    append_value(line, v);
  }
  return line;
}

void Logger::log(LogLevel level, std::string_view msg, std::initializer_list<LogField> fields) {
  if (!enabled(level)) return;
  std::string line = format(level, msg, fields);
  line += '\n';
  std::lock_guard lock(mu_);
  std::fwrite(line.data(), 1, line.size(), out_);
  std::fflush(out_);
}

gossip::udp::LogFn Logger::as_log_fn() {
  return [this](LogLevel level, std::string_view msg, std::initializer_list<LogField> fields) {
    log(level, msg, fields);
  };
}

}  // namespace vigil::agent
