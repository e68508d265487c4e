// The test port allocator (ports.hpp).
//
// The race it closes: "bind port 0, read the number, close, pass the number on" leaves the
// port free between the close and the moment the agent (or etcd, or dnsmasq) binds it. The
// kernel picks port 0 from the ephemeral range (net.ipv4.ip_local_port_range, 32768-60999 by
// default), the same range it picks every client socket's source port from, and it hands
// recently released ports out again: under `ctest -j`, another test doing the same, or any
// HTTP poll of any test, can get the number in that window. The agent then fails to bind, or
// worse, a test talks to another test's agent.
//
// The allocator: ports come from 23000-27899, below the ephemeral range (so neither a client
// socket nor a bind to port 0 ever gets one) and clear of the fixed ports of the repository's
// scripts (serf bench 17950/19950+, bench-scale 20000-22xxx, run-mesh 27946+, bench-load
// 28946+). The range is cut into 49 blocks of 100 ports. A test process owns a block while it
// holds an exclusive flock(2) on /tmp/vigil-test-ports/<first port>.lock: taken on its first
// call, never released by hand; the kernel drops it when the process exits, however it exits
// (O_CLOEXEC: the agents it spawns do not inherit it). The ports of a block are handed out once
// each, in order; when a block runs out the next unlocked one is taken too. So two test
// processes, of this build dir or of another engineer's, are never handed the same port, and a
// port stays reserved for its test process until it exits, through agent restarts.
//
// What is left: a port of a block may still be bound by something from before (an agent a
// killed test run left behind, a server socket in TIME_WAIT) or by a program outside this
// scheme that binds fixed ports in the range. Each port is therefore probed (UDP and TCP bind on
// 127.0.0.1, without SO_REUSEADDR, so TIME_WAIT counts as busy) and skipped when busy, and the
// fixtures start an agent, etcd or dnsmasq again on new ports when it exits at start-up saying
// the address is in use (address_in_use(), kPortAttempts). Only a program outside the scheme
// that binds a fixed port of the range between the probe and the component's own bind can
// still make one attempt fail.
#include "test/ports.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <stdexcept>
#include <string>

namespace vigil::test {
namespace {

constexpr int kRangeFirst = 23000;
constexpr int kBlockSize = 100;
constexpr int kBlocks = 49;  // 23000 + 49 * 100 = 27900: the last port is 27899
const char* const kLockDir = "/tmp/vigil-test-ports";

// True when `port` on 127.0.0.1 can be bound now (socket type SOCK_DGRAM or SOCK_STREAM).
bool bindable(int type, int port) {
  const int fd = ::socket(AF_INET, type | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  const bool ok = ::bind(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

// Says so once when the kernel's ephemeral range overlaps ours (then a client socket could
// take a port between the probe and the component's bind, and the retries are what is left).
void warn_if_ephemeral_overlap() {
  std::ifstream f("/proc/sys/net/ipv4/ip_local_port_range");
  int lo = 0, hi = 0;
  if (!(f >> lo >> hi)) return;
  const int last = kRangeFirst + kBlocks * kBlockSize - 1;
  if (lo <= last && hi >= kRangeFirst) {
    std::fprintf(stderr,
                 "test ports: the ephemeral range %d-%d overlaps the test range %d-%d; client "
                 "sockets may take test ports\n",
                 lo, hi, kRangeFirst, last);
  }
}

class Allocator {
 public:
  int next_port() {
    std::lock_guard lock(mu_);
    for (;;) {
      if (next_ >= end_ && !claim_block()) {
        throw std::runtime_error(
            "no free test port block in 23000-27899: every /tmp/vigil-test-ports/*.lock is "
            "held by a running test process");
      }
      const int port = next_++;
      if (bindable(SOCK_DGRAM, port) && bindable(SOCK_STREAM, port)) return port;
    }
  }

 private:
  // Locks a block no process holds (ours included: a second flock of the same file through
  // another descriptor conflicts) and makes it current; false when all are held.
  bool claim_block() {
    if (!checked_) {
      checked_ = true;
      warn_if_ephemeral_overlap();
      // Shared by every user of the machine, like /tmp itself (sticky, world-writable).
      if (::mkdir(kLockDir, 01777) == 0) ::chmod(kLockDir, 01777);
    }
    const int start = static_cast<int>(::getpid() % kBlocks);
    for (int k = 0; k < kBlocks; ++k) {
      const int first = kRangeFirst + ((start + k) % kBlocks) * kBlockSize;
      const std::string path = std::string(kLockDir) + "/" + std::to_string(first) + ".lock";
      // Read-only is enough for flock, so a lock file another user created works for us too.
      const int fd = ::open(path.c_str(), O_RDONLY | O_CREAT | O_CLOEXEC, 0666);
      if (fd < 0) continue;
      if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        ::close(fd);
        continue;
      }
      ::fchmod(fd, 0666);  // best effort (umask), for other users
      // The descriptor is deliberately never closed: the lock lives as long as the process.
      next_ = first;
      end_ = first + kBlockSize;
      return true;
    }
    return false;
  }

  std::mutex mu_;
  int next_ = 0, end_ = 0;  // ports left in the current block: [next_, end_)
  bool checked_ = false;
};

}  // namespace

int free_port() {
  static Allocator* allocator = new Allocator;  // never destroyed: usable until exit
  return allocator->next_port();
}

bool address_in_use(const std::string& output) {
  std::string lower(output);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  return lower.find("address already in use") != std::string::npos ||
         lower.find("address in use") != std::string::npos;
}

}  // namespace vigil::test
