// The real dsd-server binary as a child process, for the tests of main.cc:
// started with flags, its standard error captured in a file, signalled, and
// waited for with generous timeouts. The binary is DSD_SERVER_BIN (set by
// CMake); the environment variable DSD_SERVER_BIN overrides it, so that the
// same tests can be run against an older build.
#ifndef DSD_TESTS_TRANSPORT_SERVER_PROCESS_H_
#define DSD_TESTS_TRANSPORT_SERVER_PROCESS_H_

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace dsd::transport::testing {

// The dsd-server binary under test.
inline std::string ServerBinary() {
  if (const char* path = std::getenv("DSD_SERVER_BIN");
      path != nullptr && *path != '\0') {
    return path;
  }
  return DSD_SERVER_BIN;
}

// One dsd-server process. The destructor kills it (SIGKILL) if it still
// runs, so that a failing test leaves nothing behind.
class ServerProcess {
 public:
  // Starts dsd-server with `args`; `env` entries ("NAME=value") are added
  // to the environment. Check with running().
  explicit ServerProcess(const std::vector<std::string>& args,
                         const std::vector<std::string>& env = {}) {
    std::string pattern = ::testing::TempDir() + "dsd-server-stderr-XXXXXX";
    const int fd = mkstemp(pattern.data());
    if (fd < 0) {
      ADD_FAILURE() << "mkstemp failed";
      return;
    }
    stderr_path_ = pattern;
    std::vector<std::string> argv_storage = {ServerBinary()};
    argv_storage.insert(argv_storage.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& a : argv_storage) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<std::string> env_storage = env;
    pid_ = fork();
    if (pid_ == 0) {
      const int null = open("/dev/null", O_RDWR);
      dup2(null, 0);
      dup2(null, 1);
      dup2(fd, 2);
      for (std::string& e : env_storage) putenv(e.data());
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(fd);
    if (pid_ < 0) ADD_FAILURE() << "fork failed";
  }

  ~ServerProcess() {
    if (pid_ > 0 && !exit_code_.has_value()) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (!stderr_path_.empty()) unlink(stderr_path_.c_str());
  }
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  bool running() const { return pid_ > 0 && !exit_code_.has_value(); }

  // Everything the process wrote to standard error so far.
  std::string Stderr() const {
    std::ifstream in(stderr_path_);
    return std::string(std::istreambuf_iterator<char>(in),
                       std::istreambuf_iterator<char>());
  }

  // Waits up to `timeout` for standard error to match `pattern` (searched,
  // not anchored) and returns the first match's group 1 (or the whole
  // match); nullopt on timeout or when the process exits first.
  std::optional<std::string> WaitForStderr(const std::string& pattern,
                                           std::chrono::milliseconds timeout) {
    const std::regex re(pattern);
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (true) {
      const std::string text = Stderr();
      std::smatch m;
      if (std::regex_search(text, m, re)) {
        return m.size() > 1 && m[1].matched ? m[1].str() : m[0].str();
      }
      if (!Poll() || std::chrono::steady_clock::now() >= end) {
        // One last look: the line may have come with the exit.
        const std::string last = Stderr();
        if (std::regex_search(last, m, re)) {
          return m.size() > 1 && m[1].matched ? m[1].str() : m[0].str();
        }
        return std::nullopt;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

  // The "host:port" dsd-server logs once it listens; empty if it did not
  // within `timeout`.
  std::string WaitForAddress(std::chrono::milliseconds timeout) {
    return WaitForStderr(R"(listening on ([0-9.]+:[0-9]+))", timeout)
        .value_or("");
  }

  void Signal(int signal_number) {
    if (running()) kill(pid_, signal_number);
  }

  // Waits up to `timeout` for the process to exit; its exit code (128 +
  // signal number when killed by a signal), or nullopt if it still runs.
  std::optional<int> WaitForExit(std::chrono::milliseconds timeout) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (Poll() && std::chrono::steady_clock::now() < end) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return exit_code_;
  }

 private:
  // Reaps the process if it exited; true while it runs.
  bool Poll() {
    if (pid_ <= 0 || exit_code_.has_value()) return false;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) != pid_) return true;
    exit_code_ =
        WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return false;
  }

  pid_t pid_ = -1;
  std::optional<int> exit_code_;
  std::string stderr_path_;
};

}  // namespace dsd::transport::testing

#endif  // DSD_TESTS_TRANSPORT_SERVER_PROCESS_H_
