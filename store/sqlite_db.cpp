#include "store/sqlite_db.hpp"

#include <sqlite3.h>

#include <utility>

namespace vigil::store::detail {
namespace {

// Schema version 1. Types are stored by name so the table reads well in the sqlite3 shell.
constexpr const char* kSchema =
    "CREATE TABLE IF NOT EXISTS events ("
    "  id INTEGER PRIMARY KEY,"
    "  ts INTEGER NOT NULL,"  // UTC milliseconds since the epoch
    "  type TEXT NOT NULL,"
    "  node TEXT NOT NULL DEFAULT '',"
    "  checker TEXT NOT NULL DEFAULT '',"
    "  old_state TEXT NOT NULL DEFAULT '',"
    "  new_state TEXT NOT NULL DEFAULT '',"
    "  detail TEXT NOT NULL DEFAULT '');"
    "CREATE INDEX IF NOT EXISTS events_ts ON events(ts);"
    "CREATE INDEX IF NOT EXISTS events_node_ts ON events(node, ts);"
    "CREATE INDEX IF NOT EXISTS events_checker_ts ON events(checker, ts);"
    "PRAGMA user_version = 1;";

struct StmtDeleter {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using Stmt = std::unique_ptr<sqlite3_stmt, StmtDeleter>;

/// Binds without copying: `v` must outlive the statement's next step/reset (it always does
/// here: values live in the caller's batch or filter for the whole call).
int bind_text(sqlite3_stmt* s, int i, const std::string& v) {
  return sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
}

std::string column_text(sqlite3_stmt* s, int i) {
  const auto* p = sqlite3_column_text(s, i);
  return p ? std::string(reinterpret_cast<const char*>(p),
                         static_cast<std::size_t>(sqlite3_column_bytes(s, i)))
           : std::string{};
}

}  // namespace

bool DbError::corrupt() const {
  const int primary = code & 0xff;
  return primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB;
}

Db::Db(Db&& o) noexcept
    : db_(std::exchange(o.db_, nullptr)), insert_stmt_(std::exchange(o.insert_stmt_, nullptr)) {}

Db& Db::operator=(Db&& o) noexcept {
  if (this != &o) {
    close();
    db_ = std::exchange(o.db_, nullptr);
    insert_stmt_ = std::exchange(o.insert_stmt_, nullptr);
  }
  return *this;
}

Db::~Db() {
  close();
}

void Db::close() {
  if (insert_stmt_) sqlite3_finalize(std::exchange(insert_stmt_, nullptr));
  if (db_) sqlite3_close_v2(std::exchange(db_, nullptr));
}

DbError Db::error(int rc, const char* what) const {
  std::string msg = what;
  msg += ": ";
  msg += db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
  return DbError{rc == 0 ? SQLITE_ERROR : rc, std::move(msg)};
}

DbError Db::exec(const char* sql, const char* what) {
  const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
  return rc == SQLITE_OK ? DbError{} : error(sqlite3_extended_errcode(db_), what);
}

DbError Db::open_writer(const std::string& path, int busy_timeout_ms) {
  close();
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    DbError e = error(rc, "open");
    close();
    return e;
  }
  sqlite3_extended_result_codes(db_, 1);
  sqlite3_busy_timeout(db_, busy_timeout_ms);
  // journal_mode answers with the mode in effect: anything but "wal" is a failure.
  {
    sqlite3_stmt* raw = nullptr;
    rc = sqlite3_prepare_v2(db_, "PRAGMA journal_mode=WAL", -1, &raw, nullptr);
    Stmt st(raw);
    if (rc == SQLITE_OK) rc = sqlite3_step(st.get());
    if (rc != SQLITE_ROW) {
      DbError e = error(sqlite3_extended_errcode(db_), "enable WAL");
      close();
      return e;
    }
    if (column_text(st.get(), 0) != "wal") {
      close();
      return DbError{SQLITE_CANTOPEN, "enable WAL: journal_mode is not wal"};
    }
  }
  DbError e = exec("PRAGMA synchronous=NORMAL", "synchronous=NORMAL");
  // 8 MiB page cache for the writer (default 2 MiB): the node/checker index pages a batch
  // touches stay hot, which keeps bulk inserts ~flat as the table grows.
  if (!e) e = exec("PRAGMA cache_size=-8192", "cache_size");
  // After a checkpoint, truncate a WAL that grew past 8 MiB (default: keep it at its peak).
  if (!e) e = exec("PRAGMA journal_size_limit=8388608", "journal_size_limit");
  if (!e) e = exec("BEGIN IMMEDIATE", "schema begin");
  if (!e) {
    e = exec(kSchema, "schema");
    if (e) {
      exec("ROLLBACK", "schema rollback");
    } else {
      e = exec("COMMIT", "schema commit");
    }
  }
  if (e) {
    close();
    return e;
  }
  return {};
}

DbError Db::open_reader(const std::string& path, int busy_timeout_ms) {
  close();
  const int flags = SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX;
  const int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    DbError e = error(rc, "open reader");
    close();
    return e;
  }
  sqlite3_extended_result_codes(db_, 1);
  sqlite3_busy_timeout(db_, busy_timeout_ms);
  DbError e = exec("PRAGMA query_only=1", "query_only");
  if (e) close();
  return e;
}

