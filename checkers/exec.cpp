#include "checkers/exec.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "checkers/net.hpp"
#include "checkers/spec_reader.hpp"

extern char** environ;

namespace vigil::checkers {

namespace {

// Has `pid` exited? Checks without reaping it, so its PID (= the process group id) cannot be
// reused before the group is killed.
bool exited_unreaped(pid_t pid) {
  siginfo_t info{};
  if (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) != 0)
    return errno == ECHILD;
  return info.si_pid == pid;
}

}  // namespace

ExecResult run_exec(const ExecConfig& cfg, Deadline deadline) {
  ExecResult r;
  if (cfg.argv.empty()) {
    r.error = "no command";
    return r;
  }
  // Everything the child needs is prepared before posix_spawn (no allocation after fork).
  std::vector<char*> argv;
  for (const auto& a : cfg.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<std::string> env_store;
  for (char** e = environ; e && *e; ++e) {
    std::string kv = *e;
    auto key = kv.substr(0, kv.find('='));
    bool overridden =
        std::any_of(cfg.env.begin(), cfg.env.end(), [&](const auto& p) { return p.first == key; });
    if (!overridden) env_store.push_back(std::move(kv));
  }
  for (const auto& [k, v] : cfg.env) env_store.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& s : env_store) envp.push_back(s.data());
  envp.push_back(nullptr);

  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    r.error = std::string("pipe: ") + std::strerror(errno);
    return r;
  }
  net::Fd rd(fds[0]), wr(fds[1]);
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&fa);
  posix_spawnattr_init(&attr);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, wr.get(), 1);
  posix_spawn_file_actions_adddup2(&fa, wr.get(), 2);
  if (!cfg.workdir.empty()) posix_spawn_file_actions_addchdir_np(&fa, cfg.workdir.c_str());
  posix_spawnattr_setpgroup(&attr, 0);  // own process group: pgid = pid
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  pid_t pid = 0;
  int rc = ::posix_spawnp(&pid, argv[0], &fa, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  wr.reset();
  if (rc != 0) {
    r.error = "cannot run " + cfg.argv[0] + ": " + std::strerror(rc);
    return r;
  }
  r.pid = pid;
  ::fcntl(rd.get(), F_SETFL, O_NONBLOCK);

  // Kill a little before the deadline so this run reports its own timeout with the output.
  Duration margin = std::min<Duration>(std::chrono::milliseconds(100), deadline.remaining() / 10);
  Deadline kill_at{deadline.at - margin};
  bool eof = false;
  char buf[4096];
  auto drain = [&] {
    for (;;) {
      ssize_t n = ::read(rd.get(), buf, sizeof buf);
      if (n > 0) {
        std::size_t room = cfg.output_limit - std::min(cfg.output_limit, r.output.size());
        r.output.append(buf, std::min(room, static_cast<std::size_t>(n)));
        continue;
      }
      if (n == 0) eof = true;
      return;  // EOF, EAGAIN or error
    }
  };
  for (;;) {
    drain();
    if (exited_unreaped(pid)) {
      drain();
      break;
    }
    if (kill_at.expired()) {
      r.timed_out = true;
      break;
    }
    if (eof) {
      // Output closed but the script still runs: wait for it without spinning.
      ::usleep(static_cast<useconds_t>(std::min(10, kill_at.remaining_ms()) * 1000));
      continue;
    }
    pollfd p{rd.get(), POLLIN, 0};
    ::poll(&p, 1, std::min(50, kill_at.remaining_ms()));
  }
  // The whole group goes: a hanging script and anything it left running in the background.
  ::kill(-pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
  if (r.timed_out) r.exit_code = -1;
  return r;
}

namespace {

std::string last_line(const std::string& out) {
  std::string s = out;
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  auto nl = s.rfind('\n');
  s = nl == std::string::npos ? s : s.substr(nl + 1);
  if (s.size() > 200) s = s.substr(0, 200) + "...";
  return s;
}

class ExecChecker final : public Checker {
 public:
  ExecChecker(const CheckSpec& spec, ExecConfig cfg)
      : Checker(spec.type, spec.name), cfg_(std::move(cfg)) {
    for (const auto& a : cfg_.argv) display_ += (display_.empty() ? "" : " ") + a;
    if (display_.size() > 120) display_ = display_.substr(0, 120) + "...";
  }

  // Checker
  Probe run(const CheckContext&, Deadline deadline) override {
    ExecResult r = run_exec(cfg_, deadline);
    std::string what = "exec " + display_;
    if (!r.error.empty()) return Probe::fail(Severity::critical, what + ": " + r.error);
    std::string tail = last_line(r.output);
    auto with_tail = [&](std::string s) { return tail.empty() ? s : s + ": " + tail; };
    if (r.timed_out)
      return Probe::fail(Severity::critical, with_tail(what + ": timed out, process group killed"),
                         r.output);
    if (r.signal)
      return Probe::fail(Severity::critical,
                         with_tail(what + ": killed by signal " + std::to_string(r.signal)),
                         r.output);
    if (r.exit_code == 0) return Probe::ok(r.output);
    Severity sev = r.exit_code == 1 ? Severity::warning : Severity::critical;
    return Probe::fail(sev, with_tail(what + ": exit " + std::to_string(r.exit_code)), r.output);
  }

 private:
  ExecConfig cfg_;
  std::string display_;
};

}  // namespace

MakeResult make_exec_checker(const CheckSpec& spec, CheckerContext&) {
  SpecReader r(spec);
  ExecConfig cfg;
  // "command": an array is the argv (no shell); a string runs through /bin/sh -c.
  bool is_array = r.is_array("command");
  auto cmd = r.strings("command");
  if (cmd.empty() || cmd[0].empty())
    r.error("command", "required (a string or an argv array)");
  else if (is_array)
    cfg.argv = cmd;
  else
    cfg.argv = {"/bin/sh", "-c", cmd[0]};
  cfg.env = r.string_map("env");
  cfg.workdir = r.str("workdir");
  cfg.output_limit = static_cast<std::size_t>(r.integer("output_limit", 4096, 64, 1 << 20));
  if (auto e = r.finish(); !e.empty()) return MakeResult::fail(e);
  return MakeResult::ok(std::make_unique<ExecChecker>(spec, std::move(cfg)));
}

}  // namespace vigil::checkers
