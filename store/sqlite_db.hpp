#pragma once
// Internal to store/: a thin RAII wrapper over one sqlite3 connection holding the `events`
// schema. Not thread-safe: one connection per thread at a time (the writer owns one, each
// query() borrows a reader). Returns errors as values; never throws.

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "store/event.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace vigil::store::detail {

/// An SQLite failure: extended result code (0 = success) and a message naming the operation.
struct DbError {
  int code = 0;
  std::string message;
  explicit operator bool() const { return code != 0; }  ///< true = an error
  /// SQLITE_CORRUPT or SQLITE_NOTADB: the file is damaged and should be set aside.
  bool corrupt() const;
};

class Db {
 public:
  Db() = default;
  Db(Db&&) noexcept;
  Db& operator=(Db&&) noexcept;
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;
  ~Db();

  /// Opens/creates `path` read-write: WAL, synchronous=NORMAL, busy_timeout, schema + indices.
  DbError open_writer(const std::string& path, int busy_timeout_ms);
  /// Opens an existing `path` read-only (query_only) with busy_timeout.
  DbError open_reader(const std::string& path, int busy_timeout_ms);
  bool is_open() const { return db_ != nullptr; }
  void close();

  /// Inserts `events` in ONE transaction (all or nothing); on success sets each event's id.
  DbError insert(std::span<Event> events);
  /// Deletes events with timestamp < cutoff in chunks of `chunk` rows (one transaction each).
  DbError evict_before(Timestamp cutoff, std::size_t chunk, std::size_t* deleted);
  /// Appends the matching events (newest `limit`, oldest first) to `out`.
  DbError query(const EventFilter& filter, std::vector<Event>* out);

 private:
  DbError exec(const char* sql, const char* what);
  DbError error(int rc, const char* what) const;

  sqlite3* db_ = nullptr;
  sqlite3_stmt* insert_stmt_ = nullptr;  // cached, finalized in close()
};

}  // namespace vigil::store::detail
