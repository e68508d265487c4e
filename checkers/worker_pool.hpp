#pragma once
// WorkerPool: a small, fixed set of threads running blocking tasks (checker runs) in FIFO order.

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace vigil::checkers {

class WorkerPool {
 public:
  /// Starts `threads` workers (at least 1).
  explicit WorkerPool(std::size_t threads);
  /// Calls stop().
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  /// Queues a task. Any thread. Ignored after stop().
  void submit(std::function<void()> task);
  /// Drops queued tasks, waits for running ones to return and joins the threads. Idempotent;
  /// not from a worker thread.
  void stop();
  /// Number of tasks queued but not started.
  std::size_t queued() const;

 private:
  void work();

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace vigil::checkers
