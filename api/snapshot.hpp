#pragma once
// SnapshotCell<T>: the hand-off of immutable state from the loop thread to HTTP handlers.
// The loop builds a new T and publish()es it; handlers load() a shared_ptr<const T> and read
// it as long as they like. Nobody mutates a published T.

#include <memory>
#include <mutex>

namespace vigil::api {

template <class T>
class SnapshotCell {
 public:
  /// Replaces the current snapshot. Any thread (normally the loop thread).
  void publish(std::shared_ptr<const T> next) {
    std::lock_guard lock(mu_);
    current_ = std::move(next);
  }
  /// The current snapshot, or nullptr before the first publish(). Any thread.
  std::shared_ptr<const T> load() const {
    std::lock_guard lock(mu_);
    return current_;
  }

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const T> current_;
};

}  // namespace vigil::api
