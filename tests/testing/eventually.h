// Eventually: polls a condition until it holds or a timeout passes, for the
// tests that wait on other threads or processes.
#ifndef DSD_TESTS_TESTING_EVENTUALLY_H_
#define DSD_TESTS_TESTING_EVENTUALLY_H_

#include <chrono>
#include <thread>

namespace dsd::testing {

// Calls `done` every `poll` until it returns true or `timeout` has passed;
// returns its last answer.
template <typename F>
bool Eventually(
    F done, std::chrono::milliseconds timeout,
    std::chrono::milliseconds poll = std::chrono::milliseconds(20)) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    if (done()) return true;
    std::this_thread::sleep_for(poll);
  }
  return done();
}

}  // namespace dsd::testing

#endif  // DSD_TESTS_TESTING_EVENTUALLY_H_
