#pragma once
// InMemoryHistory: a hand-written fake of the history store for API/agent tests. Same query
// semantics as HistoryStore (filters, newest `limit`, oldest first; checked against it in
// test/store/history_store_test.cpp), no SQLite, no thread. Header-only; link nothing.

#include <algorithm>
#include <mutex>
#include <vector>

#include "store/history.hpp"

namespace vigil::test {

class InMemoryHistory final : public store::HistoryReader, public store::HistoryWriter {
 public:
  /// Timestamp given to events appended with a zero one.
  store::Timestamp now = store::from_unix_ms(1'800'000'000'000);

  void append(store::Event e) override {
    std::lock_guard lk(mu_);
    if (store::to_unix_ms(e.timestamp) == 0) e.timestamp = now;
    e.id = static_cast<std::int64_t>(events_.size()) + 1;
    events_.push_back(std::move(e));
  }
  store::QueryResult query(const store::EventFilter& f) const override {
    std::lock_guard lk(mu_);
    store::QueryResult r;
    for (const auto& e : events_) {
      if (store::matches(f, e)) r.events.push_back(e);
    }
    std::stable_sort(r.events.begin(), r.events.end(),
                     [](const auto& a, const auto& b) { return a.timestamp < b.timestamp; });
    if (f.limit > 0 && r.events.size() > f.limit) {
      r.events.erase(r.events.begin(), r.events.end() - static_cast<std::ptrdiff_t>(f.limit));
    }
    r.memory_only = !health_.ok;
    r.reason = health_.reason;
    return r;
  }
  store::StoreHealth health() const override {
    std::lock_guard lk(mu_);
    return health_;
  }
  std::uint64_t errors_total() const override {
    std::lock_guard lk(mu_);
    return errors_;
  }

  /// Test controls: pretend the store is degraded and has counted `errors` failures.
  void set_health(store::StoreHealth h, std::uint64_t errors) {
    std::lock_guard lk(mu_);
    health_ = std::move(h);
    errors_ = errors;
  }

 private:
  mutable std::mutex mu_;
  std::vector<store::Event> events_;
  store::StoreHealth health_;
  std::uint64_t errors_ = 0;
};

}  // namespace vigil::test
