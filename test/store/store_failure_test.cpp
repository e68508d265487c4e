// HistoryStore under failure: kill -9 mid-write, read-only directory, full disk, a locked and a
// corrupt database. The store must degrade (count errors, answer from memory) and never stop.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>

#include "test/skip.hpp"
#include "test/store/store_test_util.hpp"

using namespace vigil::store;
using namespace vigil::store::test;
using namespace std::chrono_literals;

namespace {

/// Moves this test process into a private mount namespace (once), so the read-only bind mount
/// and the tmpfs below are invisible to the machine and vanish with the process. Needs root
/// (CAP_SYS_ADMIN) and a single-threaded process; false when not possible.
bool private_mounts() {
  static const bool ok = [] {
    if (::geteuid() != 0) return false;
    if (::unshare(CLONE_NEWNS) != 0) return false;
    return ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0;
  }();
  return ok;
}

/// Detaches a mount when the test ends, even on a failed REQUIRE.
struct Unmount {
  std::string path;
  bool active = true;
  ~Unmount() {
    if (active) ::umount2(path.c_str(), MNT_DETACH);
  }
};

std::vector<Event> all_events(const HistoryStore& s) {
  EventFilter f;
  f.limit = 0;
  return s.query(f).events;
}

/// The child of the kill -9 tests: appends events "0", "1", ... publishing the count in `shared`.
[[noreturn]] void child_writer(const StoreConfig& cfg, std::atomic<long>* shared, long flushed,
                               long extra) {
  HistoryStore store(cfg);
  store.start();
  long i = 0;
  for (; i < flushed; ++i)
    store.append(make_event({}, EventType::ProbeFailed, "n", "c", std::to_string(i)));
  if (!store.flush(60s)) ::_exit(3);
  shared->store(i);
  // Then keep appending (bounded) until killed.
  for (long j = 0; j < extra; ++j, ++i) {
    store.append(make_event({}, EventType::ProbeFailed, "n", "c", std::to_string(i)));
    shared->store(i + 1);
    if (cfg.flush_interval < 1s) ::usleep(100);
  }
  ::pause();
  ::_exit(0);
}

struct KillResult {
  long appended = 0;
  std::vector<Event> events;
};

KillResult run_and_kill(const StoreConfig& cfg, long flushed, long extra, long wait_rows) {
  auto* shared = static_cast<std::atomic<long>*>(::mmap(nullptr, sizeof(std::atomic<long>),
                                                        PROT_READ | PROT_WRITE,
                                                        MAP_SHARED | MAP_ANONYMOUS, -1, 0));
  REQUIRE(shared != MAP_FAILED);
  new (shared) std::atomic<long>(-1);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) child_writer(cfg, shared, flushed, extra);
  // Wait until the child flushed phase one and (optionally) more rows are committed.
  const std::string db = cfg.data_dir + "/history.db";
  const bool ready =
      eventually([&] { return shared->load() >= flushed; }, 60s) &&
      eventually(
          [&] {
            return wait_rows == 0 ||
                   std::atol(sql_value(db, "SELECT count(*) FROM events").c_str()) >= wait_rows;
          },
          60s);
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  CHECK(WIFSIGNALED(status));
  KillResult out;
  out.appended = shared->load();
  ::munmap(shared, sizeof(std::atomic<long>));
  REQUIRE(ready);
  CHECK(sql_value(db, "PRAGMA integrity_check") == "ok");
  HistoryStore again(cfg);
  again.start();
  CHECK(again.health().ok);
  out.events = all_events(again);
  // Persisted events are a contiguous prefix 0..k-1: batches are all or nothing, in order.
  for (std::size_t k = 0; k < out.events.size(); ++k) {
    REQUIRE(out.events[k].detail == std::to_string(k));
  }
  return out;
}

}  // namespace

TEST_CASE("kill -9 loses exactly the unflushed batch, never committed ones") {
  TempDir dir;
  auto cfg = fast_config(dir.path());
  cfg.flush_interval = 1h;  // the 50 extra events stay queued, deterministically
  cfg.max_batch = 100000;
  const auto r = run_and_kill(cfg, 1000, 50, 0);
  CHECK(r.appended == 1050);
  CHECK(r.events.size() == 1000);
}

