#pragma once
// AsioExecutor: the production Executor. The loop is an asio::io_context run by one thread
// (the agent's); blocking runs go to a WorkerPool. Asio stays out of this header.

#include <cstddef>
#include <map>
#include <memory>

#include "checkers/executor.hpp"
#include "checkers/worker_pool.hpp"

namespace asio {
class io_context;
}

namespace vigil::checkers {

class AsioExecutor final : public Executor {
 public:
  /// `loop` must outlive this executor. Starts `pool_threads` workers (default 4: checker runs
  /// are mostly waiting on sockets; raise it for many slow exec checkers).
  explicit AsioExecutor(asio::io_context& loop, std::size_t pool_threads = 4);
  /// Cancels timers and joins the pool (waits for running checkers: they honour deadlines).
  /// Destroy it on the loop thread after the Scheduler that uses it.
  ~AsioExecutor() override;

  // Executor
  void post(Task task) override;
  void run_blocking(Task task) override;
  TimerId schedule_at(TimePoint at, Task task) override;
  void cancel(TimerId id) override;

 private:
  struct Timers;
  asio::io_context& loop_;
  std::shared_ptr<Timers> timers_;
  WorkerPool pool_;
};

}  // namespace vigil::checkers
