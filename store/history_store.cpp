#include "store/history_store.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <system_error>
#include <utility>

#include <sys/stat.h>

#include "store/sqlite_db.hpp"

namespace vigil::store {
namespace {

/// Rows deleted per eviction transaction (keeps each write transaction short).
constexpr std::size_t kEvictChunk = 5000;

int busy_ms(const StoreConfig& c) {
  return static_cast<int>(c.busy_timeout.count());
}

}  // namespace

HistoryStore::HistoryStore(StoreConfig config) : cfg_(std::move(config)) {
  if (auto errors = cfg_.validate(); !errors.empty()) {
    std::string all;
    for (const auto& e : errors) all += (all.empty() ? "" : "; ") + e;
    throw std::invalid_argument(all);
  }
  if (!cfg_.clock) {
    cfg_.clock = [] {
      return std::chrono::time_point_cast<std::chrono::milliseconds>(
          std::chrono::system_clock::now());
    };
  }
  path_ = cfg_.data_dir;
  if (path_.back() != '/') path_ += '/';
  path_ += "history.db";
  db_ = std::make_unique<detail::Db>();
}

HistoryStore::~HistoryStore() {
  stop();
}

void HistoryStore::log(std::string_view level, const std::string& line) const {
  if (cfg_.log) cfg_.log(level, "store: " + line);
}

Timestamp HistoryStore::now() const {
  return cfg_.clock();
}

void HistoryStore::set_degraded(std::string reason) {
  std::lock_guard lk(health_mu_);
  if (health_.ok || health_.reason != reason) {
    log("warn", "degraded reason=\"" + reason + "\" path=" + path_);
  }
  health_ = StoreHealth{false, std::move(reason)};
}

void HistoryStore::set_ok() {
  std::lock_guard lk(health_mu_);
  if (!health_.ok) log("info", "recovered path=" + path_);
  health_ = StoreHealth{};
}

StoreHealth HistoryStore::health() const {
  std::lock_guard lk(health_mu_);
  return health_;
}

std::uint64_t HistoryStore::errors_total() const {
  return errors_.load();
}
std::uint64_t HistoryStore::dropped_total() const {
  return dropped_.load();
}

StoreStats HistoryStore::stats() const {
  StoreStats s;
  s.appended_total = appended_.load();
  s.written_total = written_.load();
  s.dropped_total = dropped_.load();
  s.errors_total = errors_.load();
  s.evicted_total = evicted_.load();
  s.in_memory = ring_size_.load();
  std::lock_guard lk(mu_);
  s.queued = queue_.size();
  return s;
}

// ---------------------------------------------------------------- lifecycle

void HistoryStore::start() {
  {
    std::lock_guard lk(mu_);
    if (started_) return;
    started_ = true;
  }
  last_eviction_ = now();
  if (try_open()) set_ok();
  writer_ = std::thread([this] { run(); });
}

void HistoryStore::stop() {
  {
    std::lock_guard lk(mu_);
    if (stop_ || !started_) {
      stop_ = true;
      return;
    }
    stop_ = true;
  }
  cv_.notify_all();
  if (writer_.joinable()) writer_.join();
  db_->close();
  std::lock_guard lk(readers_mu_);
  idle_readers_.clear();
}

// ---------------------------------------------------------------- append / flush

void HistoryStore::append(Event e) {
  if (to_unix_ms(e.timestamp) == 0) e.timestamp = now();
  e.id = 0;
  appended_.fetch_add(1, std::memory_order_relaxed);
  bool wake = false;
  {
    std::lock_guard lk(mu_);
    if (queue_.empty()) oldest_queued_ = std::chrono::steady_clock::now();
    if (queue_.size() >= cfg_.queue_capacity) {
      queue_.pop_front();
      dropped_.fetch_add(1, std::memory_order_relaxed);
    }
    queue_.push_back(std::move(e));
    ++next_seq_;
    wake = queue_.size() >= cfg_.max_batch;
  }
  if (wake) cv_.notify_one();
}

bool HistoryStore::flush(std::chrono::milliseconds timeout) {
  std::unique_lock lk(mu_);
  const std::uint64_t target = next_seq_;
  if (done_upto_ >= target) return true;
  if (!started_ || stop_) return false;
  flush_requested_ = true;
  cv_.notify_one();
  return done_cv_.wait_for(lk, timeout, [&] { return done_upto_ >= target || stop_; }) &&
         done_upto_ >= target;
}

// ---------------------------------------------------------------- writer thread

void HistoryStore::run() {
  // First, before any batch: what expired while the agent was down, or under a retention
  // shortened since (on the writer thread, so a long delete does not hold up start()).
  if (db_->is_open()) evict_if_due(true);
  std::vector<Event> batch;
  std::unique_lock lk(mu_);
  for (;;) {
    const auto now_steady = std::chrono::steady_clock::now();
    const auto deadline =
        queue_.empty() ? now_steady + cfg_.flush_interval : oldest_queued_ + cfg_.flush_interval;
    cv_.wait_until(lk, deadline, [&] {
      return stop_ || flush_requested_ || queue_.size() >= cfg_.max_batch ||
             (!queue_.empty() && std::chrono::steady_clock::now() >= deadline);
    });
    const bool stopping = stop_;
    const std::size_t n = std::min(queue_.size(), cfg_.max_batch);
    batch.clear();
    batch.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      batch.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    // A remainder keeps the old oldest_queued_ (<= its real age), so it is committed at once.
    if (queue_.empty()) flush_requested_ = false;
    const std::uint64_t upto = next_seq_ - queue_.size();
    const bool last = stopping && queue_.empty();
    lk.unlock();

    process(batch);
    maintain(last);  // on the way out, one more attempt to write a degraded backlog

    lk.lock();
    done_upto_ = upto;
    done_cv_.notify_all();
    if (stopping && queue_.empty()) break;
  }
}

void HistoryStore::keep_in_memory(std::vector<Event>& batch) {
  std::unique_lock lk(ring_mu_);
  for (Event& e : batch) {
    e.id = 0;
    if (ring_.size() >= cfg_.memory_capacity) {
      ring_.pop_front();
      dropped_.fetch_add(1, std::memory_order_relaxed);
    }
    ring_.push_back(std::move(e));
  }
  ring_size_.store(ring_.size());
}

void HistoryStore::process(std::vector<Event>& batch) {
  if (batch.empty()) return;
  // Degraded (no database, or an older backlog still unwritten): keep order, write later.
  if (!db_->is_open() || ring_size_.load() > 0) {
    keep_in_memory(batch);
    return;
  }
  if (detail::DbError e = db_->insert(batch)) {
    errors_.fetch_add(1);
    corrupt_ = corrupt_ || e.corrupt();
    if (corrupt_) db_->close();
    set_degraded(e.message);
    next_retry_ = std::chrono::steady_clock::now() + cfg_.retry_interval;
    keep_in_memory(batch);
    return;
  }
  written_.fetch_add(batch.size());
}

void HistoryStore::maintain(bool final_attempt) {
  const bool degraded = !db_->is_open() || ring_size_.load() > 0;
  if (degraded && (final_attempt || std::chrono::steady_clock::now() >= next_retry_)) {
    next_retry_ = std::chrono::steady_clock::now() + cfg_.retry_interval;
    if ((db_->is_open() || try_open()) && write_backlog()) set_ok();
  }
  if (db_->is_open()) evict_if_due();
}

bool HistoryStore::try_open() {
  if (corrupt_) quarantine();
  // One level of mkdir; failure shows up as the open error below.
  if (::mkdir(cfg_.data_dir.c_str(), 0755) != 0 && errno != EEXIST) {
    errors_.fetch_add(1);
    set_degraded("create " + cfg_.data_dir + ": " + std::strerror(errno));
    return false;
  }
  detail::DbError e = db_->open_writer(path_, busy_ms(cfg_));
  if (e && e.corrupt()) {
    corrupt_ = true;
    errors_.fetch_add(1);
    quarantine();
    e = db_->open_writer(path_, busy_ms(cfg_));
  }
  if (e) {
    errors_.fetch_add(1);
    corrupt_ = e.corrupt();
    set_degraded("open " + path_ + ": " + e.message);
    next_retry_ = std::chrono::steady_clock::now() + cfg_.retry_interval;
    return false;
  }
  return true;
}

void HistoryStore::quarantine() {
  db_->close();
  const std::string suffix = ".corrupt-" + std::to_string(to_unix_ms(now()));
  for (const char* ext : {"", "-wal", "-shm"}) {
    const std::string from = path_ + ext;
    const std::string to = path_ + suffix + ext;
    if (std::rename(from.c_str(), to.c_str()) == 0) {
      log("warn", "corrupt database set aside file=" + to);
    }
  }
  corrupt_ = false;
  generation_.fetch_add(1);
}

bool HistoryStore::write_backlog() {
  // Bounded: the ring only shrinks here (the writer is the only thread that modifies it).
  while (ring_size_.load() > 0) {
    std::unique_lock lk(ring_mu_);  // exclusive: queries never see an event twice
    const std::size_t n = std::min(ring_.size(), cfg_.max_batch);
    std::vector<Event> chunk(ring_.begin(), ring_.begin() + static_cast<std::ptrdiff_t>(n));
    if (detail::DbError e = db_->insert(chunk)) {
      errors_.fetch_add(1);
      corrupt_ = corrupt_ || e.corrupt();
      if (corrupt_) db_->close();
      set_degraded(e.message);
      return false;
    }
    ring_.erase(ring_.begin(), ring_.begin() + static_cast<std::ptrdiff_t>(n));
    ring_size_.store(ring_.size());
    written_.fetch_add(n);
  }
  return true;
}

void HistoryStore::evict_if_due(bool force) {
  const Timestamp t = now();
  if (!force && t - last_eviction_ < cfg_.eviction_interval && t >= last_eviction_) return;
  last_eviction_ = t;
  const Timestamp cutoff = t - cfg_.retention;
  std::size_t deleted = 0;
  if (detail::DbError e = db_->evict_before(cutoff, kEvictChunk, &deleted)) {
    errors_.fetch_add(1);
    log("warn", "retention eviction failed error=\"" + e.message + "\"");
  }
  {
    std::unique_lock lk(ring_mu_);
    const auto keep = std::find_if(ring_.begin(), ring_.end(),
                                   [&](const Event& e) { return e.timestamp >= cutoff; });
    deleted += static_cast<std::size_t>(keep - ring_.begin());
    ring_.erase(ring_.begin(), keep);
    ring_size_.store(ring_.size());
  }
  evicted_.fetch_add(deleted);
  if (deleted > 0) log("debug", "evicted events=" + std::to_string(deleted));
}

// ---------------------------------------------------------------- queries (caller's thread)

QueryResult HistoryStore::query(const EventFilter& filter) const {
  QueryResult result;
  std::shared_lock ring_lk(ring_mu_);
  std::vector<Event> memory;
  for (const Event& e : ring_) {
    if (matches(filter, e)) memory.push_back(e);
  }

  // Borrow a reader of the current database generation, or open one.
  std::unique_ptr<detail::Db> reader;
  {
    std::lock_guard lk(readers_mu_);
    if (readers_generation_ != generation_.load()) {
      idle_readers_.clear();
      readers_generation_ = generation_.load();
    }
    if (!idle_readers_.empty()) {
      reader = std::move(idle_readers_.back());
      idle_readers_.pop_back();
    }
  }
  const std::uint64_t gen = generation_.load();
  detail::DbError err;
  if (!reader) {
    reader = std::make_unique<detail::Db>();
    err = reader->open_reader(path_, busy_ms(cfg_));
  }
  std::vector<Event> stored;
  if (!err) err = reader->query(filter, &stored);
  if (err) {
    errors_.fetch_add(1);
    result.memory_only = true;
    result.reason = err.message;
    stored.clear();
  } else {
    std::lock_guard lk(readers_mu_);
    if (gen == readers_generation_ && idle_readers_.size() < cfg_.max_idle_readers) {
      idle_readers_.push_back(std::move(reader));
    }
  }
  ring_lk.unlock();

  // Unpersisted events are in append order; merge by timestamp after the stored ones.
  std::stable_sort(memory.begin(), memory.end(),
                   [](const Event& a, const Event& b) { return a.timestamp < b.timestamp; });
  result.events.reserve(stored.size() + memory.size());
  std::merge(std::make_move_iterator(stored.begin()), std::make_move_iterator(stored.end()),
             std::make_move_iterator(memory.begin()), std::make_move_iterator(memory.end()),
             std::back_inserter(result.events),
             [](const Event& a, const Event& b) { return a.timestamp < b.timestamp; });
  if (filter.limit > 0 && result.events.size() > filter.limit) {
    result.events.erase(result.events.begin(),
                        result.events.end() - static_cast<std::ptrdiff_t>(filter.limit));
  }
  return result;
}

}  // namespace vigil::store
