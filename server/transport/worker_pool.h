// A fixed number of threads running submitted tasks in FIFO order: bounds
// how many requests run the engine at once (--threads; 0: one per core).
#ifndef DSD_SERVER_TRANSPORT_WORKER_POOL_H_
#define DSD_SERVER_TRANSPORT_WORKER_POOL_H_

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace dsd::transport {

// Thread-safe. The destructor runs every task already submitted, then joins
// the threads; Submit must not be called once destruction has begun.
class WorkerPool {
 public:
  // Starts `threads` threads; fewer than 1 starts 1.
  explicit WorkerPool(int threads);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues `task` to run on one of the threads.
  void Submit(std::function<void()> task);

 private:
  void Run();

  std::mutex mu_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> tasks_;  // guarded by mu_
  bool stopping_ = false;                    // guarded by mu_
  std::vector<std::thread> threads_;
};

}  // namespace dsd::transport

#endif  // DSD_SERVER_TRANSPORT_WORKER_POOL_H_
