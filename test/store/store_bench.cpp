// store_bench: inserts N events (default 1,000,000) through HistoryStore::append and times
// filtered queries. Not a test: it prints numbers. Usage: store_bench [N] [DIR]
// (DIR defaults to a fresh directory under /tmp, removed at the end).
#include <stdlib.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "store/history_store.hpp"

using namespace vigil::store;
using Clock = std::chrono::steady_clock;

namespace {

constexpr const char* kCheckers[] = {"docker",  "containerd", "etcd", "apiserver", "kubelet",
                                     "systemd", "ping",       "tcp",  "http",      "dns",
                                     "disk",    "time-drift", "exec"};

/// CPU seconds used by the whole process so far (all threads): a number the load of a shared
/// machine does not inflate the way wall time is.
double cpu_seconds() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
         (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

void time_query(const HistoryStore& s, const char* name, const EventFilter& f) {
  constexpr int kRuns = 50;
  std::vector<double> ms;
  std::size_t rows = 0;
  for (int i = 0; i < kRuns; ++i) {
    const auto t = Clock::now();
    rows = s.query(f).events.size();
    ms.push_back(ms_since(t));
  }
  std::sort(ms.begin(), ms.end());
  std::printf("  %-44s rows=%-6zu median=%8.3f ms  p90=%8.3f ms\n", name, rows, ms[kRuns / 2],
              ms[kRuns * 9 / 10]);
}

}  // namespace

int main(int argc, char** argv) {
  const long n = argc > 1 ? std::atol(argv[1]) : 1'000'000;
  std::string dir;
  bool own_dir = false;
  if (argc > 2) {
    dir = argv[2];
  } else {
    std::string tmpl = "/tmp/vigil-store-bench-XXXXXX";
    if (!::mkdtemp(tmpl.data())) return 1;
    dir = tmpl;
    own_dir = true;
  }
  const Timestamp end =
      std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  const auto span = std::chrono::hours{24 * 6};  // inside the 7-day retention
  const auto step = std::chrono::duration_cast<std::chrono::milliseconds>(span) / n;
  const Timestamp start = end - span;

  StoreConfig cfg;
  cfg.data_dir = dir;
  HistoryStore store(cfg);
  store.start();
  if (!store.health().ok) {
    std::fprintf(stderr, "store degraded: %s\n", store.health().reason.c_str());
    return 1;
  }
  std::printf("store_bench: %ld events, %s\n", n, store.path().c_str());
  const auto t0 = Clock::now();
  const double cpu0 = cpu_seconds();
  for (long i = 0; i < n; ++i) {
    Event e;
    e.timestamp = start + step * i;
    e.type = i % 2 ? EventType::ProbeSucceeded : EventType::ProbeFailed;
    e.node = "node-" + std::to_string(i % 1000);
    e.checker = kCheckers[i % 13];
    e.old_state = i % 2 ? "failed" : "running";
    e.new_state = i % 2 ? "running" : "failed";
    e.detail = "GET http://127.0.0.1:2379/health: 503 #" + std::to_string(i);
    store.append(std::move(e));
    // Back-pressure for the benchmark only (append itself never waits): stay under capacity.
    if (i % 4096 == 0) {
      while (store.stats().queued > cfg.queue_capacity / 2) {
        std::this_thread::sleep_for(std::chrono::milliseconds{1});
      }
    }
  }
  const double append_ms = ms_since(t0);
  if (!store.flush(std::chrono::minutes{10})) return 1;
  const double total_ms = ms_since(t0);
  const double cpu = cpu_seconds() - cpu0;
  const auto st = store.stats();
  std::printf(
      "insert: %ld events appended in %.0f ms, committed in %.0f ms -> %.0f events/s"
      " (dropped %llu, errors %llu)\n",
      n, append_ms, total_ms, n / (total_ms / 1000.0),
      static_cast<unsigned long long>(st.dropped_total),
      static_cast<unsigned long long>(st.errors_total));
  std::printf("insert CPU: %.1f s for both threads -> %.0f events per CPU-second\n", cpu, n / cpu);
  std::printf("file: %.1f MiB (+ wal %.1f MiB)\n",
              std::filesystem::file_size(store.path()) / 1048576.0,
              std::filesystem::exists(store.path() + "-wal")
                  ? std::filesystem::file_size(store.path() + "-wal") / 1048576.0
                  : 0.0);

  std::printf("queries (50 runs each):\n");
  EventFilter f;
  f.limit = 100;
  time_query(store, "newest 100", f);
  f = {};
  f.node = "node-417";
  time_query(store, "node=node-417, limit 1000 (all of it)", f);
  f.limit = 50;
  time_query(store, "node=node-417, limit 50", f);
  f = {};
  f.checker = "etcd";
  f.limit = 100;
  time_query(store, "checker=etcd, limit 100", f);
  f = {};
  f.type = EventType::ProbeFailed;
  f.limit = 100;
  time_query(store, "type=ProbeFailed, limit 100", f);
  f = {};
  f.since = end - std::chrono::hours{1};
  f.limit = 0;
  time_query(store, "since 1h, no limit", f);
  f = {};
  f.node = "node-5";
  f.checker = kCheckers[5];
  f.since = end - std::chrono::hours{48};
  f.limit = 0;
  time_query(store, "node+checker+since 48h, no limit", f);
  f = {};
  f.node = "no-such-node";
  time_query(store, "node=no-such-node", f);
  store.stop();
  if (own_dir) std::filesystem::remove_all(dir);
  return 0;
}
