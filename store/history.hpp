#pragma once
// The two faces of the history, as interfaces, so that users need not link SQLite:
//   - HistoryReader: what the API reads (/v1/history, the `store` warning probe);
//   - HistoryWriter: what the agent feeds with change events.
// HistoryStore implements both; tests use test/fakes/in_memory_history.hpp. Header-only.
// Ownership: the composition root (agent) owns the implementation; holders of these
// interfaces do not take ownership and must not outlive it (protected non-virtual dtor).

#include <string>
#include <vector>

#include "store/event.hpp"

namespace vigil::store {

/// Store health, turned by the agent into the warning probe named `store`.
struct StoreHealth {
  bool ok = true;      ///< false = degraded (events kept in memory only)
  std::string reason;  ///< why degraded, e.g. "insert: database or disk is full"; "" when ok
};

/// The answer of a history query: events oldest first.
struct QueryResult {
  std::vector<Event> events;
  /// True when the database could not be read and `events` come from the memory ring only
  /// (recent, unpersisted history); `reason` says why.
  bool memory_only = false;
  std::string reason;
};

class HistoryReader {
 public:
  /// Matching events, oldest first (see EventFilter::limit). Any thread; may block on disk
  /// reads (call it from an HTTP worker, never from the loop thread).
  virtual QueryResult query(const EventFilter& filter) const = 0;
  /// ok / degraded + reason. Any thread, never blocks.
  virtual StoreHealth health() const = 0;
  /// Failed storage operations so far (vigil_store_errors_total). Any thread, never blocks.
  virtual std::uint64_t errors_total() const = 0;

 protected:
  ~HistoryReader() = default;
};

class HistoryWriter {
 public:
  /// Records `e` (a zero timestamp means "now"). Any thread; never blocks on I/O (the loop
  /// thread may call it).
  virtual void append(Event e) = 0;

 protected:
  ~HistoryWriter() = default;
};

}  // namespace vigil::store
