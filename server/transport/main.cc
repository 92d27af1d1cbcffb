// dsd-server: parses flags, sets up logging, starts the gRPC server and
// serves until SIGTERM or SIGINT, then drains within --shutdown_grace and
// exits 0. Exit 2 for bad flags, 1 when the server cannot start.
//
// Signals are blocked in every thread (the mask is set before any thread
// starts and is inherited) and taken synchronously with sigwait in the main
// thread, so no work ever runs in a signal handler.
#include <malloc.h>
#include <pthread.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/stubs/logging.h"
#include "server/common/logging.h"
#include "server/transport/flags.h"
#include "server/transport/server.h"

namespace {

// One malloc arena unless MALLOC_ARENA_MAX says otherwise. A large request
// is received on one thread and decided on another; with an arena per
// thread, each keeps the memory of the request it last saw, and peak memory
// grows with the number of threads that served a large request (measured:
// 5,000 nodes, 6 requests in a row, 108 MB with the default, 102 MB with one
// arena; one request alone peaks at 101 MB). The service allocates little
// per object, so one arena costs no measurable throughput.
//
// Blocks of 64 KB and more are mmapped, and so given back to the system
// when freed, unless MALLOC_MMAP_THRESHOLD_ says otherwise: the received
// request's slices are (up to) 64 KB, and the service frees them while it
// converts the pods (see request_bytes.h); heap chunks would stay resident.
// A fixed threshold also stops glibc from raising it after the first large
// free, which would keep every later request's large blocks in the heap.
void ConfigureMalloc() {
  if (std::getenv("MALLOC_ARENA_MAX") == nullptr) mallopt(M_ARENA_MAX, 1);
  if (std::getenv("MALLOC_MMAP_THRESHOLD_") == nullptr) {
    mallopt(M_MMAP_THRESHOLD, 1024 * 1024);
  }
}

// libprotobuf logs a client's bad bytes (a string that is not UTF-8) at
// ERROR on stderr; the call gets INVALID_ARGUMENT and our own warn line, so
// its lines go to the transport logger at debug.
void ProtobufLog(google::protobuf::LogLevel level, const char* file, int line,
                 const std::string& message) {
  dsd::logging::Logger(dsd::logging::kTransportLogger)
      ->debug("libprotobuf {} {}:{}: {}", static_cast<int>(level), file, line,
              message);
}

int Run(int argc, char** argv) {
  ConfigureMalloc();
  absl::FlagsUsageConfig usage;
  // --help lists the flags of flags.cc (absl's default looks for main's
  // file name).
  usage.contains_help_flags = [](absl::string_view path) {
    return absl::EndsWith(path, "server/transport/flags.cc");
  };
  usage.contains_helpshort_flags = usage.contains_help_flags;
  absl::SetFlagsUsageConfig(usage);
  absl::SetProgramUsageMessage(
      "the dsd.v1.DaemonSetScheduler gRPC service. Decides "
      "where Kubernetes DaemonSet pods run from a snapshot of Nodes, "
      "DaemonSets and Pods.\nUsage: dsd-server [--listen=host:port] "
      "[flags]");

  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  const std::vector<char*> rest = absl::ParseCommandLine(argc, argv);
  if (rest.size() > 1) {
    std::fprintf(stderr, "dsd-server: unexpected argument \"%s\"; see --help\n",
                 rest[1]);
    return 2;
  }
  absl::StatusOr<dsd::transport::ServerOptions> options =
      dsd::transport::ServerOptionsFromFlags();
  if (!options.ok()) {
    std::fprintf(stderr, "dsd-server: %s\n",
                 std::string(options.status().message()).c_str());
    return 2;
  }
  dsd::logging::SetUpLogging(options->logging);
  auto log = dsd::logging::Logger(dsd::logging::kTransportLogger);
  google::protobuf::SetLogHandler(&ProtobufLog);

  absl::StatusOr<std::unique_ptr<dsd::transport::Server>> server =
      dsd::transport::Server::Start(*options);
  if (!server.ok()) {
    log->error("cannot start: {}", std::string(server.status().message()));
    return 1;
  }
  log->info("dsd-server listening on {} ({})", (*server)->Address(),
            options->tls_cert_file.empty()
                ? "plaintext"
                : (options->tls_client_ca_file.empty() ? "TLS" : "mutual TLS"));
  if (!(*server)->MetricsAddress().empty()) {
    log->info("metrics on http://{}/metrics", (*server)->MetricsAddress());
  }

  int signal_number = 0;
  while (sigwait(&stop_signals, &signal_number) != 0) {
  }
  log->info("received {}; draining for up to {}",
            signal_number == SIGTERM ? "SIGTERM" : "SIGINT",
            absl::FormatDuration(options->shutdown_grace));
  (*server)->Shutdown(options->shutdown_grace);
  log->info("stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return Run(argc, argv); }