TEST_CASE("kill -9 during continuous writing keeps the file intact") {
  TempDir dir;
  auto cfg = fast_config(dir.path());
  cfg.flush_interval = 5ms;
  cfg.max_batch = 64;  // many small transactions in flight when the kill lands
  const auto r = run_and_kill(cfg, 100, 1'000'000, 3000);
  CHECK(r.events.size() >= 3000);
  CHECK(static_cast<long>(r.events.size()) <= r.appended);
  MESSAGE("kill -9: appended " << r.appended << ", persisted " << r.events.size() << ", lost "
                               << r.appended - static_cast<long>(r.events.size())
                               << " (queued, within the last flush interval)");
  // The reopened store appends after the survivors.
  HistoryStore again(cfg);
  again.start();
  again.append(make_event({}, EventType::NodeAdded, "after"));
  REQUIRE(again.flush());
  CHECK(all_events(again).back().node == "after");
}

TEST_CASE("an unwritable directory degrades the store; memory answers; it recovers") {
  TempDir dir;
  const std::string ro = dir.path() + "/ro";
  REQUIRE(::mkdir(ro.c_str(), 0755) == 0);
  bool mounted = false;
  Unmount unmount{ro, false};
  if (::geteuid() == 0) {
    // Root ignores mode bits: use a read-only bind mount in a private mount namespace.
    if (!private_mounts()) return vigil::test::skip("cannot create a private mount namespace");
    REQUIRE(::mount(ro.c_str(), ro.c_str(), nullptr, MS_BIND, nullptr) == 0);
    REQUIRE(::mount(nullptr, ro.c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr) == 0);
    mounted = true;
    unmount.active = true;
  } else {
    REQUIRE(::chmod(ro.c_str(), 0555) == 0);
  }
  HistoryStore store(fast_config(ro));
  store.start();
  CHECK_FALSE(store.health().ok);
  CHECK(store.health().reason.find("history.db") != std::string::npos);
  const auto errors_at_start = store.errors_total();
  CHECK(errors_at_start >= 1);
  for (int i = 0; i < 20; ++i) {
    store.append(make_event({}, EventType::NodeFailed, "n" + std::to_string(i)));
  }
  REQUIRE(store.flush());
  // Retries keep failing and keep counting.
  CHECK(eventually([&] { return store.errors_total() >= errors_at_start + 3; }));
  EventFilter f;
  f.node = "n7";
  auto r = store.query(f);
  CHECK(r.memory_only);
  REQUIRE(r.events.size() == 1);
  CHECK(r.events[0].id == 0);
  CHECK(store.query(EventFilter{.limit = 5}).events.size() == 5);
  CHECK(store.stats().in_memory == 20);

  // Make the directory writable again: the backlog is written out.
  if (mounted) {
    REQUIRE(::umount2(ro.c_str(), MNT_DETACH) == 0);
    unmount.active = false;
  } else {
    REQUIRE(::chmod(ro.c_str(), 0755) == 0);
  }
  REQUIRE(eventually([&] { return store.health().ok; }));
  r = store.query(EventFilter{.limit = 0});
  CHECK_FALSE(r.memory_only);
  REQUIRE(r.events.size() == 20);
  CHECK(r.events[7].node == "n7");
  CHECK(r.events[7].id > 0);
  CHECK(store.stats().in_memory == 0);
}

