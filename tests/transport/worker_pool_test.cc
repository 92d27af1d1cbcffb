// WorkerPool: every task runs once, at most `threads` at a time, the
// destructor drains the queue, and the threads carry a name operators see.
#include "server/transport/worker_pool.h"

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <ostream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/param_name.h"

namespace dsd::transport {
namespace {

struct Row {
  std::string name;
  int threads;   // asked for
  int expected;  // threads the pool runs (at least 1)
};

void PrintTo(const Row& row, std::ostream* os) {
  *os << row.name << " (threads " << row.threads << ")";
}

class WorkerPoolTest : public ::testing::TestWithParam<Row> {};

// Tasks hold a gate until as many as can run at once are running, so the
// test sees the pool's real width, not a guess from timing.
TEST_P(WorkerPoolTest, RunsEveryTaskOnceAtMostThreadsAtATime) {
  const Row& row = GetParam();
  constexpr int kTasks = 40;
  std::mutex mu;
  std::condition_variable changed;
  int running = 0;
  int most = 0;
  std::vector<int> runs(kTasks, 0);
  {
    WorkerPool pool(row.threads);
    for (int i = 0; i < kTasks; ++i) {
      pool.Submit([&, i] {
        std::unique_lock<std::mutex> lock(mu);
        ++runs[static_cast<size_t>(i)];
        most = std::max(most, ++running);
        changed.notify_all();
        // The first wave waits (bounded) until the pool is full.
        changed.wait_for(lock, std::chrono::milliseconds(200),
                         [&] { return most >= row.expected; });
        --running;
      });
    }
  }  // the destructor runs every queued task before joining
  EXPECT_EQ(most, row.expected);
  EXPECT_THAT(runs, ::testing::Each(1));
}

TEST_P(WorkerPoolTest, ThreadsAreNamedDsdWorker) {
  std::mutex mu;
  std::vector<std::string> names;
  {
    WorkerPool pool(GetParam().threads);
    for (int i = 0; i < 8; ++i) {
      pool.Submit([&] {
        char name[16] = {};
        pthread_getname_np(pthread_self(), name, sizeof(name));
        std::lock_guard<std::mutex> lock(mu);
        names.emplace_back(name);
      });
    }
  }
  ASSERT_EQ(names.size(), 8U);
  EXPECT_THAT(names, ::testing::Each(std::string("dsd-worker")));
}

INSTANTIATE_TEST_SUITE_P(Widths, WorkerPoolTest,
                         ::testing::Values(Row{"Zero", 0, 1}, Row{"One", 1, 1},
                                           Row{"Two", 2, 2}, Row{"Four", 4, 4}),
                         dsd::testing::ParamName<Row>);

}  // namespace
}  // namespace dsd::transport
