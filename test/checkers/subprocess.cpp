#include "test/checkers/subprocess.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace vigil::test {
namespace fs = std::filesystem;

std::string find_exe(const std::string& name) {
  if (name.find('/') != std::string::npos) return ::access(name.c_str(), X_OK) == 0 ? name : "";
  std::string path = std::getenv("PATH") ? std::getenv("PATH") : "";
  path += ":/usr/sbin:/sbin";  // daemons live there; an unprivileged PATH often lacks them
  std::stringstream ss(path);
  std::string dir;
  while (std::getline(ss, dir, ':')) {
    if (dir.empty()) continue;
    std::string p = dir + "/" + name;
    if (::access(p.c_str(), X_OK) == 0) return p;
  }
  return {};
}

std::string skip_reason(bool need_root, const std::vector<std::string>& exes,
                        const std::vector<std::string>& files) {
  std::string why;
  if (need_root && ::geteuid() != 0) why = "needs root";
  for (const auto& e : exes)
    if (why.empty() && find_exe(e).empty()) why = e + " not installed (scripts/setup.sh)";
  for (const auto& f : files)
    if (why.empty() && ::access(f.c_str(), R_OK) != 0) why = f + " missing (scripts/setup.sh)";
  return why;
}

Process& Process::operator=(Process&& o) noexcept {
  if (this != &o) {
    stop();
    pid_ = std::exchange(o.pid_, -1);
  }
  return *this;
}

static void exec_child(const std::vector<std::string>& argv, const Env& env, int out_fd) {
  ::dup2(out_fd, 1);
  ::dup2(out_fd, 2);
  int devnull = ::open("/dev/null", O_RDONLY);
  if (devnull >= 0) ::dup2(devnull, 0);
  ::setpgid(0, 0);  // own group: a terminal ^C of the test run does not hit it twice
  for (const auto& [k, v] : env) ::setenv(k.c_str(), v.c_str(), 1);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  ::execvp(args[0], args.data());
  std::fprintf(stderr, "exec %s: %s\n", args[0], std::strerror(errno));
  ::_exit(127);
}

bool Process::start(const std::vector<std::string>& argv, const std::string& log, const Env& env,
                    std::string* error) {
  stop();
  int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) {
    if (error) *error = "open " + log + ": " + std::strerror(errno);
    return false;
  }
  pid_t pid = ::fork();
  if (pid == 0) exec_child(argv, env, fd);
  ::close(fd);
  if (pid < 0) {
    if (error) *error = std::string("fork: ") + std::strerror(errno);
    return false;
  }
  pid_ = pid;
  return true;
}

bool Process::alive() {
  if (pid_ <= 0) return false;
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_ || (r < 0 && errno == ECHILD)) {
    pid_ = -1;
    return false;
  }
  return true;
}

void Process::stop(std::chrono::milliseconds grace) {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  if (!wait_until([&] { return !alive(); }, grace) && pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  pid_ = -1;
}

RunResult run_cmd(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                  const Env& env) {
  RunResult res;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return res;
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    exec_child(argv, env, fds[1]);
  }
  ::close(fds[1]);
  if (pid < 0) {
    ::close(fds[0]);
    return res;
  }
  ::fcntl(fds[0], F_SETFL, O_NONBLOCK);
  const auto end = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  bool done = false;
  char buf[4096];
  while (!done) {
    ssize_t n;
    while ((n = ::read(fds[0], buf, sizeof(buf))) > 0)
      res.output.append(buf, static_cast<size_t>(n));
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      done = true;
      break;
    }
    if (std::chrono::steady_clock::now() > end) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      res.output += "\n[killed after timeout]";
      ::close(fds[0]);
      return res;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ssize_t n;
  while ((n = ::read(fds[0], buf, sizeof(buf))) > 0) res.output.append(buf, static_cast<size_t>(n));
  ::close(fds[0]);
  res.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return res;
}

bool wait_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (pred()) return true;
    if (std::chrono::steady_clock::now() >= end) return pred();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

void kill_processes_mentioning(const std::string& needle) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/proc", ec)) {
    const std::string name = e.path().filename();
    if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) continue;
    pid_t pid = std::atoi(name.c_str());
    if (pid == ::getpid()) continue;
    std::ifstream f(e.path() / "cmdline", std::ios::binary);
    std::string cmd((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    if (cmd.find(needle) != std::string::npos) ::kill(pid, SIGKILL);
  }
}

TempDir::TempDir(const std::string& prefix) {
  std::string tmpl = "/tmp/" + prefix + "XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data())) path_ = buf.data();
}

TempDir::~TempDir() {
  if (path_.empty()) return;
  // Unmount deepest first (overlay mounts of container layers, shm, ...).
  std::vector<std::string> mounts;
  std::ifstream mi("/proc/self/mountinfo");
  std::string line;
  while (std::getline(mi, line)) {
    std::istringstream ls(line);
    std::string id, parent, dev, root, point;
    ls >> id >> parent >> dev >> root >> point;
    if (point.rfind(path_ + "/", 0) == 0) mounts.push_back(point);
  }
  std::sort(mounts.begin(), mounts.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  for (const auto& m : mounts) ::umount2(m.c_str(), MNT_DETACH);
  std::error_code ec;
  fs::remove_all(path_, ec);
}

bool write_file(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::trunc);
  f << text;
  return static_cast<bool>(f);
}

std::string file_tail(const std::string& path, std::size_t max) {
  std::ifstream f(path, std::ios::binary);
  std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  return s.size() > max ? s.substr(s.size() - max) : s;
}

}  // namespace vigil::test
