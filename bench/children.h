// What the cluster benchmarks (adapter_scale, apply_scale) share: child
// processes started with their output in a file and stopped with SIGTERM,
// a free loopback port, percentiles, the time of one Decide.
// Header-only, for two programs.
#ifndef DSD_BENCH_CHILDREN_H_
#define DSD_BENCH_CHILDREN_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "bench/timing.h"
#include "dsd/v1/dsd.grpc.pb.h"

namespace dsd::bench {

// Runs `args` (argv[0] a path) with stdout and stderr in `log`.
inline pid_t Spawn(const std::vector<std::string>& args,
                   const std::string& log) {
  const pid_t pid = fork();
  if (pid == 0) {
    std::vector<char*> argv;
    std::vector<std::string> copy = args;
    for (std::string& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (!freopen(log.c_str(), "w", stdout) ||
        !freopen(log.c_str(), "a", stderr)) {
      _exit(126);
    }
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

// SIGTERM, up to 5 s, then SIGKILL.
inline void Stop(pid_t pid) {
  if (pid <= 0) return;
  kill(pid, SIGTERM);
  for (int i = 0; i < 100; ++i) {
    if (waitpid(pid, nullptr, WNOHANG) == pid) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
}

// A port free now (bound to 0, read, closed).
inline int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  int port = -1;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

// The nearest-rank percentile `p` (0..1) of `v`; -1 when empty.
inline double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return -1;
  std::sort(v.begin(), v.end());
  const size_t i =
      static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

// Up to `runs` timings of Decide(`request`) on `stub`, in seconds; a
// failed call (the server still starting) is retried after 100 ms, at most
// `attempts` calls in all. Empty when none succeeded.
inline std::vector<double> DecideSeconds(v1::DaemonSetScheduler::Stub& stub,
                                         const v1::DecideRequest& request,
                                         size_t runs = 3, int attempts = 100) {
  std::vector<double> out;
  for (int attempt = 0; attempt < attempts && out.size() < runs; ++attempt) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(300));
    v1::DecideResponse response;
    const auto start = Clock::now();
    if (stub.Decide(&context, request, &response).ok()) {
      out.push_back(Seconds(Clock::now() - start));
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  return out;
}

}  // namespace dsd::bench

#endif  // DSD_BENCH_CHILDREN_H_
