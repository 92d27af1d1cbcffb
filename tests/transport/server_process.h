// The real dsd-server binary as a child process, for the tests of main.cc:
// started with flags, its standard error captured in a file, signalled, and
// waited for with generous timeouts. The binary is DSD_SERVER_BIN (set by
// CMake); the environment variable DSD_SERVER_BIN overrides it, so that the
// same tests can be run against an older build.
#ifndef DSD_TESTS_TRANSPORT_SERVER_PROCESS_H_
#define DSD_TESTS_TRANSPORT_SERVER_PROCESS_H_

#include <chrono>
#include <cstdlib>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tests/testing/child_process.h"

namespace dsd::transport::testing {

// The dsd-server binary under test.
inline std::string ServerBinary() {
  if (const char* path = std::getenv("DSD_SERVER_BIN");
      path != nullptr && *path != '\0') {
    return path;
  }
  return DSD_SERVER_BIN;
}

// One dsd-server process (see ChildProcess); `env` entries ("NAME=value")
// are added to its environment.
class ServerProcess : public dsd::testing::ChildProcess {
 public:
  explicit ServerProcess(const std::vector<std::string>& args,
                         const std::vector<std::string>& env = {})
      : ChildProcess(ServerBinary(), args, Options(env)) {}

  // Everything the process wrote to standard error so far.
  std::string Stderr() const { return Output(); }

  // Waits up to `timeout` for standard error to match `pattern`: see
  // ChildProcess::WaitForOutput.
  std::optional<std::string> WaitForStderr(const std::string& pattern,
                                           std::chrono::milliseconds timeout) {
    return WaitForOutput(pattern, timeout);
  }

  // The "host:port" dsd-server logs once it listens; empty if it did not
  // within `timeout`.
  std::string WaitForAddress(std::chrono::milliseconds timeout) {
    return WaitForOutput(R"(listening on ([0-9.]+:[0-9]+))", timeout)
        .value_or("");
  }

 private:
  static dsd::testing::ChildOptions Options(std::vector<std::string> env) {
    dsd::testing::ChildOptions options;
    options.env = std::move(env);
    return options;
  }
};

}  // namespace dsd::transport::testing

#endif  // DSD_TESTS_TRANSPORT_SERVER_PROCESS_H_