TEST_CASE("a full disk degrades the store and it recovers once space is freed") {
  if (!private_mounts())
    return vigil::test::skip("needs root and a private mount namespace for a 1 MiB tmpfs");
  TempDir dir;
  const std::string mnt = dir.path() + "/small";
  REQUIRE(::mkdir(mnt.c_str(), 0755) == 0);
  REQUIRE(::mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=1m") == 0);
  Unmount unmount{mnt};

  HistoryStore store(fast_config(mnt));
  store.start();
  REQUIRE(store.health().ok);
  for (int i = 0; i < 10; ++i) store.append(make_event({}, EventType::NodeAdded, "before"));
  REQUIRE(store.flush());
  REQUIRE(store.health().ok);

  // Fill the file system.
  const std::string filler = mnt + "/filler";
  {
    const int fd = ::open(filler.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    REQUIRE(fd >= 0);
    const std::string chunk(16 * 1024, 'x');
    for (int i = 0; i < 1000 && ::write(fd, chunk.data(), chunk.size()) > 0; ++i) {
    }
    ::close(fd);
  }
  const std::string big(4000, 'd');
  int appended = 0;
  const bool degraded = eventually([&] {
    store.append(make_event({}, EventType::ProbeFailed, "during", "disk", big));
    ++appended;
    store.flush();
    return !store.health().ok;
  });
  REQUIRE(degraded);
  CHECK(store.errors_total() >= 1);
  CHECK(store.health().reason.find("full") != std::string::npos);
  EventFilter f;
  f.node = "during";
  f.limit = 0;
  auto r = store.query(f);  // the database still reads; the unpersisted tail comes from memory
  CHECK(static_cast<int>(r.events.size()) == appended);
  CHECK(store.query(EventFilter{.node = "before"}).events.size() == 10);

  REQUIRE(::unlink(filler.c_str()) == 0);
  REQUIRE(eventually([&] { return store.health().ok && store.stats().in_memory == 0; }));
  r = store.query(f);
  CHECK_FALSE(r.memory_only);
  CHECK(static_cast<int>(r.events.size()) == appended);
  for (const auto& e : r.events) CHECK(e.id > 0);
  store.stop();
  CHECK(sql_value(mnt + "/history.db", "PRAGMA integrity_check") == "ok");
  CHECK(sql_value(mnt + "/history.db", "SELECT count(*) FROM events") ==
        std::to_string(appended + 10));
}

TEST_CASE("a database locked by another process degrades, then recovers") {
  TempDir dir;
  auto cfg = fast_config(dir.path());
  HistoryStore store(cfg);
  store.start();
  REQUIRE(store.health().ok);
  sqlite3* other = nullptr;
  REQUIRE(sqlite3_open(store.path().c_str(), &other) == SQLITE_OK);
  REQUIRE(sqlite3_exec(other, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr) == SQLITE_OK);
  store.append(make_event({}, EventType::NodeFailed, "locked-out"));
  REQUIRE(store.flush());
  CHECK_FALSE(store.health().ok);
  CHECK(store.health().reason.find("locked") != std::string::npos);
  CHECK(store.errors_total() >= 1);
  auto r = store.query(EventFilter{.node = "locked-out"});  // readers are not blocked (WAL)
  CHECK_FALSE(r.memory_only);
  CHECK(r.events.size() == 1);
  REQUIRE(sqlite3_exec(other, "COMMIT", nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(other);
  REQUIRE(eventually([&] { return store.health().ok; }));
  CHECK(sql_value(store.path(), "SELECT node FROM events") == "locked-out");
}

TEST_CASE("a corrupt database file is set aside and a fresh one is used") {
  TempDir dir;
  const std::string path = dir.path() + "/history.db";
  {
    std::ofstream junk(path, std::ios::binary);
    for (int i = 0; i < 1000; ++i) junk << "this is not an SQLite database ";
  }
  HistoryStore store(fast_config(dir.path()));
  store.start();
  CHECK(store.health().ok);
  CHECK(store.errors_total() >= 1);
  store.append(make_event({}, EventType::NodeRecovered, "fresh"));
  REQUIRE(store.flush());
  CHECK(store.query(EventFilter{}).events.size() == 1);
  int aside = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    if (entry.path().filename().string().starts_with("history.db.corrupt-")) ++aside;
  }
  CHECK(aside == 1);
}

TEST_CASE("stop() makes one last attempt to write a degraded backlog") {
  TempDir dir;
  auto cfg = fast_config(dir.path());
  cfg.retry_interval = 1h;  // no ordinary retry during the test
  HistoryStore store(cfg);
  store.start();
  sqlite3* other = nullptr;
  REQUIRE(sqlite3_open(store.path().c_str(), &other) == SQLITE_OK);
  REQUIRE(sqlite3_exec(other, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr) == SQLITE_OK);
  for (int i = 0; i < 3; ++i) store.append(make_event({}, EventType::NodeFailed, "late"));
  REQUIRE(store.flush());
  REQUIRE_FALSE(store.health().ok);
  CHECK(store.stats().in_memory == 3);
  REQUIRE(sqlite3_exec(other, "COMMIT", nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(other);
  store.stop();
  CHECK(sql_value(store.path(), "SELECT count(*) FROM events WHERE node='late'") == "3");
}
