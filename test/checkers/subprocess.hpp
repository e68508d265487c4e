#pragma once
// Test-only process and directory helpers for the real-component fixtures: spawn a daemon,
// track it by PID, stop it by PID (SIGTERM, bounded wait, SIGKILL), run a command with a bound,
// temp dirs that unmount and remove what they hold. Never kills by name.

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace vigil::test {

using Env = std::vector<std::pair<std::string, std::string>>;

/// Path of an executable found in PATH, /usr/sbin or /sbin; "" when missing.
std::string find_exe(const std::string& name);
/// Why a real-component test cannot run here ("" when it can): not root (if `need_root`) or a
/// missing executable / file. The test passes a non-empty reason to vigil::test::skip().
std::string skip_reason(bool need_root, const std::vector<std::string>& exes,
                        const std::vector<std::string>& files = {});

/// A spawned child; the destructor stops it.
class Process {
 public:
  Process() = default;
  Process(Process&& o) noexcept : pid_(std::exchange(o.pid_, -1)) {}
  Process& operator=(Process&& o) noexcept;
  ~Process() { stop(); }

  /// Starts argv[0] (PATH lookup) with `env` added to ours, stdout+stderr appended to `log`.
  bool start(const std::vector<std::string>& argv, const std::string& log, const Env& env = {},
             std::string* error = nullptr);
  pid_t pid() const { return pid_; }
  /// True while the child has not exited (reaps it when it has).
  bool alive();
  /// SIGTERM, wait up to `grace`, then SIGKILL; reaps. Idempotent.
  void stop(std::chrono::milliseconds grace = std::chrono::seconds(15));

 private:
  pid_t pid_ = -1;
};

struct RunResult {
  int exit_code = -1;  ///< -1 when it could not start or was killed at the timeout
  std::string output;  ///< stdout + stderr
};
/// Runs a command to completion (killed by PID after `timeout`).
RunResult run_cmd(const std::vector<std::string>& argv,
                  std::chrono::milliseconds timeout = std::chrono::seconds(30),
                  const Env& env = {});

/// Polls `pred` every 100 ms until it is true or `timeout` passed. Returns the last value.
bool wait_until(const std::function<bool()>& pred,
                std::chrono::milliseconds timeout = std::chrono::seconds(30));

/// Kills (SIGKILL, by PID) every process whose command line mentions `needle` (a unique temp
/// dir) and is not us: leftovers of a daemon's children (container shims).
void kill_processes_mentioning(const std::string& needle);

/// A fresh directory under /tmp; the destructor unmounts anything below it and removes it.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

/// Writes `text` to `path` (truncating). Returns false on error.
bool write_file(const std::string& path, const std::string& text);
/// The tail (last `max` bytes) of a file, for failure messages.
std::string file_tail(const std::string& path, std::size_t max = 2000);

}  // namespace vigil::test
