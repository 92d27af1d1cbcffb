// dsd-server: parses flags, sets up logging, starts the gRPC server and
// serves until SIGTERM or SIGINT. Then health turns NOT_SERVING while it
// keeps serving for --lameduck seconds (a second signal ends that early),
// drains within --shutdown_grace and exits 0. A call that ignores its
// cancellation does not hold the process: it exits 1 at most
// Server::kAbandonAfter past the grace period. Exit 2 for bad flags
// (unknown, unparsable or out of range), 1 when the server cannot start.
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

#include "absl/algorithm/container.h"
#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "google/protobuf/stubs/logging.h"
#include "grpc/support/log.h"
#include "server/common/logging.h"
#include "server/transport/flags.h"
#include "server/transport/server.h"
#include "spdlog/spdlog.h"

namespace {

// One malloc arena unless MALLOC_ARENA_MAX says otherwise. A large request
// is received on one thread and decided on another; with an arena per
// thread, each keeps chunks of the requests it saw, and the peak grows with
// the threads that served one (measured: 5,000 nodes, 6 requests in a row,
// 83 MB with 8 arenas, 74 MB with one). The rest of the memory policy is in
// request_bytes.cc (trimming as slices are freed) and grpc_service.cc
// (trimming after a large request). A fixed mmap threshold (1 MB, so that
// large blocks never stay in the heap) measured 25% slower Decide handlers
// at 5,000 nodes, from page faults: the default, dynamic one is kept.
void ConfigureMalloc() {
  if (std::getenv("MALLOC_ARENA_MAX") == nullptr) mallopt(M_ARENA_MAX, 1);
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

// The first usage error absl's parser would exit 1 on (a flag that does
// not exist, a value that does not parse), as a message; "" when there is
// none. dsd-server's usage errors exit 2. Stops at "--".
std::string FlagError(int argc, char** argv) {
  static constexpr absl::string_view kBuiltIn[] = {
      "help",     "helpfull", "helpshort",  "helppackage", "version",
      "flagfile", "fromenv",  "tryfromenv", "undefok",     "only_check_args"};
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (arg == "--") break;
    if (!absl::ConsumePrefix(&arg, "-")) continue;
    absl::ConsumePrefix(&arg, "-");
    const size_t equals = arg.find('=');
    const absl::string_view name = arg.substr(0, equals);
    if (absl::c_linear_search(kBuiltIn, name)) continue;
    absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    if (flag == nullptr) {
      // A boolean's negation, --nofoo.
      if (absl::StartsWith(name, "no") && equals == absl::string_view::npos) {
        const absl::CommandLineFlag* negated =
            absl::FindCommandLineFlag(name.substr(2));
        if (negated != nullptr && negated->IsOfType<bool>()) continue;
      }
      return absl::StrCat("unknown flag --", name);
    }
    absl::string_view value;
    if (equals != absl::string_view::npos) {
      value = arg.substr(equals + 1);
    } else if (flag->IsOfType<bool>()) {
      continue;
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      return absl::StrCat("--", name, " needs a value");
    }
    // Parsed once more by ParseCommandLine below, to the same value.
    std::string error;
    if (!flag->ParseFrom(value, &error)) {
      return absl::StrCat("--", name, ": ", error);
    }
  }
  return "";
}

const char* SignalName(int signal_number) {
  return signal_number == SIGTERM ? "SIGTERM" : "SIGINT";
}

// Waits up to `timeout` for one of `signals` (blocked in every thread);
// true with its number in `signal_number` if one came.
bool WaitForSignal(const sigset_t& signals, absl::Duration timeout,
                   int& signal_number) {
  const absl::Time end = absl::Now() + timeout;
  while (true) {
    const absl::Duration left = end - absl::Now();
    if (left <= absl::ZeroDuration()) return false;
    const timespec wait = absl::ToTimespec(left);
    const int got = sigtimedwait(&signals, nullptr, &wait);
    if (got > 0) {
      signal_number = got;
      return true;
    }
    // EINTR (another signal) or EAGAIN (timed out): the loop decides.
  }
}

// gRPC core writes its own lines to standard error, in its own format: they
// go to the "grpc" logger instead, so that --log_format=json writes only
// JSON. gRPC's verbosity (GRPC_VERBOSITY, ERROR unless set) still decides
// which lines it produces.
void GrpcLog(gpr_log_func_args* args) {
  spdlog::level::level_enum level = spdlog::level::err;
  if (args->severity == GPR_LOG_SEVERITY_DEBUG) level = spdlog::level::debug;
  if (args->severity == GPR_LOG_SEVERITY_INFO) level = spdlog::level::info;
  dsd::logging::Logger(dsd::logging::kGrpcLogger)
      ->log(level, "{}:{}: {}", args->file != nullptr ? args->file : "?",
            args->line, args->message != nullptr ? args->message : "");
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

  if (const std::string error = FlagError(argc, argv); !error.empty()) {
    std::fprintf(stderr, "dsd-server: %s; see --help\n", error.c_str());
    return 2;
  }
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
  gpr_set_log_function(&GrpcLog);

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
    const std::string& metrics = (*server)->MetricsAddress();
    const bool everywhere = absl::StartsWith(metrics, "0.0.0.0:") ||
                            absl::StartsWith(metrics, "[::]:");
    log->info("metrics on http://{}/metrics{}", metrics,
              everywhere ? " (every interface: anyone who can reach this "
                           "host can read them)"
                         : "");
  }

  int signal_number = 0;
  while (sigwait(&stop_signals, &signal_number) != 0) {
  }
  if (options->lameduck > absl::ZeroDuration()) {
    log->info(
        "received {}; health NOT_SERVING, still serving for {} (lame duck)",
        SignalName(signal_number), absl::FormatDuration(options->lameduck));
    (*server)->EnterLameDuck();
    if (WaitForSignal(stop_signals, options->lameduck, signal_number)) {
      log->info("received {}; ending the lame duck period early",
                SignalName(signal_number));
    }
  }
  log->info("draining: new calls refused, {} in flight get up to {}",
            (*server)->CallsInFlight(),
            absl::FormatDuration(options->shutdown_grace));
  if (!(*server)->Shutdown(options->shutdown_grace)) {
    // The calls were cancelled at the end of the grace period and did not
    // stop: exit without them rather than hold the pod's termination.
    log->error(
        "{} calls still running {} after the grace period; exiting "
        "without them",
        (*server)->CallsInFlight(),
        absl::FormatDuration(dsd::transport::Server::kAbandonAfter));
    spdlog::apply_all(
        [](const std::shared_ptr<spdlog::logger>& l) { l->flush(); });
    std::_Exit(1);
  }
  log->info("stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return Run(argc, argv); }
