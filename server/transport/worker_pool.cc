// One mutex-guarded queue: a request spends milliseconds or more in the
// engine, so a short lock per submission is far off the critical path.
#include "server/transport/worker_pool.h"

#include <pthread.h>

#include <utility>

namespace dsd::transport {

WorkerPool::WorkerPool(int threads) {
  const int count = threads < 1 ? 1 : threads;
  threads_.reserve(static_cast<size_t>(count));
  for (int i = 0; i < count; ++i) {
    threads_.emplace_back([this] {
      // Named for `top -H` and `ps -L` at 3 a.m. (at most 15 characters).
      pthread_setname_np(pthread_self(), "dsd-worker");
      Run();
    });
  }
}

WorkerPool::~WorkerPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  ready_.notify_all();
  for (std::thread& thread : threads_) thread.join();
}

void WorkerPool::Submit(std::function<void()> task) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    tasks_.push_back(std::move(task));
  }
  ready_.notify_one();
}

void WorkerPool::Run() {
  while (true) {
    std::function<void()> task;
    {
      std::unique_lock<std::mutex> lock(mu_);
      ready_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
      // Drain before exiting: every queued call must still be finished.
      if (tasks_.empty()) return;
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    task();
  }
}

}  // namespace dsd::transport
