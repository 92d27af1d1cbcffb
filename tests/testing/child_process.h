// A program under test as a child process, for the tests that drive the
// real binaries (dsd-server, dsd-extender, dsd-adapter): started with
// flags, its standard error (and, if asked, standard output) captured in a
// file, signalled, and waited for with generous timeouts. The destructor
// kills it (SIGKILL) if it still runs, so a failing test leaves nothing
// behind.
#ifndef DSD_TESTS_TESTING_CHILD_PROCESS_H_
#define DSD_TESTS_TESTING_CHILD_PROCESS_H_

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
#include <vector>

#include "gtest/gtest.h"

namespace dsd::testing {

struct ChildOptions {
  // Added to the child's environment ("NAME=value").
  std::vector<std::string> env;
  // Removed from the child's environment (e.g. KUBECONFIG, so a test never
  // reads the developer's cluster).
  std::vector<std::string> unset_env;
  // Capture standard output too, in the same file; otherwise it goes to
  // /dev/null.
  bool capture_stdout = false;
  // Else, when set: standard output alone goes to this file (created or
  // truncated), e.g. a JSON document to parse.
  std::string stdout_path;
};

class ChildProcess {
 public:
  // Starts `binary` with `args`. Check with started().
  ChildProcess(const std::string& binary, const std::vector<std::string>& args,
               const ChildOptions& options = {}) {
    std::string pattern = ::testing::TempDir() + "dsd-child-output-XXXXXX";
    const int fd = mkstemp(pattern.data());
    if (fd < 0) {
      ADD_FAILURE() << "mkstemp failed";
      return;
    }
    output_path_ = pattern;
    std::vector<std::string> argv_storage = {binary};
    argv_storage.insert(argv_storage.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& a : argv_storage) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<std::string> env_storage = options.env;
    const int out = options.stdout_path.empty()
                        ? -1
                        : open(options.stdout_path.c_str(),
                               O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    pid_ = fork();
    if (pid_ == 0) {
      const int null = open("/dev/null", O_RDWR);
      dup2(null, 0);
      dup2(options.capture_stdout ? fd : out >= 0 ? out : null, 1);
      dup2(fd, 2);
      for (const std::string& name : options.unset_env) unsetenv(name.c_str());
      for (std::string& e : env_storage) putenv(e.data());
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(fd);
    if (out >= 0) close(out);
    if (pid_ < 0) ADD_FAILURE() << "fork failed";
  }

  ~ChildProcess() {
    if (pid_ > 0 && !exit_code_.has_value()) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (!output_path_.empty()) unlink(output_path_.c_str());
  }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // The fork succeeded (the program may have exited since).
  bool started() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  // Still running now (reaps it if it exited).
  bool running() { return Poll(); }

  // Everything the process wrote so far (standard error, and standard
  // output with capture_stdout).
  std::string Output() const {
    std::ifstream in(output_path_);
    return std::string(std::istreambuf_iterator<char>(in),
                       std::istreambuf_iterator<char>());
  }

  // Waits up to `timeout` for the output to match `pattern` (searched, not
  // anchored) and returns the first match's group 1 (or the whole match);
  // nullopt on timeout or when the process exits first.
  std::optional<std::string> WaitForOutput(const std::string& pattern,
                                           std::chrono::milliseconds timeout) {
    const std::regex re(pattern);
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (true) {
      const bool was_running = Poll();
      // Read after polling: a line written just before the exit is seen.
      const std::string text = Output();
      std::smatch m;
      if (std::regex_search(text, m, re)) {
        return m.size() > 1 && m[1].matched ? m[1].str() : m[0].str();
      }
      if (!was_running || std::chrono::steady_clock::now() >= end) {
        return std::nullopt;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

  void Signal(int signal_number) {
    if (Poll()) kill(pid_, signal_number);
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
  std::string output_path_;
};

}  // namespace dsd::testing

#endif  // DSD_TESTS_TESTING_CHILD_PROCESS_H_