DbError Db::insert(std::span<Event> events) {
  if (!db_) return DbError{SQLITE_MISUSE, "insert: database not open"};
  if (events.empty()) return {};
  if (!insert_stmt_) {
    const int rc = sqlite3_prepare_v2(db_,
                                      "INSERT INTO events(ts,type,node,checker,old_state,"
                                      "new_state,detail) VALUES(?1,?2,?3,?4,?5,?6,?7)",
                                      -1, &insert_stmt_, nullptr);
    if (rc != SQLITE_OK) return error(sqlite3_extended_errcode(db_), "prepare insert");
  }
  if (DbError e = exec("BEGIN IMMEDIATE", "insert begin")) return e;
  sqlite3_stmt* s = insert_stmt_;
  for (Event& ev : events) {
    sqlite3_reset(s);
    sqlite3_bind_int64(s, 1, to_unix_ms(ev.timestamp));
    const std::string_view type = to_string(ev.type);
    sqlite3_bind_text(s, 2, type.data(), static_cast<int>(type.size()), SQLITE_STATIC);
    bind_text(s, 3, ev.node);
    bind_text(s, 4, ev.checker);
    bind_text(s, 5, ev.old_state);
    bind_text(s, 6, ev.new_state);
    bind_text(s, 7, ev.detail);
    if (sqlite3_step(s) != SQLITE_DONE) {
      DbError e = error(sqlite3_extended_errcode(db_), "insert");
      sqlite3_reset(s);
      sqlite3_clear_bindings(s);
      exec("ROLLBACK", "insert rollback");
      for (Event& back : events) back.id = 0;
      return e;
    }
    ev.id = sqlite3_last_insert_rowid(db_);
  }
  sqlite3_reset(s);
  sqlite3_clear_bindings(s);  // the bound strings belong to `events`
  if (DbError e = exec("COMMIT", "insert commit")) {
    exec("ROLLBACK", "insert rollback");
    for (Event& ev : events) ev.id = 0;
    return e;
  }
  return {};
}

DbError Db::evict_before(Timestamp cutoff, std::size_t chunk, std::size_t* deleted) {
  *deleted = 0;
  if (!db_) return DbError{SQLITE_MISUSE, "evict: database not open"};
  sqlite3_stmt* raw = nullptr;
  int rc = sqlite3_prepare_v2(db_,
                              "DELETE FROM events WHERE id IN "
                              "(SELECT id FROM events WHERE ts < ?1 ORDER BY ts LIMIT ?2)",
                              -1, &raw, nullptr);
  Stmt st(raw);
  if (rc != SQLITE_OK) return error(sqlite3_extended_errcode(db_), "prepare evict");
  // Bounded: each round deletes up to `chunk` rows or ends the loop.
  for (int round = 0; round < 100000; ++round) {
    sqlite3_reset(st.get());
    sqlite3_bind_int64(st.get(), 1, to_unix_ms(cutoff));
    sqlite3_bind_int64(st.get(), 2, static_cast<sqlite3_int64>(chunk));
    rc = sqlite3_step(st.get());
    if (rc != SQLITE_DONE) return error(sqlite3_extended_errcode(db_), "evict");
    const int n = sqlite3_changes(db_);
    *deleted += static_cast<std::size_t>(n);
    if (static_cast<std::size_t>(n) < chunk) break;
  }
  return {};
}

DbError Db::query(const EventFilter& f, std::vector<Event>* out) {
  if (!db_) return DbError{SQLITE_MISUSE, "query: database not open"};
  // Only fixed SQL fragments are concatenated; every value is a bound parameter.
  std::string where = " WHERE 1=1";
  if (f.since) where += " AND ts >= ?1";
  if (f.until) where += " AND ts < ?2";
  if (f.node) where += " AND node = ?3";
  if (f.checker) where += " AND checker = ?4";
  if (f.type) where += " AND type = ?5";
  const std::string cols = "id,ts,type,node,checker,old_state,new_state,detail";
  // Without ANALYZE statistics SQLite may walk the ts index for a node/checker filter with a
  // wide time range (17 ms instead of 2 ms at 1M rows): name the index that fits.
  const char* table = f.node      ? "events INDEXED BY events_node_ts"
                      : f.checker ? "events INDEXED BY events_checker_ts"
                                  : "events";
  std::string sql;
  if (f.limit > 0) {
    sql = "SELECT * FROM (SELECT " + cols + " FROM " + table + where +
          " ORDER BY ts DESC, id DESC LIMIT ?6) ORDER BY ts ASC, id ASC";
  } else {
    sql = "SELECT " + cols + " FROM " + table + where + " ORDER BY ts ASC, id ASC";
  }
  sqlite3_stmt* raw = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql.c_str(), -1, &raw, nullptr);
  Stmt st(raw);
  if (rc != SQLITE_OK) return error(sqlite3_extended_errcode(db_), "prepare query");
  sqlite3_stmt* s = st.get();
  if (f.since) sqlite3_bind_int64(s, 1, to_unix_ms(*f.since));
  if (f.until) sqlite3_bind_int64(s, 2, to_unix_ms(*f.until));
  if (f.node) bind_text(s, 3, *f.node);
  if (f.checker) bind_text(s, 4, *f.checker);
  if (f.type) {
    const std::string_view type = to_string(*f.type);
    sqlite3_bind_text(s, 5, type.data(), static_cast<int>(type.size()), SQLITE_STATIC);
  }
  if (f.limit > 0) sqlite3_bind_int64(s, 6, static_cast<sqlite3_int64>(f.limit));
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    Event e;
    e.id = sqlite3_column_int64(s, 0);
    e.timestamp = from_unix_ms(sqlite3_column_int64(s, 1));
    // A type name this version does not know (written by a newer vigil): skip, never mislabel.
    const auto type = parse_event_type(column_text(s, 2));
    if (!type) continue;
    e.type = *type;
    e.node = column_text(s, 3);
    e.checker = column_text(s, 4);
    e.old_state = column_text(s, 5);
    e.new_state = column_text(s, 6);
    e.detail = column_text(s, 7);
    out->push_back(std::move(e));
  }
  if (rc != SQLITE_DONE) return error(sqlite3_extended_errcode(db_), "query");
  return {};
}

}  // namespace vigil::store::detail
