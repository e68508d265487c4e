#pragma once
// Helpers shared by the store tests: temp dirs, a manual wall clock, event builders, raw SQLite.

#include <sqlite3.h>
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include "store/history_store.hpp"

namespace vigil::store::test {

/// A fresh directory under $TMPDIR (or /tmp), removed with its content on destruction.
class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base ? base : "/tmp") + "/vigil-store-XXXXXX";
    path_ = ::mkdtemp(tmpl.data()) ? tmpl : std::string{};
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

/// A wall clock the test moves by hand.
struct ManualClock {
  std::atomic<std::int64_t> ms{1'800'000'000'000};  // 2027-01-15
  Timestamp now() const { return from_unix_ms(ms.load()); }
  void advance(std::chrono::milliseconds d) { ms += d.count(); }
  WallClock fn() {
    return [this] { return now(); };
  }
};

inline Event make_event(Timestamp ts, EventType type, std::string node, std::string checker = "",
                        std::string detail = "") {
  Event e;
  e.timestamp = ts;
  e.type = type;
  e.node = std::move(node);
  e.checker = std::move(checker);
  e.old_state = "running";
  e.new_state = "failed";
  e.detail = std::move(detail);
  return e;
}

/// A config with short intervals so tests do not wait for defaults.
inline StoreConfig fast_config(const std::string& dir) {
  StoreConfig c;
  c.data_dir = dir;
  c.flush_interval = std::chrono::milliseconds{20};
  c.retry_interval = std::chrono::milliseconds{50};
  c.busy_timeout = std::chrono::milliseconds{100};
  return c;
}

/// Polls `pred` every 10 ms for at most `limit`; returns its last value.
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = std::chrono::seconds{30}) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  }
  return pred();
}

/// Runs a single-value SQL statement on `path` with a private connection; "" on error.
inline std::string sql_value(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  std::string out;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK) {
    sqlite3_busy_timeout(db, 5000);
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0)) {
      out = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    }
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  return out;
}

}  // namespace vigil::store::test
