#pragma once
// Configuration of the history store. Every field: meaning, default, trade-off.

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "store/event.hpp"

namespace vigil::store {

/// Log sink injected by the owner (never a global logger). `level` is "debug", "info", "warn"
/// or "error"; `line` is "key=value" text without the component (the store adds "store: ").
/// Called from the writer thread and from query callers; must be thread-safe and not block long.
using LogFn = std::function<void(std::string_view level, std::string_view line)>;

/// Wall clock used for retention (cutoff = now - retention) and for events appended with a zero
/// timestamp. Injected so tests can move time; must be thread-safe.
using WallClock = std::function<Timestamp()>;

struct StoreConfig {
  /// Directory holding `history.db` (+ `-wal`, `-shm`). Created if missing (one level).
  /// Required; no default. The agent passes `--data-dir`.
  std::string data_dir;

  /// Events older than this are deleted by the writer: first thing after start() (before any
  /// new event is written), then every eviction_interval. Default 7 days (design.md); the agent
  /// passes its config file's history.retention (AgentConfig::history_retention).
  std::chrono::milliseconds retention = std::chrono::hours{24 * 7};

  /// How often the writer runs retention eviction (measured on `clock`). Default 1 min.
  std::chrono::milliseconds eviction_interval = std::chrono::minutes{1};

  /// The writer commits queued events at least this often. This bounds what a kill -9 loses:
  /// events appended less than ~flush_interval ago. Default 200 ms.
  std::chrono::milliseconds flush_interval = std::chrono::milliseconds{200};

  /// The writer commits early once this many events are queued; also the most rows per
  /// transaction. Larger: faster bulk insert, longer transactions. Default 2048.
  std::size_t max_batch = 2048;

  /// Bound of the append() queue. When full, append() drops the OLDEST queued event and counts
  /// it in dropped_total() (append never blocks). Default 65536 events.
  std::size_t queue_capacity = 65536;

  /// Bound of the in-memory ring of events not yet persisted (degraded mode). Queries merge it
  /// in, so recent history stays visible while the disk is unwritable; on recovery it is written
  /// out. When full the oldest is dropped and counted in dropped_total(). Default 10000.
  std::size_t memory_capacity = 10000;

  /// While degraded, how often the writer retries opening the database / writing the backlog.
  /// Each failed attempt counts in errors_total(). Default 5 s.
  std::chrono::milliseconds retry_interval = std::chrono::seconds{5};

  /// SQLite busy_timeout for every connection: how long a statement waits for a lock held by
  /// another process before failing with "database is locked" (-> degraded). Default 2 s.
  std::chrono::milliseconds busy_timeout = std::chrono::seconds{2};

  /// Idle read connections kept for query() callers (each caller borrows one). Default 4.
  std::size_t max_idle_readers = 4;

  /// Wall clock; default std::chrono::system_clock.
  WallClock clock;

  /// Log sink; default: discard.
  LogFn log;

  /// Problems with the values above, one human-readable line each; empty = valid.
  std::vector<std::string> validate() const;
};

}  // namespace vigil::store
