#include "checkers/asio_executor.hpp"

#include <asio.hpp>

namespace vigil::checkers {

struct AsioExecutor::Timers {
  std::map<TimerId, std::unique_ptr<asio::steady_timer>> live;
  TimerId next = 0;
};

AsioExecutor::AsioExecutor(asio::io_context& loop, std::size_t pool_threads)
    : loop_(loop), timers_(std::make_shared<Timers>()), pool_(pool_threads) {}

AsioExecutor::~AsioExecutor() {
  for (auto& [id, t] : timers_->live) t->cancel();
  timers_->live.clear();
  pool_.stop();
}

void AsioExecutor::post(Task task) {
  asio::post(loop_, std::move(task));
}

void AsioExecutor::run_blocking(Task task) {
  pool_.submit(std::move(task));
}

Executor::TimerId AsioExecutor::schedule_at(TimePoint at, Task task) {
  TimerId id = ++timers_->next;
  auto timer = std::make_unique<asio::steady_timer>(loop_, at);
  std::weak_ptr<Timers> weak = timers_;
  timer->async_wait([weak, id, task = std::move(task)](const std::error_code& ec) {
    auto timers = weak.lock();
    // Cancelled, or cancelled after it had already fired and was queued: not run.
    if (ec || !timers || timers->live.erase(id) == 0) return;
    task();
  });
  timers_->live.emplace(id, std::move(timer));
  return id;
}

void AsioExecutor::cancel(TimerId id) {
  auto it = timers_->live.find(id);
  if (it == timers_->live.end()) return;
  it->second->cancel();
  timers_->live.erase(it);
}

}  // namespace vigil::checkers
