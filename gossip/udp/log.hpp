#pragma once
// The logging port of the transport: the owner injects a LogFn (never a global logger).

#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace vigil::gossip::udp {

enum class LogLevel { debug = 0, info = 1, warn = 2, error = 3 };

/// One key=value field of a log line.
using LogField = std::pair<std::string_view, std::string>;

/// Writes one log line. Called on the loop thread; must not block for long.
using LogFn = std::function<void(LogLevel, std::string_view msg, std::initializer_list<LogField>)>;

}  // namespace vigil::gossip::udp
