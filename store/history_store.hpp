#pragma once
// HistoryStore: the change-only event history of design.md in SQLite (`<data-dir>/history.db`).
//
// Threads: append(), flush(), query(), health() and the counters may be called from any thread.
// One writer thread (owned here) does every write: it batches queued events and commits them in
// one transaction at least every `flush_interval` (~200 ms) or once `max_batch` are queued, and
// runs retention eviction (`retention`: first thing when it starts, then every
// `eviction_interval`). query() runs on the caller's thread with a read connection of its
// own (WAL lets readers proceed while the writer commits).
//
// Durability: WAL + synchronous=NORMAL + one transaction per batch. A kill -9 of the process
// loses at most the events still queued, i.e. those appended within the last ~flush_interval
// (one unflushed batch; more only if the disk stalls the writer, e.g. a lock held by another
// process for busy_timeout); committed batches survive and the file is never corrupted (a
// batch is all or nothing). Events kept in the memory ring while degraded are lost too. A power
// loss / kernel crash may additionally lose the last commits not yet checkpointed
// (synchronous=NORMAL trades that for speed), still without corruption.
//
// Degradation, never a stop: when the directory is unwritable, the disk is full, or the
// database is locked or corrupt, the store keeps accepting events into a bounded in-memory ring
// (queries merge it in, so recent history still answers), counts every failed attempt in
// errors_total(), reports health() = degraded with the reason, and retries every
// `retry_interval`; once a write succeeds the ring is written out and health() is ok again.
// A corrupt file (SQLITE_CORRUPT/NOTADB) is renamed to `history.db.corrupt-<ms>` and a fresh
// one is created.
//
// Lifecycle: construct (throws std::invalid_argument on an invalid config: the only exception),
// start() once, stop() (also run by the destructor) flushes and joins the writer.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

#include "store/event.hpp"
#include "store/history.hpp"
#include "store/store_config.hpp"

namespace vigil::store {

namespace detail {
class Db;
}

/// Counters and gauges for metrics and tests.
struct StoreStats {
  std::uint64_t appended_total = 0;  ///< append() calls
  std::uint64_t written_total = 0;   ///< events committed to SQLite
  std::uint64_t dropped_total = 0;   ///< events lost: queue or memory ring overflow
  std::uint64_t errors_total = 0;    ///< failed SQLite operations (vigil_store_errors_total)
  std::uint64_t evicted_total = 0;   ///< events deleted by retention
  std::size_t queued = 0;            ///< waiting for the writer
  std::size_t in_memory = 0;         ///< not persisted, held in the memory ring (degraded)
};

/// The SQLite implementation of HistoryReader and HistoryWriter (see the top of this file).
class HistoryStore final : public HistoryReader, public HistoryWriter {
 public:
  /// Validates `config` (throws std::invalid_argument listing the problems). No I/O yet.
  explicit HistoryStore(StoreConfig config);
  ~HistoryStore();  ///< stop()
  HistoryStore(const HistoryStore&) = delete;
  HistoryStore& operator=(const HistoryStore&) = delete;

  /// Opens the database (or enters degraded mode, never fails) and starts the writer thread.
  /// Call once. May block up to busy_timeout when another process holds the database.
  void start();
  /// Writes what is queued (best effort), stops and joins the writer. Idempotent.
  void stop();

  /// Queues `e` for the writer. Never blocks on I/O; when the queue is full the oldest queued
  /// event is dropped (dropped_total()). A zero timestamp is replaced by clock(). Any thread.
  void append(Event e) override;
  /// Waits (at most `timeout`) until every event appended before the call has been committed
  /// or, when degraded, moved to the memory ring. Returns false on timeout. Any thread.
  bool flush(std::chrono::milliseconds timeout = std::chrono::seconds{30});

  /// Matching events, oldest first (see EventFilter::limit). Runs on the caller's thread with
  /// its own read connection; merges unpersisted events from the memory ring. Events still
  /// queued (appended < ~flush_interval ago) are not visible yet. Any thread.
  QueryResult query(const EventFilter& filter) const override;

  StoreHealth health() const override;          ///< ok / degraded + reason. Any thread.
  std::uint64_t errors_total() const override;  ///< for vigil_store_errors_total
  std::uint64_t dropped_total() const;          ///< events lost to overflow
  StoreStats stats() const;
  const std::string& path() const { return path_; }  ///< `<data_dir>/history.db`

 private:
  using SteadyTime = std::chrono::steady_clock::time_point;

  void run();  // writer thread
  void process(std::vector<Event>& batch);
  void maintain(bool final_attempt);
  bool try_open();
  bool write_backlog();
  void evict_if_due(bool force = false);  // force: now, whatever eviction_interval says
  void quarantine();
  void keep_in_memory(std::vector<Event>& batch);
  void set_degraded(std::string reason);
  void set_ok();
  void log(std::string_view level, const std::string& line) const;
  Timestamp now() const;

  StoreConfig cfg_;
  std::string path_;

  // Writer-thread state (touched by start() before the thread exists, then by run() only).
  std::unique_ptr<detail::Db> db_;
  bool corrupt_ = false;
  SteadyTime next_retry_{};
  Timestamp last_eviction_{};
  std::thread writer_;

  // Queue shared with append()/flush(), under mu_.
  mutable std::mutex mu_;
  std::condition_variable cv_;       // wakes the writer
  std::condition_variable done_cv_;  // wakes flush()
  std::deque<Event> queue_;
  SteadyTime oldest_queued_{};
  std::uint64_t next_seq_ = 0;   // events ever queued
  std::uint64_t done_upto_ = 0;  // events (by seq) processed or dropped
  bool flush_requested_ = false;
  bool stop_ = false;
  bool started_ = false;

  // Unpersisted events (degraded mode): pushed/popped by the writer, read by query().
  mutable std::shared_mutex ring_mu_;
  std::deque<Event> ring_;

  // Read connections for query() callers, by database generation (bumped on quarantine).
  mutable std::mutex readers_mu_;
  mutable std::vector<std::unique_ptr<detail::Db>> idle_readers_;
  std::atomic<std::uint64_t> generation_{0};
  mutable std::uint64_t readers_generation_ = 0;  // under readers_mu_

  mutable std::mutex health_mu_;
  StoreHealth health_;

  std::atomic<std::uint64_t> appended_{0}, written_{0}, dropped_{0}, evicted_{0};
  mutable std::atomic<std::uint64_t> errors_{0};  // also counted by failed query() reads
  std::atomic<std::size_t> ring_size_{0};
};

}  // namespace vigil::store
