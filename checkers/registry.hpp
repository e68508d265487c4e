#pragma once
// CheckerRegistry: checker type -> factory. Explicit, no static-initialisation tricks: the
// builtin types are added by register_builtin_checkers() (checkers/builtin.cpp), a user of the
// library may add its own (examples/), tests build a registry holding a FakeChecker.

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "checkers/check_spec.hpp"
#include "checkers/checker.hpp"

namespace vigil::checkers {

/// Log levels of the injected log sink.
enum class LogLevel : std::uint8_t { debug, info, warn, error };

/// Injected logger: one line per call, `component` like "checkers", message already formatted
/// as `text key=value ...`. May be called from any thread; must be thread-safe.
using LogSink =
    std::function<void(LogLevel level, std::string_view component, std::string_view message)>;

/// What a factory may use while building a checker (Envoy's HealthCheckerFactoryContext).
/// Used on the loop thread (or the `vigil check` main thread) only, during make().
struct CheckerContext {
  LogSink log;            ///< may be empty (then nothing is logged)
  std::string node_name;  ///< the local node's name
  /// Prefix for well-known host paths (service-account token, sockets): "" in production,
  /// a temp dir in tests. Checkers join it in front of their absolute default paths only.
  std::string host_root;

  void info(std::string_view msg) const {
    if (log) log(LogLevel::info, "checkers", msg);
  }
  void warn(std::string_view msg) const {
    if (log) log(LogLevel::warn, "checkers", msg);
  }
};

/// A built checker or a config error ("etcd-main: endpoints: must not be empty").
struct MakeResult {
  std::unique_ptr<Checker> checker;
  std::string error;  ///< non-empty iff checker is null

  static MakeResult ok(std::unique_ptr<Checker> c) { return MakeResult{std::move(c), {}}; }
  static MakeResult fail(std::string e) { return MakeResult{nullptr, std::move(e)}; }
};

/// Builds a checker of one type from its spec. Validates the type-specific keys.
using CheckerFactory = std::function<MakeResult(const CheckSpec&, CheckerContext&)>;

class CheckerRegistry {
 public:
  /// Adds (or replaces) the factory of `type`.
  void add(std::string type, CheckerFactory factory);
  /// True when `type` has a factory.
  bool has(std::string_view type) const;
  /// The registered types, sorted.
  std::vector<std::string> types() const;
  /// Builds a checker; an unknown type is an error naming the known types.
  MakeResult make(const CheckSpec& spec, CheckerContext& ctx) const;

 private:
  std::map<std::string, CheckerFactory, std::less<>> factories_;
};

/// Adds every builtin checker type (docker, containerd, etcd, apiserver, kubelet, systemd, ping,
/// tcp, http, dns, disk, time-drift, exec) to `registry`.
void register_builtin_checkers(CheckerRegistry& registry);

}  // namespace vigil::checkers
